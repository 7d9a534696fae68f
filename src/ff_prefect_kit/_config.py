"""Everything the kit keeps per process, in one object behind one lock, with one reset.

No other module keeps mutable state at module level: each reads and writes its part
here (`state`), under `state.lock`. `reset_state()` puts it all back as a new process
has it; `set_testing()` switches the test mode, the one setting.
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["is_testing", "reset_state", "set_testing", "state"]


class _State:
    """The kit's per-process state. Hold `lock` to read or change any part of it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        # dbt-core keeps global state per process (flags, adapters, the invocation
        # context): one in-process dbt run at a time. Held for a whole build, so it is
        # not `lock`; a reset never replaces it.
        self.dbt_lock = threading.Lock()
        self.testing = False
        # Every live alert throttle (each has `forget_windows()`), so that a reset
        # quiets them all: a module-level flow keeps its throttle for the life of the
        # process. Kept across resets: the throttles are still alive.
        self.throttles: weakref.WeakSet[Any] = weakref.WeakSet()
        # (API URL, Variable name) of every alert window this process wrote to an API:
        # kept across resets, so that `reset_throttles()` can still delete them.
        self.throttle_variables: set[tuple[str, str]] = set()
        # Whether `core._recorded.wait_at_exit` is registered with `atexit` (it stays so).
        self.exit_wait_registered = False
        self._clear()

    def _clear(self) -> None:
        # The known secrets, and what they were read from (see _secrets.known_secrets).
        self.secrets_key: Any = None
        self.secrets: tuple[str, ...] = ()
        self.secrets_matcher: Any = None  # _secrets.KnownSecrets, compiled once per key
        # Every alert state file a throttle of this process has used, alive or not.
        self.throttle_files: set[Path] = set()
        # The APIs whose alert-window lock is known to exist (alerts._throttle_api).
        self.throttle_locks: set[str] = set()
        # Prefect's settings with the client's retries off, and what they were derived
        # from: (settings, PREFECT_ environment, derived) (alerts._throttle_api).
        self.settings_without_retries: tuple[Any, Any, Any] | None = None
        # (loaders' database, dbt's database) pairs already warned about.
        self.warned_database_pairs: set[tuple[Path, Path]] = set()
        # Loggers already looked at for user modules, and how many existed then.
        self.loggers_seen = 0
        self.loggers_considered: set[str] = set()
        # Per flow run, the task runs that failed (core._ledger.FailureLedger).
        self.ledger: Any = None
        # Kit task runs sent to Prefect's local API, in order (core._recorded).
        self.local_task_runs: dict[Any, None] = {}


state = _State()


def reset_state() -> None:
    """Forget all the kit has kept in this process: as a new process, test mode off.

    Alert windows are forgotten in memory; their shared state files are left alone
    (`ff_prefect_kit.alerts.reset_throttles()` empties those too).
    """
    with state.lock:
        state.testing = False
        state._clear()
        throttles = list(state.throttles)
    for throttle in throttles:
        throttle.forget_windows()


class _RestoreTesting:
    """Returned by `set_testing`: on leaving a `with` block, the previous mode is back."""

    def __init__(self, before: bool) -> None:
        self._before = before

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with state.lock:
            state.testing = self._before


def set_testing(testing: bool) -> _RestoreTesting:
    """Switch the test mode: analytics tasks retry at once, with no delay.

    The attempts still happen; only the waiting between them is skipped. The switch
    takes effect at once; used as a context manager, the previous mode comes back
    when the block ends:

        with set_testing(True):
            run_the_flow()

    Args:
        testing: `True` to skip retry delays, `False` to wait again.

    Returns:
        A context manager that restores the previous mode on exit.
    """
    with state.lock:
        before = state.testing
        state.testing = bool(testing)
    return _RestoreTesting(before)


def is_testing() -> bool:
    """Whether the test mode (`set_testing(True)`) is on."""
    return state.testing
