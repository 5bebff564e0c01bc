"""Pull from and push to another FHIR server (an EHR, HAPI FHIR, another Continuum), idempotently.

pull: read the remote patient's $everything (or a type's resources changed since a time), and
store them here. A remote resource is matched to a local one by its business identifier
(system|value) first, then by id; references are rewritten to the local ids; ``meta.source``
records where it came from. Unchanged resources make no new version, so pulling twice changes
nothing. push: send local resources as one transaction of PUTs with their ids; the remote
reports what it created and updated.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
from django.db import transaction

from fhir.definitions import RESOURCE_TYPES
from fhir.errors import FhirError
from fhir.indexing import split_reference
from fhir.jsonnum import dumps, loads
from fhir.references import local_references, rewrite_references
from fhir.store import Repository
from fhir.sync import ImportReport

FHIR_JSON = "application/fhir+json"
PAGE_LIMIT = 1000


@dataclass
class RemoteServer:
    base_url: str  # e.g. https://ehr.example/fhir/
    token: str | None = None
    timeout: float = 60.0

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/") + "/"
        headers = {"Accept": FHIR_JSON}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.http = httpx.Client(headers=headers, timeout=self.timeout)

    @classmethod
    def with_client_credentials(cls, base_url: str, token_url: str, client_id: str, secret: str,
                                scope: str) -> RemoteServer:
        response = httpx.post(token_url, data={"grant_type": "client_credentials", "scope": scope},
                              auth=(client_id, secret), timeout=30)
        if response.status_code != 200:
            raise FhirError("login", f"the remote token endpoint said {response.status_code}: {response.text[:200]}",
                            status=401)
        return cls(base_url, response.json()["access_token"])

    def get_all(self, path: str) -> list[dict]:
        """Every resource of a search or operation, following next links."""
        url: str | None = self.base_url + path
        resources: list[dict] = []
        for _ in range(PAGE_LIMIT):
            if url is None:
                break
            response = self.http.get(url)
            if response.status_code != 200:
                raise FhirError("exception", f"GET {url} answered {response.status_code}: {response.text[:300]}",
                                status=502)
            bundle = loads(response.content)
            resources += [e["resource"] for e in bundle.get("entry", [])
                          if e.get("resource", {}).get("resourceType") != "OperationOutcome"]
            url = next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)
        return resources

    def match(self, resource: dict) -> str | None:
        """The remote id of the resource with the same business identifier, if exactly one."""
        for identifier in _identifiers(resource):
            found = self.get_all(f"{resource['resourceType']}?identifier={quote(identifier, safe='|')}&_count=2")
            if len(found) == 1:
                return found[0]["id"]
        return None

    def transaction(self, bundle: dict) -> dict:
        response = self.http.post(self.base_url, content=dumps(bundle).encode(), headers={"Content-Type": FHIR_JSON})
        if response.status_code != 200:
            raise FhirError("exception", f"the remote refused the transaction ({response.status_code}): "
                                         f"{response.text[:500]}", status=502)
        return loads(response.content)


def _identifiers(resource: dict) -> list[str]:
    """'system|value' of each business identifier (escaped for a search)."""
    identifiers = resource.get("identifier") if isinstance(resource.get("identifier"), list) else []
    return [f"{i['system']}|{i['value']}".replace(",", "\\,") for i in identifiers
            if isinstance(i, dict) and i.get("system") and i.get("value")]


def _local_match(repo: Repository, resource: dict) -> str | None:
    for identifier in _identifiers(resource):
        found = repo.search(resource["resourceType"], [("identifier", identifier), ("_count", "2")]).matches
        if len(found) == 1:
            return found[0]["id"]
    return None


def _mapped(ids: dict[tuple[str, str], str]):
    """A reference rewriter: 'Type/remote-id' -> 'Type/local-id' for the ids in the map."""
    def new_reference(reference: str) -> str | None:
        if reference.startswith(("#", "urn:")):
            return None
        key = split_reference(reference)
        return f"{key[0]}/{ids[key]}" if key in ids else None

    return new_reference


def pulled_id(source: str, resource_type: str, remote_id: str) -> str:
    """The local id of a remote resource no identifier matched: derived from the server and its id there, so pulling
    it again finds it, and two servers that number their resources alike (HAPI counts from 1000) never collide."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{source.rstrip('/')}/{resource_type}/{remote_id}"))


