"""What the dashboard remembers per clinician: how far they have read each conversation."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ConversationRead(models.Model):
    """The newest message a clinician has seen in a conversation: later patient messages are unread."""

    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey("chat.Conversation", on_delete=models.CASCADE, related_name="reads")
    last_message_id = models.BigIntegerField(default=0)
    at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinician", "conversation"], name="one_read_mark")]

    def __str__(self) -> str:
        return f"{self.clinician_id} read {self.conversation_id} up to {self.last_message_id}"
