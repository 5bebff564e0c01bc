"""What an alert leaves behind: the alert (one per Flag), each delivery attempt, how each clinician is reached, and
the order in which a patient's care team is escalated to."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AlertStatus(models.TextChoices):
    OPEN = "open", "Waiting for acknowledgement"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    CLOSED = "closed", "Flag closed"
    EXHAUSTED = "exhausted", "Nobody left to escalate to"


class Alert(models.Model):
    """One per Flag (its FHIR id is unique here, so notifying twice creates nothing twice). ``step`` is the place on
    the escalation chain reached so far: 0 is the first clinician; past the chain's end, the fallback."""

    flag_id = models.CharField(max_length=64, unique=True)
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts")
    level = models.CharField(max_length=16)  # emergency | urgent
    summary = models.CharField(max_length=1000, blank=True, default="")  # the Flag's text, for the messages sent
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    step = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()  # webapp.clock time, like every deadline below
    next_escalation_at = models.DateTimeField(null=True, blank=True)  # None: escalation has stopped
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_escalation_at"], name="alert_due")]

    def __str__(self) -> str:
        return f"{self.level} alert for Flag/{self.flag_id} ({self.status}, step {self.step})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Given up"
    CANCELLED = "cancelled", "Not needed: acknowledged or closed first"


class Delivery(models.Model):
    """One message to one address through one channel, with its attempts and their outcome."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    step = models.PositiveIntegerField()
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")  # None: the fallback (on-call) address
    channel = models.CharField(max_length=16)  # a name in webapp.alerts.senders.SENDERS
    address = models.CharField(max_length=500)  # an email address or a webhook URL
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)  # when a worker last started sending it
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["alert", "step", "channel", "address"],
                                               name="one_delivery_per_address_and_step")]
        indexes = [models.Index(fields=["status", "claimed_at"], name="delivery_stale")]

    def __str__(self) -> str:
        return f"{self.channel} to {self.address} (step {self.step}): {self.status}"


class ContactChannel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook (pager, SMS gateway)"


class AlertContact(models.Model):
    """How one clinician is reached. A clinician with none is emailed at their account's address (when
    ALERT_CHANNELS allows email); with some, exactly those are used."""

    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_contacts")
    channel = models.CharField(max_length=16, choices=ContactChannel.choices)
    address = models.CharField(max_length=500, help_text="email address, or the webhook's https URL")
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinician", "channel", "address"], name="one_contact_row")]

    def __str__(self) -> str:
        return f"{self.clinician_id}: {self.channel} {self.address}"


class ChainRank(models.Model):
    """A clinician's place on one patient's escalation chain (lower goes first). Members without a rank follow the
    ranked ones in the order they joined the care team."""

    membership = models.OneToOneField("accounts.CareTeamMembership", on_delete=models.CASCADE,
                                      related_name="chain_rank")
    rank = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.membership} (rank {self.rank})"
