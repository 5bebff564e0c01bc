"""The clinician panel's server time with a 1,000-patient panel.

    python -m bench.dashboard [--patients 1000] [--renders 30]

Builds a fresh SQLite database with one clinician whose care team holds N patients: 5 % with an open red flag
(raised by the real triage path), 30 % with one to three unconfirmed facts recorded by the agent, 10 % with an
agent proposal waiting, and one patient message each (half of them read by the clinician). Then renders
/patients/ through Django's test client (server time: the view, its audited record reads and the template) and
prints p50/p95. No assertions: it prints figures for docs/benchmarks.md.

Not measured yet (the parts of the dashboard that do not exist yet): the patient page with 10,000 observations and
the check-in scheduler.
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

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(clinician)
    times = []
    for _ in range(args.renders + 2):
        t0 = time.perf_counter()
        response = client.get("/patients/")
        times.append(1000 * (time.perf_counter() - t0))
        if response.status_code != 200:
            raise SystemExit(f"/patients/ answered {response.status_code}: {response.content[:300]!r}")
    times = times[2:]  # warm-up
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, SQLite")
    print(f"panel of {args.patients} patients: p50 {statistics.median(times):.0f} ms, p95 {pct(times, 0.95):.0f} ms, "
          f"max {max(times):.0f} ms over {args.renders} renders ({len(response.content) // 1024} KiB)")


if __name__ == "__main__":
    main()
