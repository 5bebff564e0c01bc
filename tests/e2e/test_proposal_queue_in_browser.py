"""The proposal queue in real browsers: the agent's proposal waits on the clinician's queue, the clinician approves
it with a note, it leaves the queue, and the patient's open chat shows who approved it without a reload."""

from pathlib import Path

import pytest

from agent.tools.base import ToolContext
from agent.tools.propose_to_clinician import handle as propose
from fhir.access import agent_requester
from fhir.store import Repository
from tests.support.browser import browser_login, wait_connected
from tests.support.cast import make_clinician, make_patient

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_a_waiting_proposal_is_approved_in_the_browser(live_stack_factory, browser_context):
    stack = live_stack_factory("http://127.0.0.1:9/v1", worker=False)  # deciding needs no worker and no model
    alice = make_patient(first_name="Alice", last_name="Ashworth")
    carol = make_clinician(patients=(alice,))
    context = ToolContext(alice.fhir_id, Repository(agent_requester(alice.fhir_id), channel="agent"))
    propose(context, {"kind": "test-order", "summary": "Check HbA1c and kidney function",
                      "reason": "Thirsty and passing urine often for two weeks; no HbA1c for over a year"})

    patient = browser_context.browser.new_context().new_page()
    browser_login(patient, stack.base_url, alice.username)
    wait_connected(patient)

    clinician = browser_context.new_page()
    browser_login(clinician, stack.base_url, carol.username, landing="/patients/")
    clinician.click("#proposals-link")
    clinician.wait_for_url(stack.base_url + "/patients/proposals/")
    row = clinician.locator("tr.proposal-row")
    assert row.count() == 1
    assert "Alice Ashworth" in row.inner_text() and "Check HbA1c" in row.inner_text()
    assert "no HbA1c for over a year" in row.locator(".reason").inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    clinician.screenshot(path=str(SCREENSHOTS / "proposals.png"), full_page=True)

    row.locator("input[name=note]").fill("Agreed: bloods this week")
    row.locator("button.approve").click()
    clinician.locator("#no-proposals").wait_for(timeout=10_000)  # it has left the queue
    assert "Proposal approved" in clinician.content()

    told = patient.locator("li.message.system", has_text="approved")
    told.wait_for(timeout=10_000)  # live, no reload
    assert "Check HbA1c" in told.inner_text()
