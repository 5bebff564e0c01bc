"""Creating users and care-team links."""

from __future__ import annotations

from django.db import transaction

from webapp.accounts.models import CareTeamMembership, PatientProfile, Role, User
from webapp.chat.models import Conversation


@transaction.atomic
def do_create_patient(username: str, password: str | None, *, email: str = "", first_name: str = "",
                      last_name: str = "", language: str = "en", country: str = "GB",
                      time_zone: str = "UTC") -> User:
    """A patient with their profile and their one continuous conversation."""
    user = User.objects.create_user(username=username, password=password, email=email, role=Role.PATIENT,
                                    first_name=first_name, last_name=last_name)
    PatientProfile.objects.create(user=user, language=language, country=country, time_zone=time_zone)
    Conversation.objects.create(patient=user)
    return user


@transaction.atomic
def do_create_staff_user(username: str, password: str | None, role: Role, *, email: str = "",
                         first_name: str = "", last_name: str = "") -> User:
    if role == Role.PATIENT:
        raise ValueError("use do_create_patient for patients")
    return User.objects.create_user(username=username, password=password, email=email, role=role,
                                    first_name=first_name, last_name=last_name,
                                    is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)


@transaction.atomic
def do_add_to_care_team(clinician: User, patient: User) -> CareTeamMembership:
    if clinician.role != Role.CLINICIAN or patient.role != Role.PATIENT:
        raise ValueError("a care team links a clinician to a patient")
    membership, _ = CareTeamMembership.objects.get_or_create(clinician=clinician, patient=patient)
    return membership
