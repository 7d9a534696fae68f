"""The harness's API server: Prefect's own app, tuned for a test session, in a subprocess.

`HarnessServer` runs `create_app` under uvicorn on a free loopback port: Prefect's app,
wrapped in `RetryBusyDatabase`, with the prompt task-run recorder. The kit starts and
stops the process itself; nothing of Prefect's own server machinery is patched.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from ff_prefect_kit._errors import KitError
from ff_prefect_kit.testing._database import database_path, start_from
from ff_prefect_kit.testing._middleware import ASGIApp, RetryBusyDatabase, sqlite_busy
from ff_prefect_kit.testing._recorder import install_prompt_recorder

__all__ = ["HarnessServer", "HarnessStartError", "create_app"]

_log = logging.getLogger("ff_prefect_kit.testing.server")
_DRAIN_TIMEOUT = 10.0

# uvicorn exits with 3 when its port was taken between choosing and binding it.
_PORT_TAKEN = 3
_STOP_TIMEOUT = 10.0


class HarnessStartError(KitError):
    """The harness's API server did not answer in time, or exited while starting."""


def create_app() -> ASGIApp:
    """Build the harness's API app (the uvicorn factory the harness server runs)."""
    from prefect.server.api.server import create_app as create_prefect_app

    install_prompt_recorder()
    return RetryBusyDatabase(create_prefect_app(), retryable=sqlite_busy)


def output_tail(output: IO[bytes] | None) -> str:
    """`; its output ended: ...` with the end of a server's captured output, or ``."""
    if output is None:
        return ""
    output.seek(0)
    text = output.read().decode("utf-8", "replace").strip()
    return f"; its output ended: {text[-2000:]}" if text else ""


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def drain_client_workers(timeout: float = _DRAIN_TIMEOUT) -> None:
    """Send this process's queued logs and events, then stop the workers that send them.

    Prefect's client keeps its events worker and log worker once per process, bound to
    the API URL they started with. Draining them when a test switches servers, or before
    a server stops, keeps one server's events from going to another, or to none.

    Prefect keeps all its client's queue services in one registry, so this stops every
    one of them (each starts again when next used): call it between runs, not while a
    flow runs. It never raises and takes at most about `timeout` seconds: what a stopped
    server cannot take is logged and dropped.
    """

    def drain() -> None:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        # `drain_all` drains the workers that exist: asking for `instance()` would start
        # one, and with no API URL set, an ephemeral API server for it.
        for worker in (APILogWorker, EventsWorker):
            done = worker.drain_all(timeout=timeout)
            if isinstance(done, tuple) and done[1]:
                _log.warning("Prefect's client did not send everything within %g s", timeout)

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no event loop here: `drain_all` waits itself
        runner = None
    else:  # in a running loop `drain_all` returns a coroutine: wait in a thread of its own
        runner = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ff-drain")
    try:
        if runner is None:
            drain()
        else:
            with runner:
                runner.submit(drain).result()
    except Exception:
        _log.warning("could not drain Prefect's client workers", exc_info=True)


class HarnessServer:
    """A Prefect API server process serving `create_app` on loopback.

    Args:
        template: A migrated database to start from when the server's database file
            (from the current settings) does not exist yet.
    """

    def __init__(self, template: Path | None = None) -> None:
        self.template = template
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._launched_at = 0.0
        # A file, not a pipe: a chatty server must never block on a full pipe.
        self._output: IO[bytes] | None = None

    def __repr__(self) -> str:
        state = "running" if self.process is not None else "stopped"
        return f"HarnessServer(port={self.port!r}, {state})"

    @property
    def api_url(self) -> str:
        """The API's URL, `http://127.0.0.1:<port>/api`."""
        return f"http://127.0.0.1:{self.port}/api"

    def _spawn(self) -> subprocess.Popen[bytes]:
        from prefect.settings import get_current_settings

        self.port = _free_port()
        return subprocess.Popen(
            args=[
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(Path(__file__).resolve().parents[2]),
                "--factory",
                f"{__name__}:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env={
                **os.environ,
                # What Prefect's own test server sets: no UI, no extra services.
                "PREFECT_UI_ENABLED": "0",
                "PREFECT__SERVER_EPHEMERAL": "1",
                "PREFECT__SERVER_FINAL": "1",
                **get_current_settings().to_environment_variables(exclude_unset=True),
            },
            stdout=self._output,
            stderr=self._output,
        )

    def start(self, timeout: float) -> None:
        """Start the process and wait until `/api/health` answers.

        Raises:
            HarnessStartError: No answer within `timeout` seconds, or the process
                exited; the message has the server's last error output.
        """
        self.launch()
        self.wait(timeout)

    def launch(self) -> None:
        """Start the process and return at once; `wait()` then waits for it to answer.

        The process gets the Prefect settings current at this call.
        """
        start_from(self.template, database_path())
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self._launched_at = time.monotonic()
        self.process = self._spawn()

    def wait(self, timeout: float) -> None:
        """Wait until the launched process answers `/api/health`.

        Args:
            timeout: Seconds from the launch.

        Raises:
            HarnessStartError: No answer within `timeout` seconds of the launch, or the
                process exited; the message has the server's last error output.
        """
        import httpx

        if self.process is None:
            raise HarnessStartError("the harness's API server was not launched, or was stopped")
        deadline = self._launched_at + timeout
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                code = self.process.poll()
                if code == _PORT_TAKEN:
                    self.process = self._spawn()
                    continue
                if code is not None:
                    failure = self._failure(f"exited with code {code}")
                    self.stop()
                    raise HarnessStartError(failure)
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.api_url}/health", timeout=5).status_code == 200:
                        return
                time.sleep(0.05)
        failure = self._failure(
            f"did not answer within {timeout:g} s; pass a larger startup_timeout "
            "to prefect_harness() on a slow machine"
        )
        self.stop()
        raise HarnessStartError(failure)

    def _failure(self, what: str) -> str:
        detail = output_tail(self._output)
        return f"the harness's Prefect API server on port {self.port} {what}{detail}"

    def stop(self) -> None:
        """Stop the process (terminate, then kill after a grace period); idempotent."""
        process, self.process = self.process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                _log.warning("the harness's API server did not stop in time; killing it")
                process.kill()
                process.wait()
        output, self._output = self._output, None
        if output is not None:
            output.close()

    def __enter__(self) -> HarnessServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
