"""A patient authorises an app (OAuth authorization code with PKCE); its token reads their record only."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from oauth2_provider.models import Application

from fhir.clients import do_register_client
from tests.support.cast import PASSWORD
from tests.support.fhir import FhirClient

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]
REDIRECT = "https://app.example/callback"


def authorise(user, scope: str) -> dict:
    application, secret = do_register_client(user, "My health app", "patient/*.read launch/patient",
                                             grant=Application.GRANT_AUTHORIZATION_CODE, redirect_uris=REDIRECT)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    browser = Client(HTTP_HOST="localhost")
    assert browser.login(username=user.username, password=PASSWORD)
    params = {"client_id": application.client_id, "response_type": "code", "redirect_uri": REDIRECT,
              "scope": scope, "code_challenge": challenge, "code_challenge_method": "S256", "state": "xyz"}
    consent = browser.get("/o/authorize/", params)
    assert consent.status_code == 200 and b"My health app" in consent.content
    answer = browser.post("/o/authorize/", params | {"allow": "Authorize"})
    assert answer.status_code == 302
    code = parse_qs(urlparse(answer["Location"]).query)["code"][0]
    token = Client(HTTP_HOST="localhost").post("/o/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier,
        "client_id": application.client_id, "client_secret": secret})
    assert token.status_code == 200, token.content
    return token.json()


def test_the_app_reads_the_patients_own_record_and_nothing_else(cast):
    alice, bob = cast["alice"], cast["bob"]
    token = authorise(alice, "patient/*.read")
    assert token["scope"] == "patient/*.read"
    app = FhirClient(token=token["access_token"])
    assert app.get(f"Patient/{alice.fhir_id}").status_code == 200
    assert app.get(f"Patient/{bob.fhir_id}").status_code == 404
    assert [e["resource"]["id"] for e in app.get("Patient").json()["entry"]] == [alice.fhir_id]


def test_an_app_cannot_get_more_than_its_grant(cast):
    alice = cast["alice"]
    application, _ = do_register_client(alice, "Greedy app", "patient/*.read",
                                        grant=Application.GRANT_AUTHORIZATION_CODE, redirect_uris=REDIRECT)
    browser = Client(HTTP_HOST="localhost")
    assert browser.login(username=alice.username, password=PASSWORD)
    answer = browser.get("/o/authorize/", {"client_id": application.client_id, "response_type": "code",
                                           "redirect_uri": REDIRECT, "scope": "patient/*.write",
                                           "code_challenge": "x" * 43, "code_challenge_method": "S256"})
    assert answer.status_code == 302
    assert parse_qs(urlparse(answer["Location"]).query)["error"] == ["invalid_scope"]


def test_a_clinicians_app_token_stays_within_their_care_team(cast):
    """The token acts as whoever logged in: a clinician's app token stays within their care team."""
    token = authorise(cast["dave"], "patient/*.read")
    assert FhirClient(token=token["access_token"]).get(f"Patient/{cast['alice'].fhir_id}").status_code == 404
