"""SMART on FHIR scopes: 'patient/Observation.read', 'system/*.read', 'user/*.write', v2 'patient/*.rs'."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCOPE = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|[cruds]+)$")
_V2_READ, _V2_WRITE = set("rs"), set("cud")
# The audit trail is not clinical data: a wildcard does not reach it; a scope must name it.
EXPLICIT_ONLY = frozenset({"AuditEvent"})


@dataclass(frozen=True)
class Scopes:
    """Which resource types a token may read and write, and in which context (patient, user, system)."""

    read: frozenset[tuple[str, str]] = frozenset()  # (context, type or '*')
    write: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def parse(cls, text: str) -> Scopes:
        read, write = set(), set()
        for scope in text.split():
            match = _SCOPE.match(scope)
            if not match:
                continue  # openid, launch, offline_access...: not about resources
            context, rtype, action = match.groups()
            if action in ("read", "write", "*"):  # SMART v1
                reads, writes = action in ("read", "*"), action in ("write", "*")
            else:  # SMART v2: letters of c r u d s
                reads, writes = bool(set(action) & _V2_READ), bool(set(action) & _V2_WRITE)
            if reads:
                read.add((context, rtype))
            if writes:
                write.add((context, rtype))
        return cls(frozenset(read), frozenset(write))

    def contexts(self) -> set[str]:
        return {context for context, _ in self.read | self.write}

    def may_read(self, resource_type: str) -> bool:
        return _grants(self.read, resource_type)

    def may_write(self, resource_type: str) -> bool:
        return _grants(self.write, resource_type)


def _grants(granted: frozenset[tuple[str, str]], resource_type: str) -> bool:
    wildcard_ok = resource_type not in EXPLICIT_ONLY
    return any(rtype == resource_type or (rtype == "*" and wildcard_ok) for _, rtype in granted)


SUPPORTED_SCOPES = ["patient/*.read", "patient/*.write", "user/*.read", "user/*.write", "system/*.read",
                    "system/*.write", "patient/*.rs", "user/*.rs", "system/*.rs", "system/*.cruds"]
