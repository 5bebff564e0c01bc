"""SMART scopes, v1 and v2, grant exactly what they name."""

import pytest

from fhir.scopes import Scopes


@pytest.mark.parametrize("text,reads,writes", [
    ("system/*.read", True, False),
    ("system/*.write", False, True),
    ("system/*.*", True, True),
    ("patient/*.rs", True, False),
    ("patient/*.cud", False, True),
    ("patient/*.cruds", True, True),
    ("openid launch/patient", False, False),
])
def test_a_scope_grants_what_it_says(text, reads, writes):
    scopes = Scopes.parse(text)
    assert scopes.may_read("Observation") is reads
    assert scopes.may_write("Observation") is writes


def test_a_type_scope_grants_only_that_type():
    scopes = Scopes.parse("user/Observation.read")
    assert scopes.may_read("Observation") and not scopes.may_read("Condition")


def test_a_wildcard_never_reaches_the_audit_trail():
    assert not Scopes.parse("system/*.read").may_read("AuditEvent")
    assert Scopes.parse("system/AuditEvent.read").may_read("AuditEvent")
