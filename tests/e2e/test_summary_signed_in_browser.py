"""Edit and sign a summary in real browsers: the patient's consultation reaches advice and the worker drafts the SOAP
summary; the clinician opens it from the conversation, edits a section, signs and releases it; the patient is told
in their chat and reads it on their summaries page."""

import time
from pathlib import Path

import pytest

from agent.memory.summaries import EPISODE_SYSTEM
from fhir.access import SYSTEM
from fhir.store import Repository
from tests.support.browser import browser_login, wait_connected
from tests.support.cast import make_clinician, make_patient
from tests.support.scripted_model import Script

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
FULL_HISTORY = ("Headache since yesterday, throbbing, 6 out of 10, no stiff neck or vision problems, "
                "I have taken nothing for it.")


def drafts_of(patient) -> list[dict]:
    return Repository(SYSTEM).search("Composition", [("subject", f"Patient/{patient.fhir_id}"),
                                                     ("identifier", f"{EPISODE_SYSTEM}|")]).matches


def wait_for_draft(patient, seconds: float = 30) -> dict:
    """The worker writes the draft just after the reply: poll the shared database until it is there."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = drafts_of(patient)
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError("no draft summary was written")


def test_edit_sign_and_release_a_summary(live_stack_factory, scripted_model, browser_context):
    stack = live_stack_factory(scripted_model.base_url)
    alice = make_patient()
    carol = make_clinician(patients=(alice,))

    patient = browser_context.new_page()
    browser_login(patient, stack.base_url, alice.username)
    wait_connected(patient)
    scripted_model.queue(Script(text="It sounds like a tension headache. Rest and drink water."))
    patient.fill("#text", FULL_HISTORY)
    patient.click("#send")
    patient.locator("li.message.agent").wait_for(timeout=30_000)
    draft = wait_for_draft(alice)
    assert draft["status"] == "preliminary"

    clinician = browser_context.browser.new_context().new_page()
    browser_login(clinician, stack.base_url, carol.username, landing="/patients/")
    clinician.goto(f"{stack.base_url}/chat/{alice.conversation.public_id}/")
    clinician.click("#summaries-link")
    clinician.click(f"li.summary-item[data-id='{draft['id']}'] a")
    assert clinician.locator("#summary-status").inner_text() == "Draft"
    assert "Headache" in clinician.locator("#section-subjective").input_value()
    clinician.fill("#section-assessment", "Tension-type headache, no red flags on screening.")
    clinician.click("#sign-summary")
    clinician.locator("#summary[data-status='final']").wait_for()
    assert carol.username in clinician.locator("#signed-by").inner_text()
    assert clinician.locator("#release-summary").count() == 1

    # Signed but not released: the patient's page has nothing yet.
    reader = patient.context.new_page()
    reader.goto(f"{stack.base_url}/care/summaries/")
    assert reader.locator("#no-summaries").count() == 1

    clinician.click("#release-summary")
    clinician.locator("#released").wait_for()
    SCREENSHOTS.mkdir(exist_ok=True)
    clinician.screenshot(path=str(SCREENSHOTS / "summary.png"), full_page=True)

    # The patient is told in their open chat, live, and reads the signed text.
    patient.locator("li.message.system", has_text="shared a summary").wait_for(timeout=10_000)
    reader.goto(f"{stack.base_url}/care/summaries/")
    article = reader.locator(f"#summary-{draft['id']}")
    assert "Tension-type headache, no red flags on screening." in article.inner_text()
    assert f"signed by {carol.username}" in article.inner_text()
