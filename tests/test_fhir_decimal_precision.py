"""FHIR decimals keep their precision (R4 datatypes, decimal): 1.50 goes in and 1.50 comes out, everywhere.

The JSON text of every answer is checked, not its parse: a JSON parser would read 1.50 and 1.5 alike.
"""

from __future__ import annotations

import copy
import json
import pickle
import tarfile
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from fhir.access import SYSTEM
from fhir.definitions import RESOURCE_TYPES
from fhir.hooks import run_before_write
from fhir.jsonnum import JsonDecimal, dumps, loads, same
from fhir.models import ResourceVersion, StoredResource
from fhir.store import Repository
from fhir.validation import validate_resource
from scripts.fetch_fhir_examples import examples_path, is_valid

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]

# As a client sends it: decimals written with trailing zeros, as an integer, and with more digits than a float holds.
BODY = """{"resourceType": "Observation", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
  "subject": {"reference": "Patient/PATIENT"}, "effectiveDateTime": "2026-11-01",
  "valueQuantity": {"value": 1.50, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"},
  "component": [
    {"code": {"text": "three"}, "valueQuantity": {"value": 3.0}},
    {"code": {"text": "integer"}, "valueQuantity": {"value": 3}},
    {"code": {"text": "pi"}, "valueQuantity": {"value": 3.14159265358979323846}},
    {"code": {"text": "small"}, "valueQuantity": {"value": 0.0100}},
    {"code": {"text": "exponent"}, "valueQuantity": {"value": 1.0E-22}},
    {"code": {"text": "\ue000 private use, as fhir/jsonnum.py marks exponents in the database"},
     "valueQuantity": {"value": 6.02E+23}}
  ]}"""
# PostgreSQL's jsonb alone would write the exponents positionally (0.00000000000000000000010).
WRITTEN = ('"value":1.50', '"value":3.0}', '"value":3}', '"value":3.14159265358979323846', '"value":0.0100',
           '"value":1.0E-22', '"value":6.02E+23', '"text":"\ue000 private use')


def body(patient: str, **fields: str) -> str:
    """BODY about ``patient``, with ``fields`` (JSON text each) added first."""
    added = "".join(f'"{name}": {value}, ' for name, value in fields.items())
    return "{" + added + BODY[1:].replace("PATIENT", patient)


def assert_exact(text: str, times: int = 1) -> None:
    for written in WRITTEN:
        assert text.count(written) == times, f"{written} {text.count(written)} times, not {times}, in {text[:2000]}"


@pytest.fixture
def created(api, cast) -> dict:
    response = api.post("Observation", body(cast["alice"].fhir_id))
    assert response.status_code == 201, response.content
    assert_exact(response.content.decode())
    return response.json()


# ---- fhir/jsonnum.py ----------------------------------------------------------------------------------------------


def test_numbers_keep_their_text_and_stay_floats():
    data = loads('{"a": 1.50, "b": 1.5, "c": 3, "d": [1E+2, 2.0], "e": 0.1}')
    assert dumps(data) == '{"a":1.50,"b":1.5,"c":3,"d":[1E+2,2.0],"e":0.1}'
    assert type(data["a"]) is JsonDecimal and type(data["b"]) is float and type(data["c"]) is int
    # Readers of resources (dashboard trends, safety rules) compare and compute with floats, and json.dumps them.
    assert isinstance(data["a"], float) and data["a"] == 1.5 and data["a"] * 2.0 == 3.0
    assert type(data["a"] + 1) is float
    assert json.loads(json.dumps(data)) == {"a": 1.5, "b": 1.5, "c": 3, "d": [100.0, 2.0], "e": 0.1}
    for kept in (copy.deepcopy(data["a"]), pickle.loads(pickle.dumps(data["a"]))):
        assert type(kept) is JsonDecimal and kept.text == "1.50"
    with pytest.raises(ValueError):
        JsonDecimal("1_000.5")  # float() takes it; JSON does not


