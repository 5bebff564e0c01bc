"""A patient chats in a real browser with the real CPU model, over the real stack."""

import re

import pytest

from tests.support.browser import WATCH_STREAM, browser_login, wait_connected
from tests.support.cast import make_patient
from webapp.chat.models import Author, Message

pytestmark = pytest.mark.e2e


QUESTION = ("I have had a dry cough for three days, no fever or breathing problems. I'm otherwise healthy and take "
            "no medicines. Should I be worried?")


def test_patient_sees_the_reply_stream_in_two_tabs_and_history_after_reload(real_model, live_stack_factory,
                                                                         browser_context):
    stack = live_stack_factory(real_model.base_url, MODEL_MAX_TOKENS="80")
    patient = make_patient()
    tab1 = browser_context.new_page()
    browser_login(tab1, stack.base_url, patient.username)
    tab2 = browser_context.new_page()  # same session, second tab
    tab2.goto(stack.base_url + "/chat/")
    for tab in (tab1, tab2):
        wait_connected(tab)
        tab.evaluate(WATCH_STREAM)

    # The whole minimum history for a cough, so the reply streams token by token (while a history is still
    # being taken, text is released a sentence at a time: tests/test_inquiry_takes_the_history.py).
    tab1.fill("#text", QUESTION)
    tab1.click("#send")
    for tab in (tab1, tab2):
        tab.wait_for_selector("li.message.agent[data-id]", timeout=180_000)

    reply = Message.objects.get(conversation=patient.conversation, author=Author.AGENT)
    assert reply.text
    for tab in (tab1, tab2):
        shown = tab.locator("li.message.agent .text").last.inner_text()
        assert as_shown(shown) == as_shown(reply.text)
        partials = [e["partial"] for e in tab.evaluate("window.__stream") if e["partial"] and not e["done"]]
        # Text is released one checked sentence at a time (docs/evidence.md), the last one with the stored
        # reply: a reply of several sentences arrives in steps, each before the reply was complete.
        if len(re.findall(r"[.!?](?:\s|$)", reply.text.strip())) >= 3:
            assert partials, (reply.text, tab.evaluate("window.__stream"))
            assert min(len(p) for p in partials) < len(reply.text)
    # The patient's message shows once in each tab (echoed to tab2 by the server).
    assert tab2.locator("li.message.patient").count() == 1

    tab1.reload()
    texts = tab1.locator("li.message .text").all_inner_texts()
    assert texts[0] == QUESTION
    assert as_shown(texts[1]) == as_shown(reply.text)


def as_shown(text: str) -> str:
    """Citations are stored as [ev-...] and shown as numbered links [1]: compare the words around them."""
    return re.sub(r"\s*\[(?:ev-[0-9a-f]{10}|\d+)\]", "", text).strip()
