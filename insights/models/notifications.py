"""Where alerts go (e-mail addresses, signed webhooks) and what became of each sending."""

from __future__ import annotations

from django.db import models

NOTIFICATION_EVENTS = (
    ("budget.alert", "Budget threshold crossed"),
    ("anomaly.detected", "Cost anomaly detected"),
    ("test", "Test message"),
)


class NotificationEndpoint(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # E-mail: addresses separated by commas; webhook: an https (or http) URL.
    target = models.CharField(max_length=2000)
    # The webhook's signing secret (HMAC-SHA256); shown to admins once, when made.
    secret = models.CharField(max_length=128, blank=True)
    # Which events it receives; empty means all but "test".
    events = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class NotificationDelivery(models.Model):
    """One event sent to one endpoint: its payload, attempts and outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        NotificationEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=32)
    # What was sent about, e.g. "budget_alert:12": one delivery per endpoint and subject.
    subject_key = models.CharField(max_length=200)
    subject = models.CharField(max_length=500, blank=True, help_text="Human-readable title.")
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "subject_key"], name="delivery_once_per_subject"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint}: {self.status}"
