"""A flag reaches a person even when no dashboard is open: an alert per Flag, delivered by a worker (email through
Django's mail settings, a signed webhook to a real local HTTP server, retried when it fails), acknowledged by a
clinician on the care team (panel button or signed email link), escalated along the care-team chain and then to
the fallback when nobody acknowledges it in time (the controllable clock, no sleeping), stopped by acknowledgement
or closing the flag; the patient is told who was alerted, and out of hours their emergency number."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client

from agent.safety.rules import Level
from agent.safety.triage import TriageResult
from fhir.access import requester_for_user
from fhir.models import StoredResource
from fhir.store import Repository
from tests.support.cast import PASSWORD, make_clinician, make_patient
from webapp import clock
from webapp.actions import alerts as alert_actions
from webapp.actions.alerts import do_escalate_alerts
from webapp.actions.dashboard import do_close_flag
from webapp.actions.flags import do_raise_red_flag
from webapp.actions.messages import do_send_patient_message
from webapp.alerts.models import Alert, AlertContact, AlertStatus, ChainRank, Delivery, DeliveryStatus
from webapp.alerts.record import ACK_EXTENSION
from webapp.alerts.tasks import deliver_alert
from webapp.chat.models import Author, Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]

CHEST_PAIN = "crushing chest pain and I'm sweating"
# A Wednesday: 10:00 in London (GMT in March) is clinic time; 05:00 in New York is not.
WEDNESDAY_10_UTC = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def now():
    clock.set_now(WEDNESDAY_10_UTC)
    yield WEDNESDAY_10_UTC
    clock.set_now(None)


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """The deliveries handed to the broker (after commit); each test then runs the real task on them."""
    ids: list[int] = []
    monkeypatch.setattr(alert_actions, "enqueue_delivery", lambda delivery_id, countdown=0: ids.append(delivery_id))
    return ids


@pytest.fixture(autouse=True)
def alert_settings(settings):
    settings.ALERT_CHANNELS = ["email", "webhook"]
    settings.ALERT_WEBHOOK_SECRET = "test-webhook-secret"
    settings.ALERT_FALLBACK_EMAIL = ""
    settings.ALERT_FALLBACK_WEBHOOK_URL = ""
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 3
    settings.ALERT_LINK_BASE_URL = "http://testserver"
    settings.EMERGENCY_ACK_MINUTES = 15
    settings.CLINIC_OPENS_HOUR, settings.CLINIC_CLOSES_HOUR = 8, 18
    settings.CLINIC_DAYS = ["mon", "tue", "wed", "thu", "fri"]
    return settings


class Webhook:
    """A real HTTP server on a free local port: records every request, answers with the next scripted status."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.requests = list(statuses), []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.requests.append((dict(self.headers), body))
                status = owner.statuses.pop(0) if len(owner.statuses) > 1 else owner.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/page"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_factory():
    servers: list[Webhook] = []

    def start(*statuses: int) -> Webhook:
        servers.append(Webhook(list(statuses)))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def run_deliveries(ids: list[int]) -> None:
    """What a worker does with the queued deliveries (retries run at once under apply())."""
    while ids:
        deliver_alert.apply(args=[ids.pop(0)]).get()


def raise_emergency(patient) -> Alert:
    do_send_patient_message(patient, patient.conversation, CHEST_PAIN)
    return Alert.objects.get(patient=patient)


