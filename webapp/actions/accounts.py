"""Creating users and care-team links."""

from __future__ import annotations

from django.db import transaction

from fhir.access import SYSTEM
from fhir.store import Repository
from webapp.accounts.models import CareTeamMembership, PatientProfile, Role, User
from webapp.chat.models import Conversation

USER_IDENTIFIER_SYSTEM = "https://continuum.health/fhir/sid/username"


def _person(user: User, language: str | None = None) -> dict:
    """The parts of a Patient or Practitioner that come from the account."""
    name = {"given": [user.first_name]} if user.first_name else {}
    name |= {"family": user.last_name} if user.last_name else {}
    resource: dict = {"identifier": [{"system": USER_IDENTIFIER_SYSTEM, "value": user.username}], "active": True,
                      "name": [name or {"text": user.username}]}
    if user.email:
        resource["telecom"] = [{"system": "email", "value": user.email}]
    if language:
        resource["communication"] = [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": language}]},
                                      "preferred": True}]
    return resource


def _create_person_record(user: User, resource_type: str, language: str | None = None) -> None:
    # The server itself writes the new user's own resource: no one else could (it is not in anyone's care yet).
    created = Repository(SYSTEM, channel="app").create({"resourceType": resource_type, **_person(user, language)})
    user.fhir_id = created.resource["id"]
    user.save(update_fields=["fhir_id"])


@transaction.atomic
def do_create_patient(username: str, password: str | None, *, email: str = "", first_name: str = "",
                      last_name: str = "", language: str = "en", country: str = "GB",
                      time_zone: str = "UTC") -> User:
    """A patient with their profile and their one continuous conversation."""
    user = User.objects.create_user(username=username, password=password, email=email, role=Role.PATIENT,
                                    first_name=first_name, last_name=last_name)
    PatientProfile.objects.create(user=user, language=language, country=country, time_zone=time_zone)
    Conversation.objects.create(patient=user)
    _create_person_record(user, "Patient", language)
    return user


@transaction.atomic
def do_create_staff_user(username: str, password: str | None, role: Role, *, email: str = "",
                         first_name: str = "", last_name: str = "") -> User:
    if role == Role.PATIENT:
        raise ValueError("use do_create_patient for patients")
    user = User.objects.create_user(username=username, password=password, email=email, role=role,
                                    first_name=first_name, last_name=last_name,
                                    is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)
    if role == Role.CLINICIAN:
        _create_person_record(user, "Practitioner")
    return user


@transaction.atomic
def do_ensure_person_record(user: User) -> None:
    """Give a patient or clinician created before the FHIR record existed their Patient or Practitioner."""
    if user.fhir_id is None and user.role in (Role.PATIENT, Role.CLINICIAN):
        language = getattr(getattr(user, "patient_profile", None), "language", None)
        _create_person_record(user, "Patient" if user.role == Role.PATIENT else "Practitioner", language)


@transaction.atomic
def do_add_to_care_team(clinician: User, patient: User) -> CareTeamMembership:
    if clinician.role != Role.CLINICIAN or patient.role != Role.PATIENT:
        raise ValueError("a care team links a clinician to a patient")
    membership, _ = CareTeamMembership.objects.get_or_create(clinician=clinician, patient=patient)
    return membership
