"""Citation markers in agent replies show as numbered links in the browser, in the history and while streaming,
and open the cited passage in a new tab."""

import asyncio
import threading

import numpy
import pytest

from agent.evidence.corpus import Passage, passage_id
from tests.support.browser import browser_login, wait_connected
from tests.support.cast import make_patient
from webapp.chat.models import Author, Message

pytestmark = pytest.mark.e2e

FIRST, SECOND = passage_id("x/y", "", 0), passage_id("x/y", "", 1)
TITLE = "Global Strategy for Asthma Management"
CITATIONS = "li.message.agent .text sup.citation a"


def passage(citation_id: str, text: str) -> Passage:
    return Passage(id=citation_id, text=text, title=TITLE, section_key="x/y", section_path="Track 1 > Step 1",
                   organisation="GINA", year=2024, evidence_type="guideline", doi="10.1000/gina.2024",
                   url="https://doi.org/10.1000/gina.2024", source="open-medicine 0.12.0",
                   licence="MIT (open-medicine)", recognised=True)


@pytest.fixture
def stack(live_stack_factory, scripted_model, tmp_path):
    from agent.evidence.index_local import LocalIndex

    path = tmp_path / "evidence.sqlite3"
    LocalIndex(path).upsert([passage(FIRST, "Use ICS-formoterol as needed."), passage(SECOND, "Step up to Step 2.")],
                            numpy.zeros((2, 384), dtype="float32"))
    return live_stack_factory(scripted_model.base_url, worker=False, EVIDENCE_INDEX_PATH=str(path),
                              ELASTICSEARCH_URL="")


def send_events(redis_url: str, group: str, *events: dict) -> None:
    """What a running turn sends the conversation's tabs, through the stack's own Redis."""
    from channels_redis.core import RedisChannelLayer

    async def send() -> None:
        layer = RedisChannelLayer(hosts=[redis_url])
        for event in events:
            await layer.group_send(group, {"type": "conversation.event", "event": event})
        await layer.close_pools()

    # In a thread of its own: Playwright keeps an event loop in this one.
    thread = threading.Thread(target=asyncio.run, args=(send(),))
    thread.start()
    thread.join(timeout=10)


def test_agent_citations_are_links_to_the_cited_passage(stack, browser_context):
    patient = make_patient()
    convo = patient.conversation
    Message.objects.create(conversation=convo, author=Author.PATIENT, text=f"Is [{FIRST}] right?")
    Message.objects.create(conversation=convo, author=Author.AGENT,
                           text=f"Use ICS-formoterol as needed [{FIRST}]. If not enough, step up [{SECOND}][{FIRST}].")
    page = browser_context.new_page()
    browser_login(page, stack.base_url, patient.username)
    wait_connected(page)

    # The history: numbered by first appearance, the same source keeps its number; the patient's text stays text.
    links = page.locator(CITATIONS)
    assert links.all_inner_texts() == ["[1]", "[2]", "[1]"]
    assert [links.nth(i).get_attribute("href") for i in range(3)] == [f"/evidence/{FIRST}/", f"/evidence/{SECOND}/",
                                                                      f"/evidence/{FIRST}/"]
    assert links.first.get_attribute("title") == "Source" and links.first.get_attribute("target") == "_blank"
    assert page.locator("li.message.patient .text").inner_text() == f"Is [{FIRST}] right?"
    assert page.locator("li.message.patient a").count() == 0

    # Streaming: a marker split across deltas stays plain text until it is complete, then becomes a link.
    turn = 10**9
    head, tail = f"See [{SECOND[:6]}", f"{SECOND[6:]}] and [{FIRST}]."
    send_events(stack.env["REDIS_URL"], convo.group_name,
                {"type": "turn.delta", "turn": turn, "offset": 0, "text": head})
    streaming = page.locator("li.message.streaming .text")
    streaming.wait_for()
    page.wait_for_function("(t) => document.querySelector('li.message.streaming .text').textContent === t", arg=head)
    assert streaming.locator("a").count() == 0
    send_events(stack.env["REDIS_URL"], convo.group_name,
                {"type": "turn.delta", "turn": turn, "offset": len(head), "text": tail})
    page.wait_for_function("() => document.querySelectorAll('li.message.streaming .text a').length === 2")
    assert streaming.locator("a").all_inner_texts() == ["[1]", "[2]"]
    assert streaming.inner_text() == "See [1] and [2]."

    # The stored reply replaces the streamed text, numbered the same way.
    reply = Message.objects.create(conversation=convo, author=Author.AGENT, text=head + tail)
    send_events(stack.env["REDIS_URL"], convo.group_name, {**reply.as_event(), "turn": turn})
    page.wait_for_selector(f'li.message.agent[data-id="{reply.id}"] .text a')
    assert page.locator("li.message.streaming").count() == 0
    final = page.locator(f'li.message.agent[data-id="{reply.id}"] .text a')
    assert final.all_inner_texts() == ["[1]", "[2]"]
    assert final.first.get_attribute("href") == f"/evidence/{SECOND}/"

    # A link opens the passage, with its document's title, in a new tab.
    with browser_context.expect_page() as opened:
        links.nth(1).click()
    cited = opened.value
    cited.wait_for_load_state()
    assert cited.url == stack.base_url + f"/evidence/{SECOND}/"
    assert cited.locator("#evidence-title").inner_text() == TITLE
    assert cited.locator("#evidence-text").inner_text() == "Step up to Step 2."
