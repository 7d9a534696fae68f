"""A real `prefect server start` for integration tests: what runs in production, on loopback.

The harness (`prefect_harness`) serves Prefect's app tuned for speed. `PrefectServer` runs
Prefect's own command as a user deploys it, with its own `PREFECT_HOME` and SQLite file,
so that a test can check what the UI will show: state transitions, the task graph,
artifacts and logs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ff_prefect_kit.testing._database import start_from
from ff_prefect_kit.testing._server import (
    HarnessStartError,
    _free_port,
    drain_client_workers,
    output_tail,
)

__all__ = ["PrefectServer"]

_STOP_TIMEOUT = 15.0
# Settings of the caller's that must not reach the server: it is a fresh local one.
_NOT_PASSED = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_HOME")


class PrefectServer:
    """`prefect server start` on a free loopback port, its own home and SQLite database.

    Use it as a context manager: the server is stopped (its whole process group) on
    exit, even when the block raises.

    Args:
        template: A migrated database to start from (the kept one of the harness), so
            the server skips the migrations; `None` migrates a new database.
        startup_timeout: Seconds to wait for `/api/health`.
    """

    def __init__(self, template: Path | None = None, startup_timeout: float = 180.0) -> None:
        self.template = template
        self.startup_timeout = startup_timeout
        self.port = _free_port()
        self.home = Path(tempfile.mkdtemp(prefix="ff-prefect-server-"))
        self.process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    def __repr__(self) -> str:
        state = "running" if self.process is not None else "stopped"
        return f"PrefectServer(port={self.port}, {state})"

    @property
    def api_url(self) -> str:
        """The API's URL, `http://127.0.0.1:<port>/api`."""
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def database(self) -> Path:
        """The server's SQLite file."""
        return self.home / "prefect.db"

    def environment(self) -> dict[str, str]:
        """What a process that runs flows against this server needs in its environment."""
        return {
            "PREFECT_API_URL": self.api_url,
            "PREFECT_HOME": str(self.home / "client"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }

    def start(self) -> None:
        """Start `prefect server start` and wait until its API answers.

        Raises:
            HarnessStartError: No answer within the start-up timeout, or the process
                exited; the message has the end of its output.
        """
        import httpx

        start_from(self.template, self.database)
        environment = {k: v for k, v in os.environ.items() if k not in _NOT_PASSED}
        environment |= {
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{self.database}",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_UI_ENABLED": "false",
            "PREFECT_UI_ENABLED": "false",
        }
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        command = [sys.executable, "-m", "prefect", "server", "start"]
        self.process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(self.port)],
            env=environment,
            stdout=self._output,
            stderr=self._output,
            start_new_session=True,  # its own process group: stop() ends its children too
        )
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                if (code := self.process.poll()) is not None:
                    failure = self._failure(f"exited with code {code}")
                    self.stop()
                    raise HarnessStartError(failure)
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.api_url}/health", timeout=5).status_code == 200:
                        return
                time.sleep(0.1)
        failure = self._failure(f"did not answer within {self.startup_timeout:g} s")
        self.stop()
        raise HarnessStartError(failure)

    def _failure(self, what: str) -> str:
        return f"`prefect server start` on port {self.port} {what}{output_tail(self._output)}"

    def stop(self) -> None:
        """Stop the server's process group (SIGTERM, then SIGKILL); idempotent."""
        process, self.process = self.process, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        output, self._output = self._output, None
        if output is not None:
            output.close()

    @contextlib.contextmanager
    def use(self) -> Iterator[None]:
        """Point this process's Prefect client at the server inside the block.

        The client's events and log workers are drained on the way in and out: they
        stay bound to the URL they started with, so without it the events of the block
        would go to the previous API, and those of later runs to this server.
        """
        from prefect.settings import PREFECT_API_URL, temporary_settings

        drain_client_workers()
        try:
            with temporary_settings({PREFECT_API_URL: self.api_url}):
                yield
        finally:
            drain_client_workers()

    def __enter__(self) -> PrefectServer:
        try:
            self.start()
        except BaseException:
            shutil.rmtree(self.home, ignore_errors=True)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)
