"""Talking to the FHIR API in tests: a client per requester, and small resource builders."""

from __future__ import annotations

import base64
import json
from typing import Any

from django.test import Client

from fhir.clients import do_register_client

FHIR_JSON = "application/fhir+json"


class FhirClient:
    """The Django test client speaking FHIR JSON, as a session user or with a Bearer token."""

    def __init__(self, *, user=None, token: str | None = None, password: str | None = None) -> None:
        self.client = Client(HTTP_HOST="localhost")
        self.headers: dict[str, str] = {}
        if user is not None:
            from tests.support.cast import PASSWORD

            assert self.client.login(username=user.username, password=password or PASSWORD)
        if token:
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def _call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
              content_type: str = FHIR_JSON):
        extra = {**self.headers, **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}}
        url = path if path.startswith("/") else f"/fhir/{path}"
        if body is None:
            return getattr(self.client, method)(url, **extra)
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return getattr(self.client, method)(url, data, content_type=content_type, **extra)

    def get(self, path: str, **headers: str):
        return self._call("get", path, headers=headers)

    def post(self, path: str, body: Any, content_type: str = FHIR_JSON, **headers: str):
        return self._call("post", path, body, headers, content_type)

    def put(self, path: str, body: Any, **headers: str):
        return self._call("put", path, body, headers)

    def delete(self, path: str, **headers: str):
        return self._call("delete", path, headers=headers)


def make(api: FhirClient, resource: dict) -> str:
    """Create a resource through the API; its server-assigned id."""
    response = api.post(resource["resourceType"], resource)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def client_token(owner, scopes: str, *, granted: str | None = None) -> str:
    """Register a client-credentials client owned by ``owner`` (granted ``granted`` or ``scopes``) and get a token."""
    application, secret = do_register_client(owner, f"test client {owner.username}", granted or scopes)
    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    response = Client(HTTP_HOST="localhost").post("/o/token/", {"grant_type": "client_credentials", "scope": scopes},
                                                  HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def observation(patient_id: str, *, code: str = "8867-4", value: float = 72, unit: str = "/min",
                when: str = "2026-11-01", status: str = "final", **extra: Any) -> dict:
    return {"resourceType": "Observation", "status": status,
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": f"Patient/{patient_id}"},
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
            "effectiveDateTime": when, **extra}


def condition(patient_id: str, *, code: str = "38341003", text: str = "Hypertension", **extra: Any) -> dict:
    return {"resourceType": "Condition", "subject": {"reference": f"Patient/{patient_id}"},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}], "text": text}, **extra}
