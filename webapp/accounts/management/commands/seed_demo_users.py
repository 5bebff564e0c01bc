"""Create the named demo users (see README) so a newcomer can log in at once. Idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from fhir.clients import do_register_client
from webapp.accounts.models import Role, User
from webapp.actions.accounts import (
    do_add_to_care_team,
    do_create_patient,
    do_create_staff_user,
    do_ensure_person_record,
)

DEMO_PASSWORD = "continuum-demo"
# A backend EHR client of the FHIR API (client credentials), owned by the 'ehr' user.
DEMO_CLIENT_ID, DEMO_CLIENT_SECRET = "continuum-demo-ehr", "continuum-demo-ehr-secret"
DEMO_CLIENT_SCOPES = "system/*.read system/*.write"

# The cast, shared with the tests (tests/support/cast.py).
PATIENTS = [
    dict(username="alice", first_name="Alice", last_name="Archer", email="alice@example.org", country="GB",
         language="en", time_zone="Europe/London"),
    dict(username="bob", first_name="Bob", last_name="Baker", email="bob@example.org", country="US",
         language="en", time_zone="America/New_York"),
]
STAFF = [
    dict(username="carol", first_name="Carol", last_name="Chen", email="carol@example.org", role=Role.CLINICIAN),
    dict(username="dave", first_name="Dave", last_name="Dunn", email="dave@example.org", role=Role.CLINICIAN),
    dict(username="root", first_name="Ada", last_name="Admin", email="root@example.org", role=Role.ADMIN),
    dict(username="ehr", first_name="EHR", last_name="Client", email="ehr@example.org", role=Role.EHR_CLIENT),
]
CARE_TEAMS = [("carol", "alice"), ("carol", "bob")]  # dave is on no care team


class Command(BaseCommand):
    help = f"Create the demo users (password: {DEMO_PASSWORD})."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password", default=DEMO_PASSWORD)

    def handle(self, *args, password: str, **options) -> None:
        created = []
        for spec in PATIENTS:
            if not User.objects.filter(username=spec["username"]).exists():
                do_create_patient(password=password, **spec)
                created.append(spec["username"])
        for spec in STAFF:
            if not User.objects.filter(username=spec["username"]).exists():
                spec = dict(spec)
                do_create_staff_user(spec.pop("username"), password, spec.pop("role"), **spec)
                created.append(spec["email"])
        for user in User.objects.filter(fhir_id__isnull=True, role__in=[Role.PATIENT, Role.CLINICIAN]):
            do_ensure_person_record(user)
        for clinician, patient in CARE_TEAMS:
            do_add_to_care_team(User.objects.get(username=clinician), User.objects.get(username=patient))
        do_register_client(User.objects.get(username="ehr"), "Demo EHR", DEMO_CLIENT_SCOPES,
                           client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
        self.stdout.write(f"demo users ready ({len(created)} created); password: {password}")
