"""Browser helpers for Playwright tests."""

from __future__ import annotations

from tests.support.cast import PASSWORD


def browser_login(page, base_url: str, username: str, password: str = PASSWORD, landing: str = "/chat/") -> None:
    page.goto(base_url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + landing)


def wait_connected(page) -> None:
    page.wait_for_selector('#chat[data-connected="true"]', timeout=20_000)


# Records every change of the streaming bubble, and whether a final reply existed then.
WATCH_STREAM = """
() => {
  window.__stream = [];
  const list = document.getElementById('messages');
  new MutationObserver(() => {
    const s = list.querySelector('li.streaming .text');
    const done = list.querySelector('li.message.agent:not(.streaming)');
    window.__stream.push({partial: s ? s.textContent : null, done: !!done});
  }).observe(list, {childList: true, subtree: true, characterData: true});
}
"""