def test_an_emergency_is_emailed_by_a_worker_and_acknowledged_from_the_link(cast, now, enqueued):
    alice, carol = cast["alice"], cast["carol"]
    alert = raise_emergency(alice)
    assert (alert.level, alert.status, alert.step) == ("emergency", AlertStatus.OPEN, 0)
    assert alert.next_escalation_at == now + timedelta(minutes=15)
    delivery = Delivery.objects.get(alert=alert)
    assert (delivery.recipient, delivery.channel, delivery.address) == (carol, "email", "carol@example.org")
    assert mail.outbox == [] and enqueued == [delivery.id]  # queued after commit, never sent on the message path

    run_deliveries(enqueued)
    [email] = mail.outbox
    assert email.to == ["carol@example.org"] and "EMERGENCY alert for alice" in email.subject
    assert "chest pain" in email.body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.sent_at) == (DeliveryStatus.SENT, 1, now)

    link = re.search(r"http://testserver(/alerts/ack/\S+)", email.body).group(1)
    assert Client().get(link).status_code == 302  # the login comes first
    page = logged_in(carol).get(link)
    assert page.status_code == 200 and "acknowledged by carol" in page.content.decode()
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by, alert.acknowledged_at) == (AlertStatus.ACKNOWLEDGED, carol, now)
    assert alert.next_escalation_at is None

    flag = Repository(requester_for_user(carol), channel="app").read("Flag", alert.flag_id)
    [ack] = [e for e in flag["extension"] if e["url"] == ACK_EXTENSION]
    parts = {part["url"]: part for part in ack["extension"]}
    assert parts["by"]["valueReference"]["reference"] == f"Practitioner/{carol.fhir_id}"
    assert datetime.fromisoformat(parts["at"]["valueDateTime"]) == now
    updates = [row.content for row in StoredResource.objects.filter(resource_type="AuditEvent")
               if row.content["subtype"][0]["code"] == "update"
               and any(e.get("what", {}).get("reference", "").startswith(f"Flag/{alert.flag_id}")
                       for e in row.content.get("entity", []))]
    assert [e["agent"][0]["who"]["reference"] for e in updates] == [f"Practitioner/{carol.fhir_id}"]

    clock.set_now(now + timedelta(hours=1))
    assert do_escalate_alerts() == [] and Delivery.objects.filter(alert=alert).count() == 1


def test_the_patient_is_told_who_was_alerted_without_repeating_the_triage_reply(cast, now, enqueued):
    alice = cast["alice"]
    raise_emergency(alice)
    triage_reply, notice = Message.objects.filter(conversation=alice.conversation, author=Author.SYSTEM)
    assert "Call 999 now, or have someone take you to the nearest emergency department." in triage_reply.text
    assert notice.text == "I have alerted carol from your care team."  # in hours; the reply said the rest


def test_out_of_hours_the_patient_is_told_nobody_may_read_it_and_their_emergency_number(db, now, enqueued):
    # Tuesday 22:00 in New York.
    clock.set_now(datetime(2026, 3, 4, 3, 0, tzinfo=UTC))
    bob = make_patient(first_name="Bob", country="US", time_zone="America/New_York")
    erin = make_clinician("erin", (bob,))
    erin.first_name, erin.last_name = "Erin", "Ellis"
    erin.save(update_fields=["first_name", "last_name"])
    raise_emergency(bob)
    notice = Message.objects.filter(conversation=bob.conversation, author=Author.SYSTEM).last()
    assert notice.text == ("I have alerted Erin Ellis from your care team. It is outside clinic hours, so nobody "
                           "may read this until 08:00 tomorrow. If you need help before then, call 911.")

    # Friday 23:00 in New York: the clinic opens on Monday.
    clock.set_now(datetime(2026, 3, 7, 4, 0, tzinfo=UTC))
    flag = {"id": "weekend-flag", "code": {"text": "Weight up 2.5 kg in 3 days"}}
    from webapp.actions.flags import notify_care_team

    notify_care_team(bob, flag, {"type": "alert.trend", "level": "urgent"})
    notice = Message.objects.filter(conversation=bob.conversation, author=Author.SYSTEM).last()
    assert "until 08:00 on Monday. If you need help before then, call 911." in notice.text


