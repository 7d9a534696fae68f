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
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

from ff_prefect_kit.testing._server import ServerProcess, drain_client_workers, free_port

__all__ = ["PrefectServer"]

# Settings of the caller's that must not reach the server: it is a fresh local one.
_NOT_PASSED = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_HOME")


class PrefectServer(ServerProcess):
    """`prefect server start` on a free loopback port, its own home and SQLite database.

    Use it as a context manager: the server is stopped (its whole process group) on
    exit, even when the block raises.

    Args:
        template: A migrated database to start from (the kept one of the harness), so
            the server skips the migrations; `None` migrates a new database.
        startup_timeout: Seconds to wait for `/api/health`.
    """

    port: int
    _what = "`prefect server start`"
    _poll_interval = 0.1
    _stop_timeout = 15.0

    def __init__(self, template: Path | None = None, startup_timeout: float = 180.0) -> None:
        super().__init__(template, port=free_port())
        self.startup_timeout = startup_timeout
        self.home = Path(tempfile.mkdtemp(prefix="ff-prefect-server-"))

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
        self.launch()
        self.wait(self.startup_timeout)

    def _spawn(self) -> subprocess.Popen[bytes]:
        environment = {k: v for k, v in os.environ.items() if k not in _NOT_PASSED}
        environment |= {
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{self.database}",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_UI_ENABLED": "false",
            "PREFECT_UI_ENABLED": "false",
        }
        command = [sys.executable, "-m", "prefect", "server", "start"]
        return subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(self.port)],
            env=environment,
            stdout=self._output,
            stderr=self._output,
            start_new_session=True,  # its own process group: stop() ends its children too
        )

    # The server's own children (its services) share its process group: signal them all.
    def _terminate(self, process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)

    def _kill(self, process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

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

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            shutil.rmtree(self.home, ignore_errors=True)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        super().__exit__(*exc)
        shutil.rmtree(self.home, ignore_errors=True)