def store_pulled(repo: Repository, resources: list[dict], source: str) -> ImportReport:
    """Store resources read from a remote server, matched by identifier, all in one transaction."""
    report = ImportReport()
    ids: dict[tuple[str, str], str] = {}
    for resource in resources:
        local = _local_match(repo, resource) or pulled_id(source, resource["resourceType"], resource["id"])
        ids[(resource["resourceType"], resource["id"])] = local
    with transaction.atomic():
        written = []
        for resource in resources:
            local_id = ids[(resource["resourceType"], resource["id"])]
            meta = {k: v for k, v in resource.get("meta", {}).items() if k not in ("versionId", "lastUpdated")}
            body = rewrite_references(resource, _mapped(ids)) | {"id": local_id, "meta": meta | {"source": source}}
            result = repo.update(resource["resourceType"], local_id, body, check_references=False)
            bucket = report.created if result.created else report.updated if result.changed else report.unchanged
            bucket[resource["resourceType"]] += 1
            written.append(result.resource)
        repo.check_references(written)
    return report


def _referenced_elsewhere(resources: list[dict]) -> dict[str, set[str]]:
    """Resources the pulled ones point at that were not pulled (practitioners, organizations, locations)."""
    have = {(r["resourceType"], r["id"]) for r in resources}
    missing: dict[str, set[str]] = {}
    for reference in local_references(resources):
        key = split_reference(reference)
        if key[0] in RESOURCE_TYPES and key[1] and key not in have:
            missing.setdefault(key[0], set()).add(key[1])
    return missing


def pull_patient(repo: Repository, remote: RemoteServer, patient_id: str) -> ImportReport:
    resources = remote.get_all(f"Patient/{patient_id}/$everything?_count=500")
    for _ in range(3):  # what they point at, and what that points at (PractitionerRole -> Organization)
        missing = _referenced_elsewhere(resources)
        if not missing:
            break
        for resource_type, ids in missing.items():
            ordered = sorted(ids)
            for start in range(0, len(ordered), 50):
                resources += remote.get_all(f"{resource_type}?_id={','.join(ordered[start:start + 50])}&_count=50")
    return store_pulled(repo, resources, remote.base_url.rstrip("/"))


@dataclass
class PushReport:
    statuses: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        return ", ".join(f"{n} {status}" for status, n in sorted(self.statuses.items())) or "nothing sent"


def push_patient(repo: Repository, remote: RemoteServer, patient_id: str) -> PushReport:
    """Send this patient's record (what the requester may see) to the remote as one transaction of PUTs."""
    resources: list[dict] = []
    offset = 0
    while True:
        page = repo.everything(patient_id, count=500, offset=offset)
        resources += page.matches
        offset += len(page.matches)
        if not page.matches or offset >= (page.total or 0):
            break
    ids = {(r["resourceType"], r["id"]): remote.match(r) or r["id"] for r in resources}
    entries = []
    for resource in resources:
        remote_id = ids[(resource["resourceType"], resource["id"])]
        body = rewrite_references({k: v for k, v in resource.items() if k != "meta"}, _mapped(ids)) | {"id": remote_id}
        entries.append({"resource": body, "request": {"method": "PUT",
                                                      "url": f"{resource['resourceType']}/{remote_id}"}})
    answer = remote.transaction({"resourceType": "Bundle", "type": "transaction", "entry": entries})
    report = PushReport()
    for entry in answer.get("entry", []):
        report.statuses[entry.get("response", {}).get("status", "?")] += 1
    return report
