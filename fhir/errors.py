"""FHIR errors: every failure leaves the server as an OperationOutcome with its HTTP status."""

from __future__ import annotations

from typing import Any

# HTTP status for each failure the store and the REST layer raise.
STATUS_BY_CODE = {
    "invalid": 400,
    "structure": 400,
    "required": 400,
    "value": 400,
    "invariant": 400,
    "login": 401,
    "forbidden": 403,
    "not-found": 404,
    "not-supported": 405,
    "conflict": 409,
    "deleted": 410,
    "too-costly": 413,
    "processing": 422,
    "exception": 500,
}


def operation_outcome(severity: str, code: str, diagnostics: str, expression: list[str] | None = None) -> dict:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}


class FhirError(Exception):
    """A failure with an issue type from the FHIR IssueType value set; status follows from it unless given."""

    def __init__(self, code: str, diagnostics: str, *, status: int | None = None,
                 issues: list[dict] | None = None) -> None:
        super().__init__(diagnostics)
        self.code = code
        self.diagnostics = diagnostics
        self.status = status or STATUS_BY_CODE.get(code, 400)
        self.issues = issues

    def outcome(self) -> dict:
        if self.issues:
            return {"resourceType": "OperationOutcome", "issue": self.issues}
        return operation_outcome("error", self.code, self.diagnostics)


def not_found(resource_type: str, fhir_id: str) -> FhirError:
    return FhirError("not-found", f"{resource_type}/{fhir_id} is not known")


def forbidden(what: str) -> FhirError:
    return FhirError("forbidden", f"not permitted: {what}")
