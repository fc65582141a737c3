"""`python -m portal.devserver`: the web server and a Celery worker, for `make run`.

Both run as children over plain HTTP (PORTAL_HTTPS=0) on port 8000, or on `--port N`
(`make run PORT=N`, or PORTAL_PORT=N). Ctrl-C or SIGTERM stops both; if one dies, the
other is stopped and this exits non-zero. This process holds the embedded PostgreSQL open
meanwhile, so it is not stopped and started again between the children, and stops it on
exit unless another process (a test run, a manage.py command) still uses it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from types import FrameType

from portal.demo import data
from portal.embedded_postgres import PROJECT_ROOT, embedded_database_url, embedded_server_release

# -B: the worker runs beat too (the weekly team scores); its schedule file lives in .local.
WORKER = (
    "-m celery -A portal worker -Q ingest,allocation,invoices,default --concurrency 2 -l info "
    "-B -s .local/celerybeat-schedule"
)
STOP_TIMEOUT = 20  # seconds a child has to finish its work before it is killed

Children = dict[str, subprocess.Popen[bytes]]


def start(*args: str) -> subprocess.Popen[bytes]:
    # A session of its own: Ctrl-C reaches only this process, which then stops the
    # children; its group lets stop() kill what a child started (the reloaded server, the
    # worker pool) if it hangs.
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PORTAL_HTTPS": "0"},
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(children: Children) -> None:
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for name, child in children.items():
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"The {name} did not stop within {STOP_TIMEOUT} s; killing it.", flush=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)  # whatever is left in its process group
        child.wait()


def wait_for_port(port: int, children: Children) -> None:
    """Until the web server listens (at most a minute), or a child has died."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and all(c.poll() is None for c in children.values()):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)


def banner(port: int) -> str:
    users = ", ".join(user.username for user in data.USERS)
    return (
        "\nThe FinOps portal is running; Ctrl-C stops it.\n"
        f"  Tenant site:   http://{data.DOMAIN}:{port}/  logins: {users}\n"
        f"  Operator site: http://{data.PUBLIC_DOMAIN}:{port}/  login: {data.OPERATOR}\n"
        f"  Password of every login: {data.PASSWORD}\n"
    )


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return int(text)


def parse_port(argv: list[str]) -> int:
    """The port to serve on: `--port N`, else PORTAL_PORT, else 8000."""
    parser = argparse.ArgumentParser(prog="python -m portal.devserver")
    parser.add_argument(
        "--port",
        type=_port,
        default=os.environ.get("PORTAL_PORT") or "8000",
        help="the web server's port (default: PORTAL_PORT, else 8000)",
    )
    return int(parser.parse_args(argv).port)


def release_database() -> None:
    if embedded_server_release():
        print("Stopped the embedded PostgreSQL.", flush=True)
    else:
        print("The embedded PostgreSQL stays up: another process uses it.", flush=True)


def interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    port = parse_port(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("PORTAL_SITE_PORT", str(port))  # for links in e-mails
    embedded = not os.environ.get("DATABASE_URL")
    if embedded:
        embedded_database_url()  # starts it if needed, and holds it until this process exits
    # SIGINT too: a shell starts background commands with SIGINT ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    children: Children = {}
    try:
        children["web server"] = start("manage.py", "runserver", f"0.0.0.0:{port}")
        children["worker"] = start(*WORKER.split())
        wait_for_port(port, children)
        print(banner(port), flush=True)
        while True:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"The {name} exited with {child.returncode}; stopping.", flush=True)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping the web server and the worker.", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop(children)
        if embedded:
            release_database()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
