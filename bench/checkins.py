"""Check-in scheduler throughput: how fast the beat sends due check-ins with 1,000 and 10,000 scheduled.

    python -m bench.checkins [--sizes 1000,10000] [--patients 100] [--days 10] [--idle-runs 20]

For each size, builds a fresh SQLite database with --patients patients, each with one approved follow-up plan
(written and approved through the real actions: the agent schedules size / patients daily check-ins per patient).
Then, with the controllable clock (webapp.clock.set_now), it runs the beat exactly as Celery beat does
(do_run_check_ins):
  idle    --idle-runs beats with nothing due (the cost every CHECKIN_INTERVAL_SECONDS pays), p50/p95;
  sending the clock moves one day at a time for --days days: each beat sends that day's check-in of every patient
          (one per patient: --patients due), p50/p95 per beat and check-ins sent per second;
  reply   the patient's message path with no check-in open (do_mark_check_ins_answered: one indexed query), p50.
Reminders are pushed out of the way (CHECKIN_REMINDER_HOURS very large) so the figures are the sending alone.
No assertions: it prints figures for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_size(size: int, patients: int, days: int, idle_runs: int) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from webapp import clock
    from webapp.actions.accounts import do_add_to_care_team, do_create_patient, do_create_staff_user
    from webapp.actions.followup import check_in_kind, do_create_plan, do_mark_check_ins_answered, do_run_check_ins
    from webapp.chat.models import Message

    work = Path(tempfile.mkdtemp(prefix="continuum-bench-checkins-"))
    settings.DATABASES["default"]["NAME"] = str(work / "bench.sqlite3")
    connection.close()
    call_command("migrate", verbosity=0)
    settings.CHECKIN_REMINDER_HOURS = 10**6
    start = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
    clock.set_now(start)
    per_patient = max(1, size // patients)
    built = time.monotonic()
    clinician = do_create_staff_user(f"bench-clinician-{size}", None, "clinician")
    zones = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC"]
    people = []
    for i in range(patients):
        patient = do_create_patient(f"bench-patient-{size}-{i:04d}", None, time_zone=zones[i % len(zones)])
        do_add_to_care_team(clinician, patient)
        kind = check_in_kind(patient, "blood pressure", "What was your blood pressure this morning?", 1, 1,
                             per_patient)
        do_create_plan(clinician, patient, [kind], "bench")
        people.append(patient)
    print(f"\n{size:,} check-ins scheduled ({patients} patients x {per_patient}, in 5 time zones): built in "
          f"{time.monotonic() - built:.0f} s")

    idle = []
    for _ in range(idle_runs):
        t0 = time.perf_counter()
        result = do_run_check_ins(start)
        idle.append(time.perf_counter() - t0)
        assert not result.sent
    print(f"  idle beat (nothing due)    p50 {pct(idle, .5) * 1e3:7.1f} ms   p95 {pct(idle, .95) * 1e3:7.1f} ms")

    beats, sent_total, sending_time = [], 0, 0.0
    for day in range(1, days + 1):
        clock.set_now(start + timedelta(days=day, hours=20))  # every zone has passed 09:00 on this day
        t0 = time.perf_counter()
        result = do_run_check_ins()
        elapsed = time.perf_counter() - t0
        beats.append(elapsed)
        sent_total += len(result.sent)
        sending_time += elapsed
    print(f"  sending beat ({sent_total / days:.0f} due)       p50 {pct(beats, .5) * 1e3:7.1f} ms   "
          f"p95 {pct(beats, .95) * 1e3:7.1f} ms   {sent_total / sending_time:,.0f} check-ins sent/s "
          f"({sent_total:,} in {days} beats)")
    message = Message.objects.filter(conversation=people[0].conversation).last()
    do_mark_check_ins_answered(people[0].conversation, message)
    reply = []
    for _ in range(200):
        t0 = time.perf_counter()
        do_mark_check_ins_answered(people[0].conversation, message)
        reply.append(time.perf_counter() - t0)
    print(f"  patient message, none open p50 {pct(reply, .5) * 1e6:7.0f} µs  p95 {pct(reply, .95) * 1e6:7.0f} µs")
    clock.set_now(None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--idle-runs", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="continuum-bench-checkins-"))
    os.environ.update(SQLITE_PATH=str(work / "bench.sqlite3"), CONTINUUM_VAR_DIR=str(work),
                      DJANGO_SETTINGS_MODULE="webapp.settings")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CONTINUUM_CLOCK_FILE", None)
    import django

    django.setup()
    from django.conf import settings

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    print(f"check-in scheduler, SQLite, {platform.machine()} with {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    for size in (int(s) for s in args.sizes.split(",")):
        run_size(size, args.patients, args.days, args.idle_runs)


if __name__ == "__main__":
    main()
