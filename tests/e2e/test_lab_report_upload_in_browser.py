"""A patient uploads a photographed lab report in the browser, watches it being read on the perception worker,
sees the values, confirms them; a clinician on the care team verifies them. A damaged file is refused with a
clear message and the chat goes on."""

from __future__ import annotations

import pytest

from fhir.models import StoredResource
from fhir.release import confirmation_of
from perception.models import Upload
from tests.support.browser import browser_login, wait_connected
from tests.support.cast import make_clinician, make_patient
from tests.support.documents import lab_report, phone_photo

pytestmark = pytest.mark.e2e

# Records every status the upload's chat message shows, so the test sees progress, not only the end.
WATCH_UPLOAD = """
() => {
  window.__uploadStates = [];
  new MutationObserver(() => {
    const tag = document.querySelector('li[data-upload] .upload-status');
    if (tag && window.__uploadStates[window.__uploadStates.length - 1] !== tag.textContent)
      window.__uploadStates.push(tag.textContent);
  }).observe(document.getElementById('messages'), {childList: true, subtree: true, characterData: true});
}
"""


@pytest.fixture
def stack(live_stack_factory, scripted_model):
    stack = live_stack_factory(scripted_model.base_url)
    stack.start_perception_worker()
    return stack


def test_a_photographed_lab_report_is_read_confirmed_and_verified(stack, browser_context, tmp_path):
    patient = make_patient()
    clinician = make_clinician(patients=(patient,))
    image, truth = lab_report(tmp_path, seed=3)
    page = browser_context.new_page()
    browser_login(page, stack.base_url, patient.username)
    wait_connected(page)
    page.evaluate(WATCH_UPLOAD)
    page.select_option("#attach-hint", "document")
    page.set_input_files("#attach", files=[{"name": "bloods.jpg", "mimeType": "image/jpeg",
                                             "buffer": phone_photo(image)}])
    page.wait_for_selector('li[data-upload-status="done"]', timeout=180_000)
    states = page.evaluate("window.__uploadStates")
    assert states[-1] == "Read" and len(states) >= 2, states  # progress was shown before the end
    summary = page.locator("li.message.system .text").last.text_content()
    assert "lab result" in summary and "unconfirmed" in summary

    upload = Upload.objects.get(conversation=patient.conversation)
    page.goto(f"{stack.base_url}/uploads/{upload.public_id}/")
    rows = page.locator("#results tbody tr")
    assert rows.count() >= 0.7 * len(truth["fields"]), (rows.count(), truth["fields"])
    assert page.locator("#upload-preview").is_visible()
    page.click("#confirm-patient")
    page.wait_for_selector("#notices")
    assert set(page.locator("#results td.confirmation").all_text_contents()) == {"patient-confirmed"}

    clinician_page = browser_context.browser.new_context().new_page()
    browser_login(clinician_page, stack.base_url, clinician.username, landing="/patients/")
    clinician_page.goto(f"{stack.base_url}/uploads/{upload.public_id}/")
    clinician_page.click("#verify")
    clinician_page.wait_for_selector("#notices")
    assert set(clinician_page.locator("#results td.confirmation").all_text_contents()) == {"clinician-verified"}
    upload.refresh_from_db()
    for fhir_id in upload.result["observations"]:
        stored = StoredResource.objects.get(resource_type="Observation", fhir_id=fhir_id)
        assert confirmation_of(stored.content) == "clinician-verified"


def test_a_damaged_file_is_refused_and_the_chat_goes_on(stack, browser_context):
    patient = make_patient()
    page = browser_context.new_page()
    browser_login(page, stack.base_url, patient.username)
    wait_connected(page)
    page.set_input_files("#attach", files=[{"name": "scan.jpg", "mimeType": "image/jpeg",
                                             "buffer": b"\xff\xd8\xff\xe0" + b"\x00" * 64}])
    page.wait_for_selector("#status.error")
    assert "damaged" in page.locator("#status").text_content()
    assert not Upload.objects.filter(conversation=patient.conversation).exists()
    page.fill("#text", "Hello, are you there?")
    page.click("#send")
    page.wait_for_selector("li.message.agent:not(.streaming)", timeout=60_000)
