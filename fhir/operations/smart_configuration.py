"""/.well-known/smart-configuration: how SMART apps and backend clients get tokens here."""

from __future__ import annotations

from fhir.scopes import SUPPORTED_SCOPES


def smart_configuration(base: str, origin: str) -> dict:
    return {
        "issuer": origin,
        "authorization_endpoint": f"{origin}/o/authorize/",
        "token_endpoint": f"{origin}/o/token/",
        "revocation_endpoint": f"{origin}/o/revoke_token/",
        "introspection_endpoint": f"{origin}/o/introspect/",
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "scopes_supported": [*SUPPORTED_SCOPES, "openid", "fhirUser", "launch/patient", "offline_access"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": ["launch-standalone", "client-public", "client-confidential-symmetric",
                         "context-standalone-patient", "permission-patient", "permission-user", "permission-v1",
                         "permission-v2"],
    }
