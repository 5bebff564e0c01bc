"""The longitudinal conversation, its messages, and the agent turns that answer them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Conversation(models.Model):
    """One continuous thread per patient, for as long as they are in care."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="conversation")
    created_at = models.DateTimeField(auto_now_add=True)
    # A simulated consultation (agent/simulation): its turns run inline, never on the queue, and the doctor
    # side may request examinations.
    simulated = models.BooleanField(default=False)
    # A clinician who has taken the conversation over: the agent stays silent until they hand it back.
    taken_over_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    taken_over_at = models.DateTimeField(null=True, blank=True)

    @property
    def group_name(self) -> str:
        """The channel-layer group every open tab of this conversation joins."""
        return f"conversation.{self.public_id.hex}"

    def __str__(self) -> str:
        return f"conversation of {self.patient.username}"


class Author(models.TextChoices):
    PATIENT = "patient"
    AGENT = "agent"
    CLINICIAN = "clinician"
    SYSTEM = "system"


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="messages")
    author = models.CharField(max_length=16, choices=Author.choices)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    text = models.TextField()
    # The model's reasoning, kept for review and never shown to patients.
    reasoning = models.TextField(blank=True, default="")
    # The deterministic red-flag triage of a patient's message (agent/safety).
    triage_level = models.CharField(max_length=16, blank=True, default="")
    triage_reasons = models.JSONField(blank=True, default=list)
    # Chosen by the browser so a resent frame is stored once.
    client_id = models.CharField(max_length=64, blank=True, default="")
    # The agent turn that produced this message (agent replies only).
    turn = models.OneToOneField("Turn", null=True, blank=True, on_delete=models.PROTECT, related_name="reply")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_id"], condition=~Q(client_id=""), name="one_message_per_client_id"
            )
        ]

    def as_event(self) -> dict:
        """The message as patients' and clinicians' tabs receive it (no reasoning)."""
        event = {
            "type": "message",
            "id": self.id,
            "author": self.author,
            "text": self.text,
            "client_id": self.client_id,
            "turn": self.turn_id,
            "created_at": self.created_at.isoformat(),
        }
        upload = self._state.fields_cache.get("upload")  # loaded by select_related("upload"): no query here
        if upload is not None:
            event["upload"] = upload.as_event()
        return event


class TurnStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Turn(models.Model):
    """One agent turn. The database, not the broker, records what still needs an answer."""

    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="turns")
    # The newest patient message this turn answers; later messages sent while
    # it is still pending are coalesced into it.
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="answered_by")
    status = models.CharField(max_length=16, choices=TurnStatus.choices, default=TurnStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    partial_text = models.TextField(blank=True, default="")
    # host:pid of the worker process running the latest attempt, for operators.
    claimed_by = models.CharField(max_length=128, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    patient_told_delay = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"], condition=Q(status="pending"), name="one_pending_turn_per_conversation"
            )
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def as_event(self) -> dict:
        return {"type": "turn", "turn": self.id, "status": self.status, "text": self.partial_text,
                "delayed": self.patient_told_delay and self.status == TurnStatus.PENDING}


class MessageReport(models.Model):
    """A patient says an agent message was wrong: it reaches their care team and the turn's trajectory."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "reporter"], name="one_report_per_message")]

    def __str__(self) -> str:
        return f"report on message {self.message_id}"
