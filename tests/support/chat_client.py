"""A websocket chat client for tests and benchmarks: logs in over HTTP like a
browser, then speaks the chat protocol (see webapp/chat/frames.py)."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass, field

import httpx
import websockets


def login(base_url: str, username: str, password: str) -> httpx.Client:
    """A logged-in HTTP client (session cookie set), as a browser would have."""
    client = httpx.Client(base_url=base_url, follow_redirects=True, timeout=30)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = client.post("/accounts/login/", data={"username": username, "password": password,
                                                      "csrfmiddlewaretoken": token},
                           headers={"Referer": f"{base_url}/accounts/login/"})
    if "sessionid" not in client.cookies:
        raise AssertionError(f"login failed for {username}: {response.status_code}")
    return client


def conversation_path(client: httpx.Client) -> str:
    page = client.get("/chat/")
    return re.search(r'data-ws-path="([^"]+)"', page.text).group(1)


@dataclass
class ChatSocket:
    ws: websockets.ClientConnection
    events: list[dict] = field(default_factory=list)

    @classmethod
    async def open(cls, base_url: str, path: str, cookies: dict[str, str] | None, origin: str | None = None,
                   ) -> ChatSocket:
        ws_url = base_url.replace("http://", "ws://") + path
        headers = {}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        ws = await websockets.connect(ws_url, additional_headers=headers, origin=origin or base_url,
                                      open_timeout=20, max_size=2**22)
        return cls(ws)

    async def send(self, frame: dict | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def say(self, text: str, client_id: str | None = None) -> str:
        client_id = client_id or uuid.uuid4().hex
        await self.send({"type": "send", "text": text, "client_id": client_id})
        return client_id

    async def next_event(self, timeout: float = 60) -> dict:
        event = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        event["_t"] = time.monotonic()
        self.events.append(event)
        return event

    async def until(self, predicate, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching event; got {[e.get('type') for e in self.events[-20:]]}")
            event = await self.next_event(remaining)
            if predicate(event):
                return event

    async def reply_to(self, timeout: float = 180) -> dict:
        """Wait for the agent's stored reply."""
        return await self.until(lambda e: e["type"] == "message" and e["author"] == "agent", timeout)

    async def close(self) -> None:
        await self.ws.close()


def run_async(coro):
    """asyncio.run in a thread of its own: Playwright's sync API already holds a
    running event loop in the main thread of browser tests."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def run():
        try:
            return asyncio.run(coro)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()
