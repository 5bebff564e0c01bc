"""An alert reaches a person and is acknowledged, with real processes and a real browser: a red flag raised in the
patient's browser is emailed by the live worker (the file mail backend), the patient is told who was alerted, and
the clinician acknowledges it on the panel, where the acknowledgement shows."""

from pathlib import Path

import pytest

from tests.support.browser import browser_login, wait_connected
from tests.support.cast import make_clinician, make_patient
from webapp.alerts.models import Alert, AlertStatus

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_a_red_flag_is_emailed_and_acknowledged_on_the_panel(live_stack_factory, browser_context):
    stack = live_stack_factory("http://127.0.0.1:9/v1")  # the worker sends the email; red flags need no model
    alice = make_patient(first_name="Alice", last_name="Ashworth")
    carol = make_clinician(patients=(alice,))
    carol.first_name, carol.last_name = "Carol", "Chen"
    carol.save(update_fields=["first_name", "last_name"])

    panel = browser_context.new_page()
    browser_login(panel, stack.base_url, carol.username, landing="/patients/")
    patient = browser_context.browser.new_context().new_page()
    browser_login(patient, stack.base_url, alice.username)
    wait_connected(patient)
    patient.fill("#text", "crushing chest pain and I'm sweating")
    patient.click("#send")

    # The patient is told, live, who has been alerted.
    patient.locator("#messages li", has_text="I have alerted Carol Chen from your care team").wait_for(
        timeout=15_000)
    # The live worker sends the email through Django's file backend (var/mail of the stack).
    mail_dir = stack.workdir / "mail"
    for _ in range(150):  # up to 30 s for the worker
        # A file appears before its message is written into it: wait for the whole message.
        sent = [t for t in (p.read_text() for p in mail_dir.glob("*.log")) if "/alerts/ack/" in t] \
            if mail_dir.exists() else []
        if sent:
            break
        panel.wait_for_timeout(200)
    assert sent, stack.logs()
    assert carol.email in sent[0]

    flagged = panel.locator("tr.flag-emergency")
    flagged.wait_for(timeout=15_000)
    flagged.locator("button", has_text="Acknowledge").click()
    panel.wait_for_url(stack.base_url + "/patients/")
    acknowledged = panel.locator("tr.flag-emergency .acknowledged")
    assert "acknowledged by Carol Chen" in acknowledged.inner_text()
    assert panel.locator("tr.flag-emergency button", has_text="Acknowledge").count() == 0
    SCREENSHOTS.mkdir(exist_ok=True)
    panel.screenshot(path=str(SCREENSHOTS / "alert-acknowledged.png"), full_page=True)

    alert = Alert.objects.get(patient=alice)
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == carol
