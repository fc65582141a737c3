"""The Celery app: one queue per kind of work so workers can scale out separately."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_process_init
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# Forecast fitting runs one series a process; BLAS threads on top only fight for the cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

QUEUES = ("ingest", "allocation", "invoices", "default")
# Redis and SQS give a message that was taken but not acknowledged to another worker after
# this long: longer than the longest ingest, since a second delivery of a running job
# only waits for it (see billing.tasks). A lost worker's jobs come back after it.
VISIBILITY_TIMEOUT_SECONDS = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", 6 * 3600))


def broker_transport_options(broker_url: str) -> dict[str, object]:
    """Options of the broker's transport: a worker survives a broker restart, and a
    message whose worker is lost is delivered again."""
    scheme = broker_url.split("://", 1)[0]
    if scheme.startswith(("sqla", "sqlalchemy")):
        # Passed to SQLAlchemy's create_engine: stale pooled connections (after a
        # database restart) are replaced instead of failing the worker's polls.
        return {"pool_pre_ping": True}
    if scheme in {"redis", "rediss", "sentinel", "sqs"}:
        return {"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS}
    return {}  # AMQP: the broker redelivers when the worker's connection closes


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
    # every task is written to be safe to run again. A pool process killed mid-task
    # (kill -9, out of memory) puts its message back on the queue at once, and a task
    # that runs on when the broker connection drops is stopped, as it will be redelivered.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_cancel_long_running_tasks_on_connection_loss=True,
    worker_prefetch_multiplier=1,
    broker_transport_options=broker_transport_options(os.environ.get("CELERY_BROKER_URL", "sqla")),
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    # Beat: last week's team scores of every tenant, Mondays after the weekend's bills;
    # daily, every tenant's anomaly monitor and forecasts, then its budgets.
    beat_schedule={
        "last-week-team-scores": {
            "task": "insights.tasks.last_week_scores_everywhere",
            "schedule": crontab(minute=0, hour=6, day_of_week=1),
        },
        "daily-anomalies-and-forecasts": {
            "task": "insights.tasks.daily_insights_everywhere",
            "schedule": crontab(minute=0, hour=6),
        },
        "daily-budget-check": {
            "task": "insights.tasks.check_budgets_everywhere",
            "schedule": crontab(minute=30, hour=6),
        },
    },
)
app.autodiscover_tasks()


@worker_process_init.connect
def drop_inherited_broker_connections(**kwargs: object) -> None:
    """A pool process is forked from the worker with the SQLAlchemy broker's engines
    (kombu caches them on the class) and their open connections: a task that queues
    another (e.g. after an ingest) would talk on the parent's connection and corrupt both.
    Each process opens its own instead."""
    try:
        from kombu.transport.sqlalchemy import Channel
    except ImportError:  # SQLAlchemy not installed: another broker
        return
    for engine, _session in list(Channel._engines.values()):
        engine.dispose(close=False)
