"""The official FHIR R4 examples of every type we store: loaded into the store, read back unchanged.

The examples come from HL7's npm package hl7.fhir.r4.examples (scripts/fetch_fhir_examples.py,
run by scripts/setup.sh --test). Those the store does not accept are listed, with the reason, in
tests/data/fhir_examples_not_accepted.txt: the test fails when that list is wrong either way, so a
regression and an improvement both show up until the list is brought up to date.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from fhir.access import SYSTEM
from fhir.definitions import RESOURCE_TYPES
from fhir.errors import FhirError
from fhir.hooks import run_before_write
from fhir.store import Repository
from fhir.validation import validate_resource
from scripts.fetch_fhir_examples import examples_path, is_valid, read_examples
from tests.support.fhir import FhirClient

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]

NOT_ACCEPTED = Path(__file__).parent / "data" / "fhir_examples_not_accepted.txt"


def listed_not_accepted() -> dict[str, str]:
    """file name -> reason, from the checked-in list ('<file name> <reason>' a line; '#' starts a comment)."""
    listed = {}
    for line in NOT_ACCEPTED.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.strip().partition(" ")
            listed[name] = reason.strip()
    return listed


def reason_for(error: FhirError) -> str:
    details = [issue["diagnostics"] for issue in error.issues or []][:3]
    return f"{error.status} {error.code}: " + ("; ".join(details) if details else error.diagnostics)


def without_version(resource: dict) -> dict:
    """The resource less meta.versionId and meta.lastUpdated (the store sets them), and meta if that empties it."""
    meta = {k: v for k, v in resource.get("meta", {}).items() if k not in ("versionId", "lastUpdated")}
    out = {k: v for k, v in resource.items() if k != "meta"}
    return out | {"meta": meta} if meta else out


def first_difference(got: Any, want: Any, path: str = "") -> str | None:
    if isinstance(got, dict) and isinstance(want, dict):
        for key in sorted(set(got) | set(want)):
            if key not in got or key not in want:
                return f"{path}.{key}: {'missing' if key not in got else 'unexpected'}"
            found = first_difference(got[key], want[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(got, list) and isinstance(want, list):
        if len(got) != len(want):
            return f"{path}: {len(got)} items, not {len(want)}"
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if got == want and type(got) is type(want) else f"{path}: {got!r} != {want!r}"


@pytest.fixture(scope="module")
def examples() -> list[tuple[str, dict]]:
    path = examples_path()
    if not is_valid(path):
        pytest.fail(f"FHIR examples {path} missing: run scripts/setup.sh --test (or scripts/fetch_fhir_examples.py)")
    found = list(read_examples(path, RESOURCE_TYPES))
    assert all(name == f"{r['resourceType']}-{r['id']}.json" for name, r in found)
    return found


def test_official_examples_are_stored_and_read_back_unchanged(examples, ehr_token):
    started = time.monotonic()
    repo = Repository(SYSTEM, channel="test")
    expected: dict[str, dict] = {}
    refused: dict[str, str] = {}
    # One pass, with references left unchecked: the examples point at each other (and at ones we do not store).
    for name, example in examples:
        try:
            # What the server stores: the validated resource after its write hooks (a PDF Binary loses its
            # document information, perception/fhir_uploads.py).
            expected[name] = run_before_write(validate_resource(example), repo.requester)
            repo.update(example["resourceType"], example["id"], example, check_references=False)
        except FhirError as error:
            refused[name] = reason_for(error)
    loaded = time.monotonic()

    listed = listed_not_accepted()
    newly_refused = {name: refused[name] for name in sorted(set(refused) - set(listed))}
    now_accepted = sorted(set(listed) - set(refused))
    assert not newly_refused and not now_accepted, (
        f"update {NOT_ACCEPTED.name}: newly refused {newly_refused}; now accepted {now_accepted}")

    api = FhirClient(token=ehr_token)
    differences = {}
    for name, example in examples:
        if name in refused:
            continue
        response = api.get(f"{example['resourceType']}/{example['id']}")
        if response.status_code != 200:
            differences[name] = f"GET answered {response.status_code}: {response.content[:200]!r}"
            continue
        got = response.json()
        assert got["meta"]["versionId"] == "1"
        difference = first_difference(without_version(got), without_version(expected[name]))
        if difference:
            differences[name] = difference
    print(f"\nofficial examples: {len(examples)} of the stored types; {len(examples) - len(refused)} accepted, "
          f"{len(refused)} refused as listed, {len(differences)} changed on the way back; "
          f"loaded in {loaded - started:.1f} s, read back in {time.monotonic() - loaded:.1f} s")
    assert not differences, differences
    assert len(examples) - len(refused) >= 300  # the package holds 354 examples of the types we store