def test_dumps_writes_what_json_dumps_writes_for_everything_else():
    value = {"s": 'é "quoted"\n\u2028', "n": None, "t": True, "f": False, "i": -7, "x": 0.1, "l": [1, [], {}],
             "big": 10**30, "tiny": 1e-07, "t2": (1, 2)}
    assert dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert dumps({"d": Decimal("2.50")}) == '{"d":2.50}'
    with pytest.raises(TypeError):
        dumps({"when": object()})
    with pytest.raises(ValueError):
        dumps({"nan": float("nan")})


def test_same_tells_precision_apart_but_not_key_order():
    assert same(loads('{"a": 1.50, "b": [3]}'), loads('{"b": [3], "a": 1.50}'))
    assert not same(loads('{"a": 1.50}'), loads('{"a": 1.5}'))
    assert not same(loads('{"a": 3}'), loads('{"a": 3.0}'))
    assert same({"a": Decimal("1.50")}, loads('{"a": 1.50}'))


def test_the_database_encoding_keeps_exponents_and_strings_that_look_like_its_mark():
    from fhir.jsonnum import Decoder, Encoder

    value = loads('{"a": 1E-22, "b": [-1.0E+245, 1.50, 3], "c": "\ue000x", "d": "\ue000\ue0001e5", "e": "1e5"}')
    stored = json.dumps(value, cls=Encoder)
    assert "1E-22" in stored and "-1.0E+245" in stored  # as strings: jsonb would rewrite the numbers
    back = json.loads(stored, cls=Decoder)
    assert dumps(back) == dumps(value) and type(back["a"]) is JsonDecimal and back["c"] == "\ue000x"
    plain = loads('{"a": 1.50, "s": "no exponent, no mark"}')
    assert json.dumps(plain, cls=Encoder) == dumps(plain)  # the common case is written once, unchanged


def test_validation_keeps_decimals_as_given():
    given = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
             "valueQuantity": {"value": Decimal("1.50")},
             "component": [{"code": {"text": "a"}, "valueQuantity": {"value": 3}},
                           {"code": {"text": "b"}, "valueQuantity": {"value": loads("2.10")}},
                           {"code": {"text": "c"}, "valueInteger": 4}]}
    valid = validate_resource(given)
    assert dumps(valid["valueQuantity"]) == '{"value":1.50}' and isinstance(valid["valueQuantity"]["value"], float)
    assert [dumps(c.get("valueQuantity", c.get("valueInteger"))) for c in valid["component"]] == [
        '{"value":3}', '{"value":2.10}', "4"]


# ---- through the REST API, stored on this database ------------------------------------------------------------


def test_read_and_vread_give_back_the_decimals_as_sent(api, created):
    assert_exact(api.get(f"Observation/{created['id']}").content.decode())
    assert_exact(api.get(f"Observation/{created['id']}/_history/1").content.decode())
    # What the dashboard and the agent read: floats that compare and serialise as floats always did.
    content = StoredResource.objects.get(fhir_id=created["id"]).content
    assert content["valueQuantity"]["value"] == 1.5 and isinstance(content["valueQuantity"]["value"], float)
    assert json.loads(json.dumps(content))["component"][1]["valueQuantity"]["value"] == 3
    assert dumps(ResourceVersion.objects.get(resource__fhir_id=created["id"]).content).count('"value":1.50') == 1


def test_search_history_and_everything_give_back_the_decimals_as_sent(api, cast, created):
    patient = cast["alice"].fhir_id
    found = api.get(f"Observation?_id={created['id']}")
    assert found.json()["total"] == 1
    assert_exact(found.content.decode())
    # Search compares numbers (the index holds floats): 1.50 is found at 1.5 and at 1.50.
    for value in ("1.5", "1.50"):
        assert api.get(f"Observation?subject=Patient/{patient}&value-quantity={value}").json()["total"] == 1
    assert_exact(api.get(f"Observation/{created['id']}/_history").content.decode())
    assert_exact(api.get(f"Patient/{patient}/$everything").content.decode())


def test_an_update_keeps_both_versions_as_sent(api, cast, created):
    amended = body(cast["alice"].fhir_id, id=json.dumps(created["id"])).replace('"final"', '"amended"')
    updated = api.put(f"Observation/{created['id']}", amended)
    assert updated.status_code == 200, updated.content
    assert updated.json()["meta"]["versionId"] == "2"
    assert_exact(updated.content.decode())
    assert_exact(api.get(f"Observation/{created['id']}/_history").content.decode(), times=2)


