"""The edge of the REST API: who is asking, what they sent, and how answers and errors go back."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from fhir.access import Requester, requester_for_user
from fhir.dates import date_range
from fhir.errors import FhirError
from fhir.jsonnum import dumps, loads
from fhir.oauth import bearer_requester

FHIR_JSON = "application/fhir+json; charset=utf-8"
ACCEPTED_BODY_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/")


def fhir_response(body: dict | None, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    # fhir.jsonnum.dumps: decimals go out as they came in (1.50, not 1.5).
    content = b"" if body is None else dumps(body).encode()
    response = HttpResponse(content, status=status, content_type=FHIR_JSON)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def version_headers(resource: dict) -> dict[str, str]:
    meta = resource.get("meta", {})
    headers = {"ETag": f'W/"{meta.get("versionId", "1")}"'}
    if meta.get("lastUpdated"):
        headers["Last-Modified"] = http_date(date_range(meta["lastUpdated"])[0].timestamp())
    return headers


def resource_response(request: HttpRequest, resource: dict, status: int = 200, *, location: bool = False,
                      outcome: dict | None = None) -> HttpResponse:
    """A resource as the client's Prefer header asks: representation (default), minimal, or OperationOutcome."""
    headers = version_headers(resource)
    if location:
        headers["Location"] = (f"{base_url(request)}{resource['resourceType']}/{resource['id']}"
                               f"/_history/{resource['meta']['versionId']}")
    prefer = request.headers.get("Prefer", "")
    if "return=minimal" in prefer:
        return fhir_response(None, status, headers)
    if "return=OperationOutcome" in prefer:
        body = outcome or {"resourceType": "OperationOutcome", "issue": [
            {"severity": "information", "code": "informational", "diagnostics": "done"}]}
        return fhir_response(body, status, headers)
    return fhir_response(resource, status, headers)


def authenticate(request: HttpRequest) -> Requester:
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return bearer_requester(request)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        if request.method not in SAFE_METHODS:
            # A browser session writing: the same CSRF check as every form in the app.
            reason = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, None, (), {})
            if reason is not None:
                raise FhirError("forbidden", "CSRF check failed: send the X-CSRFToken header with a session")
        return requester_for_user(user)
    raise FhirError("login", "authentication required: an OAuth Bearer token or a logged-in session", status=401)


def read_body(request: HttpRequest) -> Any:
    content_type = request.content_type or ""
    if content_type not in ACCEPTED_BODY_TYPES:
        raise FhirError("not-supported", f"send application/fhir+json, not {content_type or 'nothing'!r}", status=415)
    if len(request.body) > settings.FHIR_MAX_BODY_BYTES:
        raise FhirError("too-costly", f"the body is larger than {settings.FHIR_MAX_BODY_BYTES} bytes", status=413)
    try:
        return loads(request.body)  # decimals keep their text: fhir/jsonnum.py
    except (ValueError, UnicodeDecodeError) as error:
        raise FhirError("structure", f"the body is not valid JSON: {error}") from None


def parse_instant(name: str, text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return date_range(text)[0]
    except ValueError:
        raise FhirError("invalid", f"{name}={text!r} is not a FHIR instant") from None


def query_pairs(request: HttpRequest) -> list[tuple[str, str]]:
    return [(k, v) for k, values in request.GET.lists() for v in values]


def fhir_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Every FHIR view: errors become OperationOutcomes; sessions are CSRF-checked in authenticate()."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except FhirError as error:
            headers = {"WWW-Authenticate": 'Bearer realm="fhir"'} if error.status == 401 else None
            return fhir_response(error.outcome(), error.status, headers)

    return wrapper


def require_methods(request: HttpRequest, *methods: str) -> None:
    if request.method not in methods:
        raise FhirError("not-supported", f"{request.method} is not supported here; use {', '.join(methods)}",
                        status=405)