def test_notifying_twice_about_one_flag_alerts_once(cast, now, enqueued):
    alice = cast["alice"]
    message = Message.objects.create(conversation=alice.conversation, author=Author.PATIENT, text=CHEST_PAIN)
    triage = TriageResult(Level.EMERGENCY, ["chest pain with sweating"])
    first, second = do_raise_red_flag(message, triage), do_raise_red_flag(message, triage)
    assert first["id"] == second["id"]
    assert Alert.objects.filter(flag_id=first["id"]).count() == 1
    assert Delivery.objects.count() == 1 and len(enqueued) == 1
    assert Message.objects.filter(conversation=alice.conversation, author=Author.SYSTEM).count() == 1


def test_a_webhook_is_signed_retried_after_a_failure_and_verifiable(db, now, enqueued, webhook_factory):
    gateway = webhook_factory(503, 200)
    alice = make_patient(first_name="Alice")
    carol = make_clinician("carol", (alice,))
    AlertContact.objects.create(clinician=carol, channel="webhook", address=gateway.url)
    alert = raise_emergency(alice)
    run_deliveries(enqueued)

    delivery = Delivery.objects.get(alert=alert)
    assert (delivery.channel, delivery.status, delivery.attempts) == ("webhook", DeliveryStatus.SENT, 2)
    assert len(gateway.requests) == 2 and mail.outbox == []  # only the webhook: she chose it
    headers, body = gateway.requests[-1]
    expected = hmac.new(b"test-webhook-secret", headers["X-Continuum-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Continuum-Signature"], f"sha256={expected}")
    payload = json.loads(body)
    assert payload["flag"] == f"Flag/{alert.flag_id}" and payload["level"] == "emergency"
    assert payload["recipient"]["username"] == "carol"
    assert urlsplit(payload["acknowledge_url"]).path.startswith("/alerts/ack/")


def test_a_channel_that_keeps_failing_is_given_up_and_the_chain_moves_on(db, now, enqueued, webhook_factory):
    gateway = webhook_factory(500)
    alice = make_patient()
    carol = make_clinician("carol", (alice,))
    erin = make_clinician("erin", (alice,))
    AlertContact.objects.create(clinician=carol, channel="webhook", address=gateway.url)
    alert = raise_emergency(alice)
    run_deliveries(enqueued)

    delivery = Delivery.objects.get(alert=alert)
    assert (delivery.status, delivery.attempts, len(gateway.requests)) == (DeliveryStatus.FAILED, 3, 3)
    assert "500" in delivery.last_error
    alert.refresh_from_db()
    assert alert.next_escalation_at == now  # no need to wait out the window for someone no message reached
    assert do_escalate_alerts() == [alert.id]
    assert Delivery.objects.get(alert=alert, step=1).recipient == erin


def test_unacknowledged_alerts_escalate_along_the_chain_then_to_the_fallback(cast, now, enqueued, settings):
    settings.ALERT_FALLBACK_EMAIL = "on-call@example.org"
    alice, carol = cast["alice"], cast["carol"]
    erin = make_clinician("erin", (alice,))  # joined after carol: second on the chain
    alert = raise_emergency(alice)
    run_deliveries(enqueued)

    clock.set_now(now + timedelta(minutes=14))
    assert do_escalate_alerts() == []
    clock.set_now(now + timedelta(minutes=15))
    assert do_escalate_alerts() == [alert.id]
    run_deliveries(enqueued)
    assert [m.to for m in mail.outbox] == [[carol.email], [erin.email]]
    assert "escalated" in mail.outbox[1].body

    clock.set_now(now + timedelta(minutes=30))
    assert do_escalate_alerts() == [alert.id]
    run_deliveries(enqueued)
    assert mail.outbox[2].to == ["on-call@example.org"]
    alert.refresh_from_db()
    assert (alert.step, alert.status, alert.next_escalation_at) == (2, AlertStatus.EXHAUSTED, None)
    clock.set_now(now + timedelta(hours=5))
    assert do_escalate_alerts() == [] and len(mail.outbox) == 3


