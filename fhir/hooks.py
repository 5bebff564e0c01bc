"""Checks and reactions other apps attach to writes of one resource type, run by the Repository for every
channel alike (REST, transaction bundles, the Python API). fhir/ depends on no app: apps register here from
their AppConfig.ready (perception checks uploaded files and reads new documents).

A before-write hook gets the validated resource and the requester and returns the resource to store (it may
change it, e.g. strip a file's metadata) or raises FhirError. An after-create hook runs once the creating
transaction has committed and must not fail the write (errors are logged).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

from fhir.access import Requester

log = logging.getLogger(__name__)

BeforeWrite = Callable[[dict, Requester], dict]
AfterCreate = Callable[[dict, Requester], None]
_before_write: dict[str, list[BeforeWrite]] = {}
_after_create: dict[str, list[AfterCreate]] = {}


def before_write(resource_type: str) -> Callable[[BeforeWrite], BeforeWrite]:
    def register(hook: BeforeWrite) -> BeforeWrite:
        if hook not in _before_write.setdefault(resource_type, []):
            _before_write[resource_type].append(hook)
        return hook
    return register


def after_create(resource_type: str) -> Callable[[AfterCreate], AfterCreate]:
    def register(hook: AfterCreate) -> AfterCreate:
        if hook not in _after_create.setdefault(resource_type, []):
            _after_create[resource_type].append(hook)
        return hook
    return register


def run_before_write(resource: dict, requester: Requester) -> dict:
    for hook in _before_write.get(resource["resourceType"], ()):
        resource = hook(resource, requester)
    return resource


def run_after_create(resource: dict, requester: Requester) -> None:
    hooks = _after_create.get(resource["resourceType"], ())
    if not hooks:
        return

    def run() -> None:
        for hook in hooks:
            try:
                hook(resource, requester)
            except Exception:
                log.exception("after-create hook %s failed for %s/%s", hook.__name__, resource["resourceType"],
                              resource.get("id"))

    transaction.on_commit(run)
