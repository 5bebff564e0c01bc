"""With no worker and no model running, an emergency still gets its reply in the browser at once."""

import pytest

from tests.support.browser import browser_login, wait_connected
from tests.support.cast import make_patient

pytestmark = pytest.mark.e2e


def test_emergency_reply_arrives_without_worker_or_model(live_stack_factory, browser_context):
    stack = live_stack_factory("http://127.0.0.1:9/v1", worker=False)  # nothing listens there
    patient = make_patient(country="US")
    page = browser_context.new_page()
    browser_login(page, stack.base_url, patient.username)
    wait_connected(page)
    page.fill("#text", "my dad's face is drooping and his speech is slurred")
    page.click("#send")
    reply = page.locator("li.message.system .text").first  # the care team's alert notice may follow it
    reply.wait_for(timeout=10_000)
    assert "Call 911 now" in reply.inner_text()