def test_a_transaction_keeps_the_decimals_as_sent(api, cast):
    entry = ('{"fullUrl": "urn:uuid:4f6a30fb-cd3c-4ab6-8757-532101f72065", "resource": ' + body(cast["alice"].fhir_id)
             + ', "request": {"method": "POST", "url": "Observation"}}')
    response = api.post("", '{"resourceType": "Bundle", "type": "transaction", "entry": [' + entry + "]}")
    assert response.status_code == 200, response.content
    location = response.json()["entry"][0]["response"]["location"]
    assert_exact(api.get(location.split("/fhir/")[-1].split("/_history")[0]).content.decode())


# ---- the official examples ----------------------------------------------------------------------------------------


def decimal_texts(value: Any) -> Iterator[str]:
    """The text of each decimal that a float would not write back as it is (105.00, 0.80)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from decimal_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from decimal_texts(item)
    elif type(value) is JsonDecimal:
        yield value.text


def without_version(resource: dict) -> dict:
    """The resource less the meta the store sets (and meta itself if that empties it)."""
    meta = {k: v for k, v in resource.get("meta", {}).items() if k not in ("versionId", "lastUpdated")}
    return {k: v for k, v in resource.items() if k != "meta"} | ({"meta": meta} if meta else {})


def test_official_examples_keep_their_decimals(api):
    """Claims and ExplanationOfBenefits write money as 105.00: it comes back as 105.00, not 105.0."""
    path = examples_path()
    if not is_valid(path):
        pytest.fail(f"FHIR examples {path} missing: run scripts/setup.sh --test (or scripts/fetch_fhir_examples.py)")
    repo = Repository(SYSTEM, channel="test")
    checked = []
    with tarfile.open(path, "r:gz") as archive:
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            name = member.name.removeprefix("package/")
            if not member.isfile() or name.split("-", 1)[0] not in RESOURCE_TYPES or not name.endswith(".json"):
                continue
            example = loads(archive.extractfile(member).read())
            if not isinstance(example, dict) or not list(decimal_texts(example)):
                continue
            expected = run_before_write(validate_resource(example), repo.requester)
            repo.update(example["resourceType"], example["id"], example, check_references=False)
            response = api.get(f"{example['resourceType']}/{example['id']}")
            assert response.status_code == 200, (name, response.content[:300])
            got = loads(response.content)
            assert not Counter(decimal_texts(example)) - Counter(decimal_texts(got)), name
            # 1E-22 too, which PostgreSQL's jsonb alone would write as 0.0000000000000000000001 (fhir/jsonnum.py)
            assert same(without_version(got), without_version(expected)), name
            checked.append(name)
    assert len(checked) >= 15, checked  # 19 of the package's examples of the types we store


def test_an_imported_bundle_keeps_its_decimals(api, tmp_path):
    """manage.py import_bundle reads files with fhir.jsonnum (json.load would turn 1.50 into 1.5)."""
    from io import StringIO

    from django.core.management import call_command

    patient_url, observation_url = "urn:uuid:5b0c6a44-8f55-4b59-9a53-0d7b6b6c1a01", \
        "urn:uuid:5b0c6a44-8f55-4b59-9a53-0d7b6b6c1a02"
    patient = '{"resourceType": "Patient", "name": [{"family": "Decimal"}]}'
    observation = body("X").replace('"Patient/X"', f'"{patient_url}"')
    bundle = tmp_path / "bundle.json"
    bundle.write_text('{"resourceType": "Bundle", "type": "transaction", "entry": ['
                      f'{{"fullUrl": "{patient_url}", "resource": {patient}}}, '
                      f'{{"fullUrl": "{observation_url}", "resource": {observation}}}]}}')
    call_command("import_bundle", str(bundle), "--quiet-progress", stdout=StringIO())
    assert_exact(api.get(f"Observation/{observation_url.split(':')[-1]}").text)
    again = StringIO()
    call_command("import_bundle", str(bundle), "--quiet-progress", stdout=again)
    assert "0 created, 0 updated" in again.getvalue()  # the stored text equals what is imported again
