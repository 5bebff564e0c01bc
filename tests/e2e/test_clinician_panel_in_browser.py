"""The clinician's panel in a real browser: most urgent first, a red flag appears live without a reload, closing
it from the panel, and a clinician outside the care team sees nothing of the patient."""

from pathlib import Path

import pytest

from agent.memory.record import ReportedFact, record_reported_fact
from fhir.access import agent_requester
from fhir.store import Repository
from tests.support.browser import browser_login, wait_connected
from tests.support.cast import make_clinician, make_patient

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_a_red_flag_reaches_the_panel_live_and_is_closed_there(live_stack_factory, browser_context):
    stack = live_stack_factory("http://127.0.0.1:9/v1", worker=False)  # red flags need no worker and no model
    alice, bob = make_patient(first_name="Alice", last_name="Ashworth"), make_patient()
    carol = make_clinician(patients=(alice, bob))
    dave = make_clinician()

    panel = browser_context.new_page()
    browser_login(panel, stack.base_url, carol.username, landing="/patients/")
    rows = panel.locator("tr.panel-row")
    assert rows.count() == 2 and panel.locator("tr.flag-emergency").count() == 0
    marker = panel.evaluate("() => (window.__marker = 'still the same page')")

    patient = browser_context.browser.new_context().new_page()
    browser_login(patient, stack.base_url, alice.username)
    wait_connected(patient)
    patient.fill("#text", "crushing chest pain and I'm sweating")
    patient.click("#send")

    flagged = panel.locator("tr.flag-emergency")
    flagged.wait_for(timeout=15_000)
    assert panel.evaluate("() => window.__marker") == marker  # no reload: the socket brought it
    assert "Alice Ashworth" in rows.first.inner_text()  # the emergency goes to the top
    assert "New emergency red flag" in panel.locator("#alert-banner").inner_text()
    SCREENSHOTS.mkdir(exist_ok=True)
    panel.screenshot(path=str(SCREENSHOTS / "clinician-panel.png"), full_page=True)

    outsider = browser_context.browser.new_context().new_page()
    browser_login(outsider, stack.base_url, dave.username, landing="/patients/")
    assert "Alice" not in outsider.content() and outsider.locator("tr.panel-row").count() == 0

    flagged.locator("button", has_text="Close").click()
    panel.wait_for_url(stack.base_url + "/patients/")
    assert panel.locator("tr.flag-emergency").count() == 0

    # Open her conversation: the record with what the agent recorded, verified in one click.
    record_reported_fact(Repository(agent_requester(alice.fhir_id), channel="agent"), alice.fhir_id,
                         ReportedFact(kind="allergy", text="penicillin"), 0)
    for day, value in enumerate((3.1, 3.3, 3.6), start=1):
        Repository(agent_requester(alice.fhir_id), channel="agent").create({
            "resourceType": "Observation", "status": "final", "subject": {"reference": f"Patient/{alice.fhir_id}"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}], "text": "Potassium"},
            "effectiveDateTime": f"2026-11-0{day}T09:00:00Z", "valueQuantity": {"value": value, "unit": "mmol/L"},
            "referenceRange": [{"low": {"value": 3.5}, "high": {"value": 5.1}}]})
    panel.click("a:has-text('Alice Ashworth')")
    panel.wait_for_function("() => { const c = document.querySelector('canvas[data-series-id]');"
                            " return c && window.Chart && Chart.getChart(c) !== undefined; }")
    assert panel.evaluate("() => Chart.getChart(document.querySelector('canvas[data-series-id]'))"
                          ".data.datasets.length") == 3  # the values and the two reference lines
    allergy = panel.locator("li.record-item[data-type='AllergyIntolerance']")
    assert "unconfirmed" in allergy.inner_text()
    panel.screenshot(path=str(SCREENSHOTS / "patient-record.png"), full_page=True)
    allergy.locator("button", has_text="Verify").click()
    panel.locator("li.record-item[data-type='AllergyIntolerance'] .level-clinician-verified").wait_for()
