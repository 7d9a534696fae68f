"""The test sessions' Prefect API server processes: one way to start, wait for and stop them.

`ServerProcess` owns what `HarnessServer` and `PrefectServer` share: a child process on
a loopback port whose output goes to a file, a wait until `/api/health` answers, and a
stop that terminates, then kills. `HarnessServer` runs `create_app` under uvicorn:
Prefect's app, wrapped in `RetryBusyDatabase`, with Prefect's task-run recorder
replaced by the prompt one (`install_prompt_recorder`, the one part of Prefect's server
the kit patches).
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
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO, Any, ClassVar, NoReturn, Self

from ff_prefect_kit._errors import HarnessStartError
from ff_prefect_kit.testing._database import database_path, start_from
from ff_prefect_kit.testing._middleware import ASGIApp, RetryBusyDatabase, sqlite_busy
from ff_prefect_kit.testing._recorder import install_prompt_recorder

__all__ = ["HarnessServer", "ServerProcess", "create_app"]

_log = logging.getLogger("ff_prefect_kit.testing.server")
_DRAIN_TIMEOUT = 10.0

# uvicorn exits with 3 when its port was taken between choosing and binding it.
_PORT_TAKEN = 3


def create_app() -> ASGIApp:
    """Build the harness's API app (the uvicorn factory the harness server runs)."""
    from prefect.server.api.server import create_app as create_prefect_app

    install_prompt_recorder()
    return RetryBusyDatabase(create_prefect_app(), retryable=sqlite_busy)


def _output_tail(output: IO[bytes] | None) -> str:
    """`; its output ended: ...` with the end of a server's captured output, or ``."""
    if output is None:
        return ""
    output.seek(0)
    text = output.read().decode("utf-8", "replace").strip()
    return f"; its output ended: {text[-2000:]}" if text else ""


def free_port() -> int:
    """A port on loopback that no socket holds now."""
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


class ServerProcess(ABC):
    """A Prefect API server in a child process on loopback: launched, awaited, stopped.

    A subclass says how to spawn the process (`_spawn`), which database file it starts
    from its template (`database`) and how its messages name it (`_what`).

    Args:
        template: A migrated database to copy to `database` when that file does not
            exist yet.
        port: The port, when chosen before the launch.
    """

    _what: ClassVar[str]
    """How messages name the server, e.g. "`prefect server start`"."""
    _slow_hint: ClassVar[str] = ""
    """What a start-up timeout's message suggests."""
    _poll_interval: ClassVar[float] = 0.05
    _stop_timeout: ClassVar[float] = 10.0

    def __init__(self, template: Path | None = None, port: int | None = None) -> None:
        self.template = template
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self._launched_at = 0.0
        # A file, not a pipe: a chatty server must never block on a full pipe.
        self._output: IO[bytes] | None = None

    def __repr__(self) -> str:
        state = "running" if self.process is not None else "stopped"
        return f"{type(self).__name__}(port={self.port!r}, {state})"

    @property
    def api_url(self) -> str:
        """The API's URL, `http://127.0.0.1:<port>/api`."""
        return f"http://127.0.0.1:{self.port}/api"

    @property
    @abstractmethod
    def database(self) -> Path | None:
        """The server's SQLite file, or `None` for another database."""

    @abstractmethod
    def _spawn(self) -> subprocess.Popen[bytes]:
        """Start the server's process, its output going to `self._output`."""

    def _exited(self, code: int) -> bool:
        """Whether a process that exited with `code` while starting was spawned again."""
        return False

    def launch(self) -> None:
        """Start the process and return at once; `wait()` then waits for it to answer."""
        start_from(self.template, self.database)
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self._launched_at = time.monotonic()
        self.process = self._spawn()

    def wait(self, timeout: float) -> None:
        """Wait until the launched process answers `/api/health`.

        Args:
            timeout: Seconds from the launch. It is asked at least once, so a process
                that has been answering for longer than that is taken.

        Raises:
            HarnessStartError: No answer within `timeout` seconds of the launch, or the
                process exited; the message has the end of the server's output.
        """
        import httpx

        if self.process is None:
            raise HarnessStartError(f"{self._what} was not launched, or was stopped")
        deadline = self._launched_at + timeout
        with httpx.Client() as client:
            # Asked at least once: a session that ran other tests first may come to wait
            # after the deadline, for a server that has long been answering.
            while True:
                code = self.process.poll()
                if code is not None and self._exited(code):
                    continue
                if code is not None:
                    self._fail(f"exited with code {code}")
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.api_url}/health", timeout=5).status_code == 200:
                        return
                if time.monotonic() >= deadline:
                    break
                time.sleep(self._poll_interval)
        self._fail(f"did not answer within {timeout:g} s{self._slow_hint}")

    def _fail(self, what: str) -> NoReturn:
        # The output is read before stop() closes it.
        failure = f"{self._what} on port {self.port} {what}{_output_tail(self._output)}"
        self.stop()
        raise HarnessStartError(failure)

    def _terminate(self, process: subprocess.Popen[bytes]) -> None:
        process.terminate()

    def _kill(self, process: subprocess.Popen[bytes]) -> None:
        process.kill()

    def stop(self) -> None:
        """Stop the process (terminate, then kill after a grace period); idempotent."""
        process, self.process = self.process, None
        if process is not None:
            self._terminate(process)
            try:
                process.wait(timeout=self._stop_timeout)
            except subprocess.TimeoutExpired:
                self._kill(process)
                process.wait()
        output, self._output = self._output, None
        if output is not None:
            output.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class HarnessServer(ServerProcess):
    """A Prefect API server process serving `create_app` on loopback.

    The process takes the Prefect settings current at `launch()`.

    Args:
        template: A migrated database to start from when the server's database file
            (from the current settings) does not exist yet.
    """

    _what = "the harness's Prefect API server"
    _slow_hint = "; pass a larger startup_timeout to prefect_harness() on a slow machine"

    def __init__(self, template: Path | None = None) -> None:
        super().__init__(template)

    @property
    def database(self) -> Path | None:
        """The SQLite file of the Prefect settings current at the call."""
        return database_path()

    def _spawn(self) -> subprocess.Popen[bytes]:
        from prefect.settings import get_current_settings

        self.port = free_port()
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

    def _exited(self, code: int) -> bool:
        # Another process took the free port before uvicorn bound it: try another.
        if code != _PORT_TAKEN:
            return False
        self.process = self._spawn()
        return True

    def _kill(self, process: subprocess.Popen[bytes]) -> None:
        _log.warning("the harness's API server did not stop in time; killing it")
        super()._kill(process)

    def start(self, timeout: float) -> None:
        """Start the process and wait until `/api/health` answers.

        Raises:
            HarnessStartError: No answer within `timeout` seconds, or the process
                exited; the message has the server's last error output.
        """
        self.launch()
        self.wait(timeout)
