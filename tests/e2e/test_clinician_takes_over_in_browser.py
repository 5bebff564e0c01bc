"""Human in the loop in real browsers: the clinician takes the chat over and replies, the patient sees it live and
the agent stays silent; handed back, the agent answers again, and the patient marks that answer as wrong."""

from pathlib import Path

import pytest

from tests.support.browser import browser_login, wait_connected
from tests.support.cast import make_clinician, make_patient
from tests.support.scripted_model import Script

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_take_over_reply_and_hand_back(live_stack_factory, scripted_model, browser_context):
    stack = live_stack_factory(scripted_model.base_url)
    alice = make_patient()
    carol = make_clinician(patients=(alice,))

    clinician = browser_context.new_page()
    browser_login(clinician, stack.base_url, carol.username, landing="/patients/")
    clinician.goto(f"{stack.base_url}/chat/{alice.conversation.public_id}/")
    clinician.click("#take-over")
    clinician.locator("#taken-over").wait_for()

    patient = browser_context.browser.new_context().new_page()
    browser_login(patient, stack.base_url, alice.username)
    wait_connected(patient)
    assert "has joined the conversation" in patient.locator("li.message.system").last.inner_text()

    clinician.fill("#clinician-text", "Hi Alice, it's your nurse. How is the knee today?")
    clinician.click("#clinician-send")
    patient.locator("li.message.clinician").wait_for(timeout=10_000)  # arrives live, no reload
    assert "How is the knee" in patient.locator("li.message.clinician").inner_text()

    patient.fill("#text", "Still sore when I climb stairs")
    patient.click("#send")
    patient.wait_for_timeout(2_000)
    assert patient.locator("li.message.agent").count() == 0  # the agent stays silent while a human has it
    assert scripted_model.reply_requests == []
    SCREENSHOTS.mkdir(exist_ok=True)
    clinician.reload()
    clinician.screenshot(path=str(SCREENSHOTS / "clinician-takes-over.png"), full_page=True)

    clinician.click("#hand-back")
    clinician.locator("#take-over").wait_for()
    scripted_model.queue(Script(text="Thanks. Does the knee swell after you climb stairs?"))
    patient.fill("#text", "Back to the assistant then")
    patient.click("#send")
    patient.locator("li.message.agent").wait_for(timeout=30_000)
    assert "swell" in patient.locator("li.message.agent").inner_text()

    # The patient thinks the answer is wrong and says so; the care team sees it.
    patient.once("dialog", lambda dialog: dialog.accept("It's my ankle, not my knee"))
    patient.click("li.message.agent button.report")
    patient.locator("li.message.agent[data-reported='true']").wait_for(timeout=10_000)
    clinician.goto(f"{stack.base_url}/patients/")
    assert "1 marked wrong" in clinician.locator("tr.panel-row").inner_text()
