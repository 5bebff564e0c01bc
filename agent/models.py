"""Trajectories: what happened in each agent turn, for review, replay and training."""

from __future__ import annotations

from django.db import models


class Trajectory(models.Model):
    """One attempt of one turn: the messages sent, every model call, tool call and policy decision, and timings."""

    turn = models.ForeignKey("chat.Turn", on_delete=models.CASCADE, related_name="trajectories")
    attempt = models.PositiveIntegerField()
    model = models.CharField(max_length=200)
    prompt_version = models.CharField(max_length=40)
    tool_mode = models.CharField(max_length=16)  # native | json | off
    triage_level = models.CharField(max_length=16, blank=True, default="")
    messages = models.JSONField(default=list)  # what the model saw for its first call
    steps = models.JSONField(default=list)  # [{kind, at (s since start), ...}]
    reply = models.TextField(blank=True, default="")
    reasoning = models.TextField(blank=True, default="")
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    model_calls = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    seconds = models.FloatField(default=0.0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["turn", "attempt"], name="one_trajectory_per_attempt")]

    def __str__(self) -> str:
        return f"trajectory of turn {self.turn_id} (attempt {self.attempt})"


class InquiryState(models.Model):
    """The history-taking picture after one turn (agent/inquiry): the chief complaint, what is known and
    from where, what is missing, what was asked, and the phase. The latest row is what clinicians see."""

    turn = models.OneToOneField("chat.Turn", on_delete=models.CASCADE, related_name="inquiry")
    conversation = models.ForeignKey("chat.Conversation", on_delete=models.CASCADE, related_name="inquiries")
    # the newest patient message read
    message = models.ForeignKey("chat.Message", on_delete=models.CASCADE, related_name="+")
    complaint = models.CharField(max_length=40, blank=True, default="")  # agent/inquiry/complaints.py name; "" = none
    episode_started_at = models.DateTimeField()
    phase = models.CharField(max_length=16)  # inquiry | advice
    reason = models.CharField(max_length=200)  # why this phase
    slots = models.JSONField(default=dict)  # slot -> {"value", "source": answer|conversation|record, "message_id"}
    missing = models.JSONField(default=list)  # needed slots still unknown
    asked = models.JSONField(default=list)  # slots this turn asked about
    rounds = models.PositiveIntegerField(default=0)  # earlier turns of this episode spent asking
    red_flag = models.BooleanField(default=False)
    summary = models.TextField(blank=True, default="")  # the summary agent's note for clinicians
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"inquiry after turn {self.turn_id}: {self.complaint or 'no complaint'} ({self.phase})"


class AgentSwitch(models.Model):
    """The admin's kill switch: while paused, the agent answers nobody (patients get a fixed message, the red-flag
    layer still runs). One row (pk 1)."""

    paused = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True, default="")
    changed_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(null=True, blank=True)

    @classmethod
    def current(cls) -> AgentSwitch:
        return cls.objects.get_or_create(pk=1)[0]

    def __str__(self) -> str:
        return "agent paused" if self.paused else "agent running"


class MeasurementJob(models.Model):
    """A patient message that reports readings, until a worker has recorded them. The database, not the broker, is
    the record of what is still to do: the reconciler re-enqueues a job the queue lost (an unreachable broker, a
    worker that died), and recording is idempotent, so a duplicate is harmless."""

    message = models.OneToOneField("chat.Message", on_delete=models.CASCADE, related_name="measurement_job")
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)  # times handed to the broker
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["done_at", "enqueued_at"], name="measurement_job_todo")]

    def __str__(self) -> str:
        return f"readings of message {self.message_id} ({'done' if self.done_at else 'to do'})"
