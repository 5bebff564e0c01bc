"""Which check-in messages are waiting for the patient's reply.

The FHIR Task is the record of a check-in; this row is the chat side of one that was sent: it ties the Task to the
message that asked it, so the patient's next message finds the open check-in with one indexed query instead of a
FHIR search on every message, and its uniqueness makes sending a check-in twice impossible whatever races."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class CheckInDelivery(models.Model):
    task_id = models.CharField(max_length=64, unique=True)  # the check-in's Task id in the FHIR record
    conversation = models.ForeignKey("chat.Conversation", on_delete=models.CASCADE, related_name="check_ins")
    message = models.OneToOneField("chat.Message", on_delete=models.PROTECT, related_name="check_in")
    sent_at = models.DateTimeField()
    reminder = models.OneToOneField("chat.Message", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="check_in_reminder")
    # Set when the patient answered or the check-in was escalated: the delivery is no longer open.
    closed_at = models.DateTimeField(null=True, blank=True)
    answer = models.ForeignKey("chat.Message", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="answers_check_in")

    class Meta:
        indexes = [models.Index(fields=["conversation"], condition=Q(closed_at__isnull=True),
                                name="open_check_ins")]

    def __str__(self) -> str:
        return f"check-in Task/{self.task_id}"
