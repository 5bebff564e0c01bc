"""The named cast every test uses (the same as the demo users).

alice: a patient; carol is on her care team. bob: another patient.
dave: a clinician on nobody's care team. root: an admin. ehr: an EHR client.
Live-stack tests share one database with running processes, so they make
fresh patients with ``make_patient`` rather than reusing alice.
"""

from __future__ import annotations

import uuid

from webapp.accounts.models import Role, User
from webapp.actions.accounts import do_add_to_care_team, do_create_patient, do_create_staff_user

PASSWORD = "correct-horse-battery"


def make_patient(name: str = "", **profile) -> User:
    username = name or f"patient-{uuid.uuid4().hex[:8]}"
    return do_create_patient(username, PASSWORD, email=f"{username}@example.org", **profile)


def make_clinician(name: str = "", patients: tuple[User, ...] = ()) -> User:
    username = name or f"clinician-{uuid.uuid4().hex[:8]}"
    clinician = do_create_staff_user(username, PASSWORD, Role.CLINICIAN, email=f"{username}@example.org")
    for patient in patients:
        do_add_to_care_team(clinician, patient)
    return clinician


def make_cast() -> dict[str, User]:
    alice = make_patient("alice", country="GB")
    bob = make_patient("bob", country="US")
    return {
        "alice": alice,
        "bob": bob,
        "carol": make_clinician("carol", (alice,)),
        "dave": make_clinician("dave"),
        "root": do_create_staff_user("root", PASSWORD, Role.ADMIN, email="root@example.org"),
        "ehr": do_create_staff_user("ehr", PASSWORD, Role.EHR_CLIENT, email="ehr@example.org"),
    }
