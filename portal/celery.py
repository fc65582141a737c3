"""The Celery app: one queue per kind of work so workers can scale out separately."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

QUEUES = ("ingest", "allocation", "invoices", "default")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # Each queue has its own exchange and routing key, so a message reaches one queue only.
    task_queues=[Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES],
    task_default_exchange="default",
    task_default_routing_key="default",
    task_default_queue="default",
    task_routes={
        "billing.tasks.ingest_*": {"queue": "ingest"},
        "allocation.tasks.*": {"queue": "allocation"},
        "invoices.tasks.*": {"queue": "invoices"},
    },
    # A task is acknowledged when done, so a worker that dies leaves it to be retried;
    # every task is written to be safe to run again.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
)
app.autodiscover_tasks()
