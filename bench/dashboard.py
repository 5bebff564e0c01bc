"""Dashboard server time: the clinician panel with a 1,000-patient panel, and a patient's page with 10,000
observations.

    python -m bench.dashboard [--patients 1000] [--observations 10000] [--renders 30]

Builds a fresh SQLite database with one clinician whose care team holds N patients: 5 % with an open red flag
(raised by the real triage path), 30 % with one to three unconfirmed facts recorded by the agent, 10 % with an
agent proposal waiting, and one patient message each (half of them read by the clinician). Then renders
/patients/ through Django's test client (server time: the view, its audited record reads and the template) and
prints p50/p95. Then gives one more patient --observations home readings (blood pressure panels with two
components, weights, heart rates and glucose values, a reading every few hours over years) and renders the pages
that read them: the clinician's view of that patient (/chat/<conversation>/: record review, trends of the newest
1,000 observations, inquiry state, the conversation) and the patient's own record page (/care/record/).
No assertions: it prints figures for docs/benchmarks.md. The check-in scheduler has its own: bench/checkins.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--observations", type=int, default=10000)
    parser.add_argument("--renders", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="continuum-bench-dashboard-"))
    os.environ.update(SQLITE_PATH=str(work / "bench.sqlite3"), CONTINUUM_VAR_DIR=str(work),
                      DJANGO_SETTINGS_MODULE="webapp.settings", CHAT_RATE_LIMIT_MESSAGES="1000000")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    from agent.memory.record import ReportedFact, record_reported_fact
    from fhir.access import agent_requester
    from fhir.store import Repository
    from webapp.actions.accounts import do_add_to_care_team, do_create_patient, do_create_staff_user
    from webapp.actions.dashboard import do_mark_conversation_read
    from webapp.actions.messages import do_triage_message
    from webapp.chat.models import Author, Message

    started = time.monotonic()
    clinician = do_create_staff_user("bench-clinician", "bench-password", "clinician")
    for i in range(args.patients):
        patient = do_create_patient(f"bench-patient-{i:04d}", None)
        do_add_to_care_team(clinician, patient)
        repo = Repository(agent_requester(patient.fhir_id), channel="agent")
        text = "crushing chest pain and sweating" if i % 20 == 0 else "A quick update: all is well today."
        message = Message.objects.create(conversation=patient.conversation, author=Author.PATIENT, sender=patient,
                                          text=text)
        if i % 20 == 0:
            do_triage_message(message)  # the real red-flag path: a Flag in the record
        if i % 10 < 3:
            for k in range(1 + i % 3):
                record_reported_fact(repo, patient.fhir_id, ReportedFact(kind="symptom", text=f"symptom {k}"),
                                     message.id)
        if i % 10 == 5:
            repo.create({"resourceType": "Task", "status": "requested", "intent": "proposal",
                         "for": {"reference": f"Patient/{patient.fhir_id}"}, "description": "a proposal"})
        if i % 2:
            do_mark_conversation_read(clinician, patient.conversation)
    print(f"built {args.patients} patients in {time.monotonic() - started:.0f} s")

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, SQLite")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(clinician)
    measure(client, "/patients/", f"panel of {args.patients} patients", args.renders)

    started = time.monotonic()
    patient = do_create_patient("bench-measured", None)
    do_add_to_care_team(clinician, patient)
    write_observations(patient, args.observations)
    print(f"wrote {args.observations} observations in {time.monotonic() - started:.0f} s")
    measure(client, f"/chat/{patient.conversation.public_id}/",
            f"clinician's page of a patient with {args.observations} observations", args.renders)
    own = Client(HTTP_HOST="127.0.0.1")
    own.force_login(patient)
    measure(own, "/care/record/", f"patient's own record page ({args.observations} observations)", args.renders)


def measure(client, url: str, what: str, renders: int) -> None:
    times = []
    for _ in range(renders + 2):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append(1000 * (time.perf_counter() - t0))
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}: {response.content[:300]!r}")
    times = times[2:]  # warm-up
    print(f"{what}: p50 {statistics.median(times):.0f} ms, p95 {pct(times, 0.95):.0f} ms, "
          f"max {max(times):.0f} ms over {renders} renders ({len(response.content) // 1024} KiB)")


def write_observations(patient, count: int) -> None:
    """Home readings a few hours apart, newest now, through the agent's Repository (validated, indexed, audited),
    in transaction bundles of 500 so that writing 10,000 takes minutes, not an hour."""
    from datetime import timedelta

    from django.utils import timezone

    from fhir.access import agent_requester
    from fhir.operations.transaction import process_bundle
    from fhir.store import Repository

    repo = Repository(agent_requester(patient.fhir_id), channel="agent")
    subject = {"reference": f"Patient/{patient.fhir_id}"}
    start = timezone.now() - timedelta(hours=4 * count)

    def loinc(code: str, text: str) -> dict:
        return {"coding": [{"system": "http://loinc.org", "code": code}], "text": text}

    def quantity(value: float, unit: str, code: str) -> dict:
        return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": code}

    def reading(i: int) -> dict:
        when = (start + timedelta(hours=4 * i)).isoformat()
        base = {"resourceType": "Observation", "status": "final", "subject": subject, "effectiveDateTime": when,
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                          "code": "vital-signs"}]}]}
        kind = i % 4
        if kind == 0:
            return {**base, "code": loinc("85354-9", "Blood pressure"), "component": [
                {"code": loinc("8480-6", "Systolic"), "valueQuantity": quantity(120 + i % 25, "mmHg", "mm[Hg]")},
                {"code": loinc("8462-4", "Diastolic"), "valueQuantity": quantity(75 + i % 15, "mmHg", "mm[Hg]")}]}
        if kind == 1:
            return {**base, "code": loinc("29463-7", "Body weight"),
                    "valueQuantity": quantity(80 + (i % 30) / 10, "kg", "kg")}
        if kind == 2:
            return {**base, "code": loinc("8867-4", "Heart rate"), "valueQuantity": quantity(60 + i % 30, "/min",
                                                                                             "/min")}
        return {**base, "code": loinc("15074-8", "Glucose"), "valueQuantity": quantity(5 + (i % 40) / 10, "mmol/L",
                                                                                       "mmol/L"),
                "referenceRange": [{"low": quantity(3.9, "mmol/L", "mmol/L"), "high": quantity(7.8, "mmol/L",
                                                                                              "mmol/L")}]}

    for first in range(0, count, 500):
        entries = [{"resource": reading(i), "request": {"method": "POST", "url": "Observation"}}
                   for i in range(first, min(count, first + 500))]
        process_bundle(repo, {"resourceType": "Bundle", "type": "transaction", "entry": entries})


if __name__ == "__main__":
    main()
