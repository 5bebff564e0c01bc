"""The care team sees the agent's history taking in the browser: the complaint, the phase, what is known and
from where, what was just asked; the patient does not."""

import pytest

from agent.turn import run_turn
from tests.support.browser import browser_login
from tests.support.cast import make_clinician, make_patient
from tests.support.scripted_model import Script
from tests.support.turns import client_for, new_turn

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(live_stack_factory, scripted_model):
    return live_stack_factory(scripted_model.base_url, worker=False)


def test_clinician_sees_the_inquiry_state_and_the_patient_does_not(stack, scripted_model, browser_context):
    alice = make_patient()
    carol = make_clinician(patients=(alice,))
    scripted_model.queue(Script(text="I'm sorry. Is it the worst headache you have had? How bad is it?"))
    run_turn(new_turn(alice, "I've had a headache since yesterday").id, client_for(scripted_model))
    path = f"/chat/{alice.conversation.public_id}/"
    page = browser_context.new_page()
    browser_login(page, stack.base_url, carol.username, landing="/patients/")
    page.goto(stack.base_url + path)
    assert page.locator("#inquiry-complaint").inner_text() == "Headache"
    assert page.locator("#inquiry-phase").inner_text() == "inquiry"
    known = page.locator("#inquiry-known tbody tr").all_inner_texts()
    assert known == ["Onset\tI've had a headache since yesterday\tconversation"]
    assert page.locator("#inquiry-asked").inner_text() == "Just asked about: Red-flag screen, Severity"
    assert "Red-flag screen" in page.locator("#inquiry-missing").inner_text()

    patient_page = browser_context.browser.new_context().new_page()
    browser_login(patient_page, stack.base_url, alice.username)
    assert patient_page.locator("#messages .message.agent").count() == 1
    assert patient_page.locator("#inquiry").count() == 0
