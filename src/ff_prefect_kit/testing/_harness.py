"""A Prefect test harness that is fast, isolated and always torn down."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ff_prefect_kit._retry import is_testing, set_testing
from ff_prefect_kit.testing._records import RunRecord, run_record

__all__ = ["HarnessHandle", "no_retry_delays", "prefect_harness"]

DEFAULT_STARTUP_TIMEOUT = 180.0


@dataclass(frozen=True)
class HarnessHandle:
    """What a running harness offers a test.

    Attributes:
        api_url: The temporary API's URL (on loopback).
        home: The temporary `PREFECT_HOME`; results and local storage live below it.
    """

    api_url: str
    home: Path

    def run_record(self, state_or_id: Any, **options: Any) -> RunRecord:
        """Read a finished flow run back from this API; see `run_record`."""
        return run_record(state_or_id, **options)


@contextmanager
def prefect_harness(startup_timeout: float = DEFAULT_STARTUP_TIMEOUT) -> Iterator[HarnessHandle]:
    """Run a temporary Prefect API for tests, isolated from `~/.prefect`.

    On top of Prefect's `prefect_test_harness`: a temporary `PREFECT_HOME` and
    result storage, server telemetry off, flow heartbeats off (a trivial flow runs
    in ~0.1 s instead of ~1 s), a start-up timeout that fits a slow CI, and
    teardown in `finally` so that a failing test never leaks a server process.

    Args:
        startup_timeout: Seconds to wait for the server to answer.

    Yields:
        A handle with the API's URL and the temporary home.
    """
    import prefect.settings
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_HOME,
        PREFECT_LOCAL_STORAGE_PATH,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    updates: dict[Any, Any] = {
        PREFECT_LOCAL_STORAGE_PATH: None,  # set below, under the temporary home
        PREFECT_SERVER_ANALYTICS_ENABLED: False,
    }
    # Flow heartbeats arrived in Prefect 3.7; older releases have nothing to turn off.
    heartbeat = getattr(prefect.settings, "PREFECT_FLOWS_HEARTBEAT_FREQUENCY", None)
    if heartbeat is not None:
        updates[heartbeat] = None

    home = Path(tempfile.mkdtemp(prefix="ff-prefect-kit-"))
    updates[PREFECT_HOME] = home
    updates[PREFECT_LOCAL_STORAGE_PATH] = home / "storage"
    try:
        with ExitStack() as stack:
            stack.enter_context(temporary_settings(updates=updates))
            stack.enter_context(prefect_test_harness(server_startup_timeout=int(startup_timeout)))
            yield HarnessHandle(api_url=str(PREFECT_API_URL.value()), home=home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def no_retry_delays() -> Iterator[None]:
    """Make analytics tasks retry at once inside the block (attempts still happen)."""
    before = is_testing()
    set_testing(True)
    try:
        yield
    finally:
        set_testing(before)
