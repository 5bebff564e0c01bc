"""The FHIR REST API: each view parses, authenticates, calls the Repository once, and answers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from fhir import bundles
from fhir.errors import FhirError
from fhir.operations.confirm import confirm
from fhir.operations.everything import DEFAULT_COUNT, everything
from fhir.operations.metadata import capability_statement
from fhir.operations.smart_configuration import smart_configuration
from fhir.operations.transaction import process_bundle
from fhir.operations.validate import validate
from fhir.rest import (
    authenticate,
    base_url,
    fhir_endpoint,
    fhir_response,
    parse_instant,
    query_pairs,
    read_body,
    require_methods,
    resource_response,
)
from fhir.search.parse import DEFAULT_COUNT as SEARCH_COUNT
from fhir.search.parse import MAX_COUNT
from fhir.store import Repository
from fhir.validation import check_type


def _origin(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _repo(request: HttpRequest) -> Repository:
    return Repository(authenticate(request), channel="rest")


def _int_param(request: HttpRequest, name: str, default: int) -> int:
    text = request.GET.get(name)
    if text is None:
        return default
    if not text.isdigit():
        raise FhirError("invalid", f"{name} must be a non-negative integer")
    return int(text)


def _search(request: HttpRequest, resource_type: str, query: list[tuple[str, str]]) -> HttpResponse:
    strict = "handling=strict" in request.headers.get("Prefer", "")
    result = _repo(request).search(resource_type, query, strict=strict)
    warnings = [{"severity": "warning", "code": "not-supported", "diagnostics": f"unknown parameter {name!r} ignored"}
                for name in result.request.ignored]
    return fhir_response(bundles.searchset(base_url(request), resource_type, query, result, warnings))


@fhir_endpoint
def metadata(request: HttpRequest) -> HttpResponse:
    require_methods(request, "GET")
    return fhir_response(capability_statement(base_url(request), _origin(request)))


@fhir_endpoint
def smart_config(request: HttpRequest) -> HttpResponse:
    require_methods(request, "GET")
    return fhir_response(smart_configuration(base_url(request), _origin(request)))


@fhir_endpoint
def system(request: HttpRequest) -> HttpResponse:
    require_methods(request, "POST")
    repo = _repo(request)
    return fhir_response(process_bundle(repo, read_body(request), base_url(request)))


@fhir_endpoint
def type_level(request: HttpRequest, resource_type: str) -> HttpResponse:
    require_methods(request, "GET", "POST")
    check_type(resource_type)
    if request.method == "GET":
        return _search(request, resource_type, query_pairs(request))
    repo = _repo(request)
    result = repo.create(read_body(request), resource_type=resource_type,
                         if_none_exist=request.headers.get("If-None-Exist"))
    return resource_response(request, result.resource, 201 if result.created else 200, location=True)


@fhir_endpoint
def type_search(request: HttpRequest, resource_type: str) -> HttpResponse:
    """POST Type/_search with form-encoded parameters (keeps them out of URLs and logs)."""
    require_methods(request, "POST")
    check_type(resource_type)
    if request.content_type != "application/x-www-form-urlencoded":
        raise FhirError("not-supported", "POST _search takes application/x-www-form-urlencoded", status=415)
    query = [(k, v) for k, values in request.POST.lists() for v in values] + query_pairs(request)
    return _search(request, resource_type, query)


@fhir_endpoint
def instance(request: HttpRequest, resource_type: str, fhir_id: str) -> HttpResponse:
    require_methods(request, "GET", "PUT", "DELETE")
    repo = _repo(request)
    if request.method == "GET":
        return resource_response(request, repo.read(resource_type, fhir_id))
    if request.method == "PUT":
        result = repo.update(resource_type, fhir_id, read_body(request), if_match=request.headers.get("If-Match"))
        return resource_response(request, result.resource, 201 if result.created else 200, location=result.created)
    repo.delete(resource_type, fhir_id)
    return fhir_response(None, 204)


def _history(request: HttpRequest, resource_type: str, fhir_id: str | None, path: str) -> HttpResponse:
    require_methods(request, "GET")
    count = min(_int_param(request, "_count", SEARCH_COUNT), MAX_COUNT)
    offset = _int_param(request, "_offset", 0)
    since = parse_instant("_since", request.GET.get("_since"))
    result = _repo(request).history(resource_type, fhir_id, count=count, offset=offset, since=since)
    return fhir_response(bundles.history(base_url(request), path, query_pairs(request), result, count, offset))


@fhir_endpoint
def type_history(request: HttpRequest, resource_type: str) -> HttpResponse:
    return _history(request, resource_type, None, f"{resource_type}/_history")


@fhir_endpoint
def instance_history(request: HttpRequest, resource_type: str, fhir_id: str) -> HttpResponse:
    return _history(request, resource_type, fhir_id, f"{resource_type}/{fhir_id}/_history")


@fhir_endpoint
def vread(request: HttpRequest, resource_type: str, fhir_id: str, version_id: str) -> HttpResponse:
    require_methods(request, "GET")
    return resource_response(request, _repo(request).vread(resource_type, fhir_id, version_id))


@fhir_endpoint
def patient_everything(request: HttpRequest, fhir_id: str) -> HttpResponse:
    require_methods(request, "GET")
    count = _int_param(request, "_count", DEFAULT_COUNT)
    offset = _int_param(request, "_offset", 0)
    types = [t for value in request.GET.getlist("_type") for t in value.split(",") if t] or None
    for resource_type in types or []:
        check_type(resource_type)
    since = parse_instant("_since", request.GET.get("_since"))
    result = everything(_repo(request), fhir_id, count=count, offset=offset, types=types, since=since)
    bundle = bundles.searchset(base_url(request), f"Patient/{fhir_id}/$everything", query_pairs(request), result)
    return fhir_response(bundle)


@fhir_endpoint
def validate_operation(request: HttpRequest, resource_type: str, fhir_id: str | None = None) -> HttpResponse:
    require_methods(request, "POST")
    check_type(resource_type)
    status, outcome = validate(_repo(request), read_body(request), resource_type)
    return fhir_response(outcome, status)


@fhir_endpoint
def confirm_operation(request: HttpRequest, resource_type: str, fhir_id: str) -> HttpResponse:
    require_methods(request, "POST")
    check_type(resource_type)
    return resource_response(request, confirm(_repo(request), resource_type, fhir_id, read_body(request)))


@fhir_endpoint
def not_found(request: HttpRequest, path: str) -> HttpResponse:
    raise FhirError("not-found", f"no FHIR endpoint at /fhir/{path}")
