"""A real server for tests that need real sockets and processes.

`serve()` starts `uvicorn app.main:app` on a free 127.0.0.1 port, serving the test's
database, with an admin key ready in `LiveServer.headers`; it stops every process it
started. The `live_server` fixture runs several workers, each with its own thread pool,
so that requests sent together (`race()`) really race.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.db import Database
from tests.support.clients import bearer, issue_key

ROOT = Path(__file__).resolve().parents[2]
RACING_WORKERS = 4
STARTUP_TIMEOUT_S = 30.0
REQUEST_TIMEOUT_S = 120.0


@dataclass
class LiveServer:
    base_url: str
    log_path: Path
    headers: dict[str, str]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(process.pid, signum)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server we started, workers included: SIGTERM its process group (the
    supervisor waits for its workers), SIGKILL the group if it lingers."""
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait(timeout=15)


def _wait_until_healthy(process: subprocess.Popen[bytes], server: LiveServer, workers: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    healthy = 0
    with httpx.Client(base_url=server.base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"uvicorn exited with {process.returncode}:\n{server.log()}")
            try:
                if client.get("/health").status_code == 200:
                    healthy += 1
                    # Several answers in a row: the other workers are very likely up too.
                    if healthy >= workers:
                        return
                    continue
            except httpx.TransportError:
                pass
            healthy = 0
            time.sleep(0.1)
    pytest.fail(f"uvicorn did not answer /health within {STARTUP_TIMEOUT_S}s:\n{server.log()}")


@contextlib.contextmanager
def serve(database_url: str, log_path: Path, *, workers: int = 1) -> Iterator[LiveServer]:
    """`uvicorn app.main:app` with `workers` processes on a free 127.0.0.1 port, serving
    `database_url` and logging to `log_path`; stopped, workers included, on exit."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown reaches every worker
        )
    database = Database(database_url)
    headers = bearer(issue_key(database, "admin"))
    database.dispose()
    server = LiveServer(base_url=f"http://127.0.0.1:{port}", log_path=log_path, headers=headers)
    try:
        _wait_until_healthy(process, server, workers)
        yield server
    finally:
        _stop(process)


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """Several uvicorn workers serving the test's database, for requests that race."""
    with serve(database_url, tmp_path / "uvicorn.log", workers=RACING_WORKERS) as server:
        yield server


async def race(
    server: LiveServer,
    requests: list[tuple[str, dict[str, Any]]],
    headers: dict[str, str] | None = None,
) -> list[httpx.Response]:
    """POST every request at once, each on its own connection."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=server.base_url,
        limits=limits,
        timeout=REQUEST_TIMEOUT_S,
        headers={**server.headers, **(headers or {})},
    ) as client:
        start = asyncio.Event()

        async def send(path: str, body: dict[str, Any]) -> httpx.Response:
            await start.wait()
            return await client.post(path, json=body)

        tasks = [asyncio.create_task(send(path, body)) for path, body in requests]
        await asyncio.sleep(0)  # every task is parked on the start line
        start.set()
        return await asyncio.gather(*tasks)
