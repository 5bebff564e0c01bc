"""Login, logout, password change and reset, and the session timeout, in a real browser."""

import re
import time
from pathlib import Path

import pytest

from tests.support.browser import browser_login, wait_connected
from tests.support.cast import PASSWORD, make_patient

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(live_stack_factory, scripted_model):
    return live_stack_factory(scripted_model.base_url, worker=False)


def test_wrong_password_is_refused_and_logout_ends_the_session(stack, browser_context):
    patient = make_patient()
    page = browser_context.new_page()
    page.goto(stack.base_url + "/accounts/login/")
    page.fill("input[name=username]", patient.username)
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert "didn't match" in page.locator("[role=alert]").inner_text()
    browser_login(page, stack.base_url, patient.username)
    page.click("text=Log out")
    page.wait_for_url(stack.base_url + "/accounts/login/")
    page.goto(stack.base_url + "/chat/")
    assert page.url.startswith(stack.base_url + "/accounts/login/")


def test_password_change(stack, browser_context):
    patient = make_patient()
    page = browser_context.new_page()
    browser_login(page, stack.base_url, patient.username)
    page.click("text=Change password")
    page.fill("input[name=old_password]", PASSWORD)
    page.fill("input[name=new_password1]", "a-new-long-passphrase")
    page.fill("input[name=new_password2]", "a-new-long-passphrase")
    with page.expect_navigation():
        page.click("form:not(.inline) button[type=submit]")
    assert "Password changed" in page.inner_text("h1")
    page.click("text=Log out")
    browser_login(page, stack.base_url, patient.username, "a-new-long-passphrase")


def test_password_reset_by_email(stack, browser_context):
    patient = make_patient()
    page = browser_context.new_page()
    page.goto(stack.base_url + "/accounts/password_reset/")
    page.fill("input[name=email]", patient.email)
    page.click("button[type=submit]")
    assert "Check your email" in page.inner_text("h1")
    mails = list(Path(stack.workdir, "mail").glob("*.log"))
    assert len(mails) == 1
    path = re.search(r"/accounts/reset/\S+/", mails[0].read_text()).group(0)
    page.goto(stack.base_url + path)
    page.fill("input[name=new_password1]", "reset-passphrase-123")
    page.fill("input[name=new_password2]", "reset-passphrase-123")
    page.click("form:not(.inline) button[type=submit]")
    assert "Password set" in page.inner_text("h1")
    browser_login(page, stack.base_url, patient.username, "reset-passphrase-123")


def test_an_idle_session_times_out_on_pages_and_on_the_socket(live_stack_factory, scripted_model, browser_context):
    stack = live_stack_factory(scripted_model.base_url, worker=False, SESSION_TIMEOUT_SECONDS="4")
    patient = make_patient()
    page = browser_context.new_page()
    browser_login(page, stack.base_url, patient.username)
    wait_connected(page)
    time.sleep(5)  # SESSION_TIMEOUT_SECONDS=4 in this stack
    page.fill("#text", "are you there?")
    page.click("#send")
    page.wait_for_selector("#status.error")
    assert "session has ended" in page.inner_text("#status")
    page.goto(stack.base_url + "/chat/")
    assert page.url.startswith(stack.base_url + "/accounts/login/")
    assert not patient.conversation.messages.exists()
