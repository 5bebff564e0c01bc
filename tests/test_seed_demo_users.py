"""The demo users exist after seeding, can log in, and seeding twice changes nothing."""

import pytest
from django.core.management import call_command

from webapp.accounts.management.commands.seed_demo_users import DEMO_PASSWORD
from webapp.accounts.models import CareTeamMembership, Role, User

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


def test_it_seeds_the_documented_cast_once(client):
    call_command("seed_demo_users")
    call_command("seed_demo_users")
    roles = dict(User.objects.values_list("username", "role"))
    assert roles == {"alice": Role.PATIENT, "bob": Role.PATIENT, "carol": Role.CLINICIAN, "dave": Role.CLINICIAN,
                     "root": Role.ADMIN, "ehr": Role.EHR_CLIENT}
    assert set(CareTeamMembership.objects.values_list("clinician__username", "patient__username")) == {
        ("carol", "alice"), ("carol", "bob")}
    assert User.objects.get(username="alice").conversation is not None
    assert client.login(username="alice", password=DEMO_PASSWORD)