def test_the_chain_follows_ranks_before_join_order(cast, now, enqueued):
    alice, carol = cast["alice"], cast["carol"]
    erin = make_clinician("erin", (alice,))
    ChainRank.objects.create(membership=erin.care_team_patients.get(patient=alice), rank=1)
    alert = raise_emergency(alice)
    assert Delivery.objects.get(alert=alert).recipient == erin
    clock.set_now(now + timedelta(minutes=15))
    do_escalate_alerts()
    assert Delivery.objects.get(alert=alert, step=1).recipient == carol


def test_acknowledging_on_the_panel_stops_escalation(cast, now, enqueued):
    alice, carol = cast["alice"], cast["carol"]
    make_clinician("erin", (alice,))
    alert = raise_emergency(alice)
    client = logged_in(carol)
    panel = client.get("/patients/").content.decode()
    assert f'action="/alerts/flags/{alert.flag_id}/acknowledge"' in panel
    clock.set_now(now + timedelta(minutes=3))
    assert client.post(f"/alerts/flags/{alert.flag_id}/acknowledge").status_code == 302
    assert "acknowledged by carol at 2026-03-04T10:03" in client.get("/patients/").content.decode()
    run_deliveries(enqueued)
    assert Delivery.objects.get(alert=alert).status == DeliveryStatus.CANCELLED  # not sent: already seen

    clock.set_now(now + timedelta(minutes=20))
    assert do_escalate_alerts() == []
    assert not Delivery.objects.filter(alert=alert, step=1).exists()


def test_closing_the_flag_stops_escalation(cast, now, enqueued):
    alice, carol = cast["alice"], cast["carol"]
    make_clinician("erin", (alice,))
    alert = raise_emergency(alice)
    do_close_flag(carol, alert.flag_id)
    clock.set_now(now + timedelta(minutes=20))
    assert do_escalate_alerts() == []
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CLOSED and not Delivery.objects.filter(alert=alert, step=1).exists()


def test_only_the_care_team_acknowledges(cast, now, enqueued):
    alice, dave, bob = cast["alice"], cast["dave"], cast["bob"]
    alert = raise_emergency(alice)
    run_deliveries(enqueued)
    link = re.search(r"http://testserver(/alerts/ack/\S+)", mail.outbox[0].body).group(1)
    assert logged_in(dave).post(f"/alerts/flags/{alert.flag_id}/acknowledge").status_code == 404
    assert logged_in(dave).get(link).status_code == 404
    assert logged_in(dave).post("/alerts/flags/no-such-flag/acknowledge").status_code == 404
    assert logged_in(bob).post(f"/alerts/flags/{alert.flag_id}/acknowledge").status_code == 403
    assert logged_in(alice).get(link).status_code == 403
    assert logged_in(cast["carol"]).get(link[:-3] + "xyz").status_code == 404  # altered: the signature fails
    clock.set_now(now + timedelta(days=2))
    assert logged_in(cast["carol"]).get(link).status_code == 410  # expired: acknowledge from the panel
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN and alert.acknowledged_by is None


def test_the_notice_is_in_the_patients_language(db, now, enqueued):
    # Saturday 02:00 in Paris: the clinic opens on Monday.
    clock.set_now(datetime(2026, 3, 7, 1, 0, tzinfo=UTC))
    pierre = make_patient(first_name="Pierre", country="FR", language="fr", time_zone="Europe/Paris")
    make_clinician("fanny", (pierre,))
    raise_emergency(pierre)
    reply, notice = Message.objects.filter(conversation=pierre.conversation, author=Author.SYSTEM).order_by("id")
    assert "Appelez le 112 maintenant" in reply.text
    assert notice.text == ("J'ai prévenu fanny, de votre équipe soignante. Le cabinet est fermé : personne ne lira "
                           "peut-être ce message avant lundi à 08:00. Si vous avez besoin d'aide d'ici là, appelez "
                           "le 112.")
