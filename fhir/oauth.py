"""OAuth 2 for the FHIR API (django-oauth-toolkit): SMART scopes, per-client grants, token checks."""

from __future__ import annotations

from django.http import HttpRequest
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.scopes import BaseScopes

from fhir.access import Requester, requester_for_user
from fhir.errors import FhirError
from fhir.scopes import SUPPORTED_SCOPES, Scopes

EXTRA_SCOPES = {"openid": "who you are", "fhirUser": "your FHIR user resource", "launch/patient": "patient context",
                "offline_access": "stay connected"}


class SmartScopes(BaseScopes):
    """Every client may ask only for what its ClientGrant lists (nothing without one)."""

    def get_all_scopes(self) -> dict[str, str]:
        return {scope: scope for scope in SUPPORTED_SCOPES} | EXTRA_SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        grant = getattr(application, "fhir_grant", None) if application is not None else None
        return grant.scopes.split() if grant else []

    def get_default_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        return self.get_available_scopes(application, request)


def bearer_requester(request: HttpRequest) -> Requester:
    """The requester behind an 'Authorization: Bearer' token, or a 401 FhirError."""
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    token = getattr(oauth_request, "access_token", None)
    if not valid or token is None:
        raise FhirError("login", "the access token is missing, expired or revoked", status=401)
    application = token.application
    user = token.user or (application.user if application else None)
    if user is None or not user.is_active:
        raise FhirError("login", "the token's user is not active", status=401)
    return requester_for_user(user, Scopes.parse(token.scope), client_id=application.client_id if application else None)
