"""A real worker takes tasks from the default broker (PostgreSQL); tasks find their queue
and run in their tenant's schema."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from portal.celery import app
from portal.core.tasks import ping, tenant_task
from portal.tenants.models import Tenant
from portal.users.models import Role, User
from tests.conftest import make_user
from tests.processes import stop


def _start_worker(queue: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env.pop("PORTAL_TEST_DB", None)
    command = [sys.executable, "-m", "celery", "-A", "portal", "worker"]
    command += ["-Q", queue, "--pool", "solo", "--without-heartbeat", "-l", "info"]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def test_worker_consumes_a_task_from_the_database_broker(tmp_path: Path) -> None:
    # Given a worker on a queue of its own (other workers on this database cannot take it)
    queue = f"test-ping-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"
    worker = _start_worker(queue, log)
    pong = tmp_path / "pong"
    try:
        # When a ping is sent through the broker (never run in this process)
        assert not app.conf.task_always_eager
        ping.apply_async(args=(str(pong),), queue=queue)
        # Then the worker runs it
        deadline = time.monotonic() + 60
        while not pong.exists() and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()
            time.sleep(0.25)
    finally:
        stop(worker)
    assert pong.exists(), log.read_text()
    assert pong.read_text() == "pong"
    assert worker.returncode == 0, log.read_text()


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("billing.tasks.ingest_cur", "ingest"),
        ("billing.tasks.ingest_focus", "ingest"),
        ("allocation.tasks.allocation_run", "allocation"),
        ("invoices.tasks.invoice_run", "invoices"),
        ("billing.tasks.something_else", "default"),
        ("portal.core.tasks.ping", "default"),
    ],
)
def test_tasks_are_routed_to_their_queue(task_name: str, queue: str) -> None:
    route = app.amqp.router.route({}, task_name)
    assert route["queue"].name == queue
    # The message is published with the queue's own key, so no other queue receives it.
    assert route["queue"].routing_key == queue
    assert route["queue"].exchange.name == queue


def current_schema() -> str:
    """The schema PostgreSQL resolves names in, as the connection has set it up."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return str(cursor.fetchone()[0])


@tenant_task()
def username_in_schema(schema_name: str, user_id: int) -> str:
    return f"{current_schema()}:{User.objects.get(pk=user_id).username}"


def test_a_tenant_task_runs_in_the_schema_it_is_given(tenant_a: Tenant, db: Any) -> None:
    tina = make_user(Role.FINANCE, "tina")
    with schema_context("public"):
        assert username_in_schema.apply(args=("alpha", tina.pk)).get() == "alpha:tina"
        assert current_schema() == "public"


def test_a_tenant_task_for_a_deleted_tenant_does_nothing(db: Any) -> None:
    assert username_in_schema.apply(args=("gone", 1)).get() is None
