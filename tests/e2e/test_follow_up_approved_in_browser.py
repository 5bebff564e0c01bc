"""Approving a follow-up in real browsers: the agent proposed a check-in, a clinician approves it in Chromium, the
clock moves to its due time (CONTINUUM_CLOCK_FILE, read by the live beat: nothing sleeps until then), the live beat
sends it into the patient's open chat, and the patient's reply answers it."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fhir.models import StoredResource
from tests.support.browser import browser_login, wait_connected
from tests.support.cast import make_clinician, make_patient
from webapp.actions.followup import check_in_kind, do_propose_plan
from webapp.followup.resources import due_of

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
QUESTION = "What was your blood pressure this morning?"


def set_clock(path: Path, instant: datetime) -> None:
    path.write_text(instant.isoformat())


def test_a_clinician_approves_a_follow_up_and_the_check_in_arrives_on_time(live_stack_factory, scripted_model,
                                                                          browser_context, tmp_path, monkeypatch):
    clock_file = tmp_path / "clock"
    start = datetime.now(UTC).replace(microsecond=0)
    set_clock(clock_file, start)
    monkeypatch.setenv("CONTINUUM_CLOCK_FILE", str(clock_file))  # this process and the live ones share the clock
    stack = live_stack_factory(scripted_model.base_url, CONTINUUM_CLOCK_FILE=str(clock_file),
                               CHECKIN_INTERVAL_SECONDS="1")
    alice = make_patient(time_zone="America/New_York")
    carol = make_clinician(patients=(alice,))
    proposal = do_propose_plan(alice, [check_in_kind(alice, "blood pressure", QUESTION, 2)],
                               "Blood pressure after the new dose")  # as the agent does outside a plan

    clinician = browser_context.new_page()
    browser_login(clinician, stack.base_url, carol.username, landing="/patients/")
    clinician.goto(f"{stack.base_url}/follow-up/")
    clinician.click(f"tr.plan-draft[data-id='{proposal['id']}'] a")
    clinician.fill("#id_a0-hour", "10")  # the clinician edits the schedule: 10:00 on the patient's clock
    clinician.click("#approve")
    clinician.locator("#plan-status", has_text="active").wait_for()
    assert clinician.locator("tr.check-in-ready").count() == 1
    assert ", 10:00 E" in clinician.locator("tr.check-in-ready td").first.inner_text()  # EST or EDT

    patient = browser_context.browser.new_context().new_page()
    browser_login(patient, stack.base_url, alice.username)
    wait_connected(patient)
    patient.goto(f"{stack.base_url}/care/check-ins/")
    assert QUESTION in patient.locator("#upcoming").inner_text()
    patient.goto(f"{stack.base_url}/chat/")
    wait_connected(patient)
    patient.wait_for_timeout(2_000)  # several beats run: nothing is due yet
    assert patient.locator("li.message.agent").count() == 0

    [task] = [r.content for r in StoredResource.objects.filter(resource_type="Task", patient_id=alice.fhir_id)]
    set_clock(clock_file, due_of(task) + timedelta(seconds=30))
    patient.locator("li.message.agent", has_text=QUESTION).wait_for(timeout=20_000)  # live, no reload
    patient.wait_for_timeout(2_000)
    assert patient.locator("li.message.agent").count() == 1  # sent once, however many beats ran

    patient.fill("#text", "It was 135 over 85")
    patient.click("#send")
    answered = clinician.locator("tr.check-in-completed", has_text="It was 135 over 85")
    for _ in range(40):  # the page is server-rendered: read it again until the answer is recorded
        clinician.reload()
        if answered.count():
            break
        clinician.wait_for_timeout(250)
    assert answered.count() == 1
    SCREENSHOTS.mkdir(exist_ok=True)
    clinician.screenshot(path=str(SCREENSHOTS / "follow-up.png"), full_page=True)
