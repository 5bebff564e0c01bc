"""An open chat socket may only store messages while its session stands: each message checks it again (the browser
test of logging out in another tab is in tests/e2e/test_conversation_privacy.py)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from webapp.chat.consumers import session_is_live

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


def logged_in(user) -> dict:
    """A socket's scope after logging in as ``user``, as Django's login() leaves the session."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return {"session": SimpleNamespace(session_key=store.session_key)}


def test_a_standing_session_may_send(cast):
    assert session_is_live(logged_in(cast["alice"]), cast["alice"])


def test_logging_out_or_timing_out_ends_it(cast):
    alice = cast["alice"]
    scope = logged_in(alice)
    Session.objects.filter(session_key=scope["session"].session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1))
    assert not session_is_live(scope, alice)
    scope = logged_in(alice)
    SessionStore(session_key=scope["session"].session_key).flush()  # what logout does
    assert not session_is_live(scope, alice)
    assert not session_is_live({"session": None}, alice)


def test_a_password_change_elsewhere_ends_it(cast):
    """As Django's own check does on each page: the sessions the change did not make end."""
    alice = cast["alice"]
    scope = logged_in(alice)
    alice.set_password("a-new-and-longer-passphrase")
    alice.save()
    assert not session_is_live(scope, alice)
    assert session_is_live(logged_in(alice), alice)  # logging in again with the new one


def test_a_deactivated_user_is_stopped(cast):
    alice = cast["alice"]
    scope = logged_in(alice)
    alice.is_active = False
    alice.save()
    assert not session_is_live(scope, alice)


def test_another_users_session_or_a_tampered_one_does_not_count(cast):
    alice, bob = cast["alice"], cast["bob"]
    assert not session_is_live(logged_in(bob), alice)
    scope = logged_in(alice)
    Session.objects.filter(session_key=scope["session"].session_key).update(session_data="forged:data")
    assert not session_is_live(scope, alice)
