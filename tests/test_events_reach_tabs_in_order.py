"""Events to a conversation's tabs leave in the order they were sent, whether the sender waited for each or not
(a turn hands over its streamed deltas without waiting, then waits for its reply's event), through the real Redis
channel layer."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.layers import get_channel_layer

from tests.support.chat_client import run_async
from webapp.actions.events import send_event

pytestmark = [pytest.mark.sqlite_pass]


def test_deltas_not_waited_for_still_arrive_before_the_reply():
    group = f"order-{uuid.uuid4().hex}"

    async def scenario() -> list[dict]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group, channel)

        def worker() -> None:  # as a pool process streams: many deltas handed over, then the reply waited for
            for n in range(40):
                send_event(group, {"type": "turn.delta", "n": n}, wait=False)
            send_event(group, {"type": "message", "n": 40})

        await asyncio.get_running_loop().run_in_executor(None, worker)
        received = [(await asyncio.wait_for(layer.receive(channel), 10))["event"] for _ in range(41)]
        await layer.group_discard(group, channel)
        return received

    events = run_async(scenario())  # in a thread of its own: a browser test may hold a loop in this one
    assert [e["n"] for e in events] == list(range(41))
    assert events[-1]["type"] == "message"
