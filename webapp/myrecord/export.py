"""A patient's own record as one FHIR Bundle, the way they download it: everything the patient may see of their
record ($everything through their own Repository, so drafts, rejected facts and the audit trail stay out and the
read is audited), every page gathered into one `collection` Bundle."""

from __future__ import annotations

from collections.abc import Iterator

from fhir.store import Repository
from webapp.clock import now

PAGE = 1000  # $everything's largest page


def record_resources(repo: Repository, patient_id: str) -> Iterator[dict]:
    offset = 0
    while True:
        page = repo.everything(patient_id, count=PAGE, offset=offset)
        yield from page.matches
        offset += len(page.matches)
        if not page.matches or offset >= page.total:
            return


def record_bundle(repo: Repository, patient_id: str, fhir_base: str) -> dict:
    """fhir_base: the server's FHIR base URL (e.g. https://clinic.example/fhir), for each entry's fullUrl."""
    base = fhir_base.rstrip("/")
    return {"resourceType": "Bundle", "type": "collection", "timestamp": now().isoformat(),
            "entry": [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r}
                      for r in record_resources(repo, patient_id)]}
