"""Users, their roles, patient profiles and care-team links."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from webapp.accounts.emergency import DEFAULT_EMERGENCY_NUMBER, emergency_number


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    CLINICIAN = "clinician", "Clinician"
    EHR_CLIENT = "ehr_client", "EHR client"
    ADMIN = "admin", "Administrator"


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)
    # The user's own resource in the FHIR record: Patient/<fhir_id> for patients, Practitioner/<fhir_id> for clinicians.
    fhir_id = models.CharField(max_length=64, null=True, blank=True, unique=True)

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_clinician(self) -> bool:
        return self.role == Role.CLINICIAN


class PatientProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="patient_profile")
    language = models.CharField(max_length=16, default="en", help_text="BCP 47 tag, e.g. en or pt-BR")
    country = models.CharField(max_length=2, default="GB", help_text="ISO 3166-1 alpha-2; decides the emergency number")
    time_zone = models.CharField(max_length=64, default="UTC", help_text="IANA name, e.g. Europe/London")

    def __str__(self) -> str:
        return f"profile of {self.user.username}"

    @property
    def emergency_number(self) -> str:
        return emergency_number(self.country)


def language_and_emergency_number(patient_id: int) -> tuple[str, str]:
    """What fixed replies to a patient need: their language and the number they should call."""
    profile = PatientProfile.objects.filter(user_id=patient_id).first()
    return (profile.language, profile.emergency_number) if profile else ("en", DEFAULT_EMERGENCY_NUMBER)


class CareTeamMembership(models.Model):
    """A clinician is on a patient's care team: they may see and act on the record."""

    clinician = models.ForeignKey(User, on_delete=models.CASCADE, related_name="care_team_patients")
    patient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="care_team")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinician", "patient"], name="one_membership_per_pair")]

    def __str__(self) -> str:
        return f"{self.clinician.username} cares for {self.patient.username}"
