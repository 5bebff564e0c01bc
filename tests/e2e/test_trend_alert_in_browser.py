"""A reading typed in the patient's chat reaches the clinician's panel as a trend alert: the live worker records it
as an Observation, the trend rule raises a Flag, and the open panel shows it without a reload."""

import pytest

from tests.support.browser import browser_login, wait_connected
from tests.support.cast import make_clinician, make_patient
from tests.support.scripted_model import Script

pytestmark = pytest.mark.e2e


def test_a_low_oxygen_reading_in_chat_appears_on_the_panel(live_stack_factory, scripted_model, browser_context):
    stack = live_stack_factory(scripted_model.base_url)
    alice = make_patient(first_name="Alice", last_name="Ashworth")
    carol = make_clinician(patients=(alice,))
    scripted_model.queue(Script(text="Thank you. Are you more breathless than usual today?"))

    panel = browser_context.new_page()
    browser_login(panel, stack.base_url, carol.username, landing="/patients/")
    marker = panel.evaluate("() => (window.__marker = 'still the same page')")

    patient = browser_context.browser.new_context().new_page()
    browser_login(patient, stack.base_url, alice.username)
    wait_connected(patient)
    patient.fill("#text", "My sats this morning were 89%")
    patient.click("#send")

    flag = panel.locator(".flag", has_text="Oxygen saturation 89%")
    flag.wait_for(timeout=30_000)  # the worker recorded it and the rule fired; the socket brought it
    assert panel.evaluate("() => window.__marker") == marker
    assert "below 92%" in flag.inner_text()
