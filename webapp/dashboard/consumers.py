"""The clinician's alert socket: red flags (and flags closed by a colleague) arrive here for every open
dashboard tab, so the panel updates without a reload. Receive-only: actions go through the pages."""

from __future__ import annotations

import logging

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from webapp.accounts.models import Role
from webapp.actions.flags import alerts_group

log = logging.getLogger(__name__)


class AlertsConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if user.role != Role.CLINICIAN:
            await self.close(code=4403)
            return
        self.group = alerts_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            except Exception:
                log.debug("group_discard failed", exc_info=True)

    async def receive_json(self, content, **kwargs) -> None:
        await self.send_json({"type": "pong"})

    async def conversation_event(self, message: dict) -> None:
        """send_event wraps every event as a conversation.event; alerts use the same envelope."""
        await self.send_json(message["event"])
