"""The one module that touches Prefect's, dbt's and Pydantic's private parts.

Every other module of the kit uses public APIs only. Each private name is looked up
here, through `private()`, which raises `UnsupportedVersionError` naming what it looked
for and the releases the kit supports when a library no longer has it. The test suite
calls `check_all()`, so CI on each supported stack proves every lookup still resolves.

Supported: Prefect 3.6.3 and later 3.x, Pydantic 2.12 and later 2.x, dbt-core 1.10-1.11.

Long on purpose: keeping every private part in one file is what lets a reader (and
`tests/test_layering.py`) see all the kit owes to other libraries' internals at once.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import random
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, SupportsIndex, overload
from uuid import UUID

from ff_prefect_kit._config import is_testing
from ff_prefect_kit._errors import UnsupportedVersionError

__all__ = [
    "FORWARDED_RUNNER_ATTRIBUTES",
    "SUPPORTED",
    "BackoffSchedule",
    "async_dispatch",
    "check_all",
    "close_dbt_duckdb_connections",
    "close_dbt_file_logs",
    "closing_dbt_python_model_loops",
    "global_settings_context",
    "has_custom_validation",
    "load_block",
    "notification_raise_requested",
    "prefect_migrations",
    "private",
    "pydantic_general_metadata",
    "register_block_type",
    "replace_task_run_consumer",
    "retype",
    "running_local_api_url",
    "saved_block_id",
    "task_run_recorder",
    "task_run_state_event",
]

SUPPORTED = {"prefect": ">=3.6.3,<4", "pydantic": ">=2.12,<3", "dbt-core": ">=1.10,<1.12"}

_DISTRIBUTION = {"prefect": "prefect", "pydantic": "pydantic", "dbt": "dbt-core"}


def _installed(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "(not installed)"


def private(module: str, name: str, purpose: str) -> Any:
    """Return `module.name`, a private part of another library that the kit relies on.

    Args:
        module: The module's dotted path, e.g. `"prefect._internal.compatibility"`.
        name: The attribute, e.g. `"async_dispatch"`; dots reach into it.
        purpose: What the kit uses it for, for the error message.

    Raises:
        UnsupportedVersionError: The module or the name is gone: names both, the
            installed release and the supported range.
    """
    try:
        found: Any = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise _unsupported(f"{module}.{name}", purpose) from exc
    return found


def _unsupported(what: str, purpose: str) -> UnsupportedVersionError:
    distribution = _DISTRIBUTION.get(what.split(".", 1)[0], what.split(".", 1)[0])
    supported = SUPPORTED.get(distribution, "")
    return UnsupportedVersionError(
        f"ff_prefect_kit looked for {what} ({purpose}) and the installed {distribution} "
        f"{_installed(distribution)} does not have it; the kit supports {distribution}"
        f"{supported}: install a supported release, or upgrade ff_prefect_kit"
    )


def _prefect_at_least(wanted: str) -> bool:
    from packaging.version import Version

    return Version(_installed("prefect")) >= Version(wanted)


# --- Prefect --------------------------------------------------------------------------


def async_dispatch(async_impl: Callable[..., Any]) -> Callable[[Callable[..., Any]], Any]:
    """Prefect's decorator making one method callable from sync and async code.

    `NotificationBlock.notify` is async in Prefect's base class; Prefect's own blocks
    use this decorator so that `block.notify(...)` works in both worlds.
    """
    decorator: Callable[[Callable[..., Any]], Any] = private(
        "prefect._internal.compatibility.async_dispatch",
        "async_dispatch",
        "a block method callable from sync and async code",
    )(async_impl)
    return decorator


def load_block(name: str) -> Any:
    """`Block.load(name)` from sync code, even inside a running event loop.

    Raises:
        ValueError: No block document has that name (Prefect's own error).
    """
    from prefect.blocks.core import Block

    # `_sync=True` is async_dispatch's switch: the sync path without guessing the caller.
    load: Any = Block.load
    return load(name, _sync=True)


def register_block_type(block_class: Any) -> None:
    """`block_class.register_type_and_schema()` from sync code."""
    block_class.register_type_and_schema(_sync=True)


def notification_raise_requested(block: Any) -> bool:
    """Whether a `NotificationBlock` is inside its `raise_on_failure()` block.

    Prefect keeps this in a private attribute that its own blocks read.
    """
    if not hasattr(block, "_raise_on_failure"):
        raise _unsupported(
            "prefect.blocks.abstract.NotificationBlock._raise_on_failure",
            "raise a failed delivery inside raise_on_failure()",
        )
    return bool(block._raise_on_failure)


class BackoffSchedule(list[float]):
    """Retry delays that Prefect's engine reads one at a time.

    Prefect's task engine indexes `retry_delay_seconds[attempt]` when a retry is due
    (a private behaviour, checked by `check_retry_delay_indexing`), so each read is
    where the kit applies what Prefect 3.6 does not: the jitter (Prefect before 3.7
    ignores `retry_jitter_factor` in its task engine) and the test mode (every delay
    reads 0 under `set_testing`).

    Each draw comes from the operating system's randomness (`random.SystemRandom`),
    which no copy shares: a schedule pickled into every task run sent to a Dask worker,
    or read by many threads, still spreads their retries apart. (A `random.Random`
    would travel with its state, and every copy would draw the same delay.)

    Args:
        delays: The delays before each retry, in seconds.
        jitter: Each delay is drawn from `delay * [1 - jitter, 1 + jitter]`, at
            least 0; 0 gives the delays as they are.
        rng: A random source to draw from instead (for tests that need a known
            sequence); its copies share its state.
    """

    def __init__(
        self, delays: Any = (), jitter: float = 0.0, rng: random.Random | None = None
    ) -> None:
        super().__init__(float(d) for d in delays)
        self.jitter = float(jitter)
        self._rng = rng

    @classmethod
    def exponential(
        cls, base: float, retries: int, factor: float, jitter: float = 0.0
    ) -> BackoffSchedule:
        """Delays `base, base*factor, base*factor**2, ...` for each retry."""
        return cls((base * factor**attempt for attempt in range(max(retries, 1))), jitter)

    def _effective(self, delay: float) -> float:
        if is_testing():
            return 0.0
        if not self.jitter or delay <= 0:
            return delay
        draw = (self._rng or random.SystemRandom()).random()
        return max(delay * (1.0 + self.jitter * (2.0 * draw - 1.0)), 0.0)

    def __repr__(self) -> str:
        return f"BackoffSchedule({list(self)!r}, jitter={self.jitter!r})"

    @overload
    def __getitem__(self, index: SupportsIndex) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> list[float]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> float | list[float]:
        if isinstance(index, slice):
            return [self._effective(v) for v in super().__getitem__(index)]
        return self._effective(super().__getitem__(index))


def check_retry_delay_indexing() -> None:
    """Fail loudly if Prefect's task engine no longer indexes `retry_delay_seconds`.

    Without that, `BackoffSchedule` would be read whole (no jitter, no test mode).
    """
    engine = private("prefect.task_engine", "SyncTaskRunEngine.handle_retry", "retry delays")
    try:
        source = inspect.getsource(engine)
    except (OSError, TypeError):  # no source shipped: nothing to check against
        return
    if "retry_delay_seconds[" not in source:
        raise _unsupported(
            "prefect.task_engine.SyncTaskRunEngine.handle_retry reading "
            "retry_delay_seconds[attempt]",
            "jittered retry delays and the test mode",
        )


_RECORDER = "prefect.server.services.task_run_recorder"
_RECORDER_PURPOSE = "writing the test server's task-run events in batches"


def task_run_recorder() -> Callable[[list[Any]], Any] | None:
    """The bulk writer of Prefect's task-run recorder, where it records in bulk.

    Returns:
        `record_bulk_task_run_events` on Prefect 3.7 and later (the harness then
        replaces the recorder's consumer with `replace_task_run_consumer`), `None` on
        earlier releases.
    """
    if not _prefect_at_least("3.7"):
        return None
    private(_RECORDER, "consumer", _RECORDER_PURPOSE)
    found: Callable[[list[Any]], Any] = private(
        _RECORDER, "record_bulk_task_run_events", _RECORDER_PURPOSE
    )
    return found


def replace_task_run_consumer(consumer: Callable[..., Any]) -> None:
    """Make Prefect's server use `consumer` (same signature) for task-run events.

    Replaces a function inside Prefect's server, in this process: the harness's server
    process calls it before the server starts.
    """
    private(_RECORDER, "consumer", _RECORDER_PURPOSE)
    setattr(importlib.import_module(_RECORDER), "consumer", consumer)  # noqa: B010


def saved_block_id(block: object) -> UUID | None:
    """The id a block was saved or loaded under; `None` for a block never saved."""
    found = getattr(block, "_block_document_id", None)
    return found if isinstance(found, UUID) else None


def retype(instance: object, cls: type) -> None:
    """Make `instance` (a Prefect `Flow`) an instance of its subclass `cls`, in place.

    The flow keeps every attribute Prefect set; only its methods become the
    subclass's. Relies on the subclass adding no slots and no `__init__` state.
    """
    instance.__class__ = cls


def running_local_api_url() -> str | None:
    """The URL of the local API Prefect started in this process, if it runs; else `None`.

    Prefect keeps its ephemeral server as the instance for port `None` of
    `SubprocessASGIServer._instances`; creating one to ask would only register another.
    """
    from prefect.server.api.server import SubprocessASGIServer

    instances = getattr(SubprocessASGIServer, "_instances", None)
    local = instances.get(None) if isinstance(instances, dict) else None
    return str(local.api_url) if local is not None and local.running else None


# Private attributes that a task runner wrapper must hand on to the runner it wraps:
# prefect-dask's `get_dask_client()` reads `task_runner._client`.
FORWARDED_RUNNER_ATTRIBUTES = frozenset({"_client"})


def prefect_migrations() -> Path:
    """The folder of Prefect's SQLite migrations (names the kept test database)."""
    database = private("prefect.server", "database", "naming the kept test database")
    folder = Path(database.__file__).parent / "_migrations" / "versions" / "sqlite"
    if not folder.is_dir():
        raise _unsupported(
            "prefect.server.database._migrations.versions.sqlite", "naming the kept test database"
        )
    return folder


def global_settings_context(settings_context: Any) -> contextlib.AbstractContextManager[Any]:
    """Make `settings_context` the process-wide default while the block runs.

    Threads whose context was copied before the harness started then see its API too.
    Prefect added this in 3.7; on earlier releases nothing changes.
    """
    if not _prefect_at_least("3.7"):
        return contextlib.nullcontext()
    enter = private(
        "prefect.context", "_temporary_global_settings_context", "the harness's settings"
    )
    manager: contextlib.AbstractContextManager[Any] = enter(settings_context)
    return manager


# --- Pydantic -------------------------------------------------------------------------


def has_custom_validation(schema: Any) -> bool:
    """Whether a Pydantic model runs code of its own when it validates.

    Field, model and root validators are in the model's private decorator registry;
    `model_post_init` is public.
    """
    from pydantic import BaseModel

    if not hasattr(schema, "__pydantic_decorators__"):
        raise _unsupported("pydantic.BaseModel.__pydantic_decorators__", "columnar validation")
    infos = schema.__pydantic_decorators__
    if infos.validators or infos.field_validators or infos.root_validators:
        return True
    if infos.model_validators:
        return True
    return bool(schema.model_post_init is not BaseModel.model_post_init)


def pydantic_general_metadata(item: object) -> dict[str, Any] | None:
    """The constraints in Pydantic's private general-metadata object, else `None`.

    `Field(pattern=..., allow_inf_nan=...)` puts them in such an object, not in an
    `annotated_types` constraint.
    """
    kind = private("pydantic._internal._fields", "pydantic_general_metadata", "columnar validation")
    general = type(kind())
    return dict(vars(item)) if isinstance(item, general) else None


# --- dbt ------------------------------------------------------------------------------


def close_dbt_duckdb_connections() -> None:
    """Release the DuckDB file that dbt-duckdb keeps open after an invocation.

    dbt-duckdb caches its environment (and the open database) at class level until the
    process exits. Nothing to do when dbt-duckdb is not installed.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return
    close = getattr(DuckDBConnectionManager, "close_all_connections", None)
    if close is None:
        raise _unsupported(
            "dbt.adapters.duckdb.connections.DuckDBConnectionManager.close_all_connections",
            "releasing the DuckDB file after an in-process dbt run",
        )
    close()


def close_dbt_file_logs() -> None:
    """Close dbt's `logs/dbt.log` handlers, which dbt replaces without closing."""
    import logging

    try:
        from dbt_common.events.event_manager_client import get_event_manager
    except ImportError:
        return
    manager: Any = get_event_manager()
    for logger in getattr(manager, "loggers", []):
        python_logger: Any = getattr(logger, "_python_logger", None)
        for handler in list(getattr(python_logger, "handlers", [])):
            if isinstance(handler, logging.FileHandler):
                handler.close()
                python_logger.removeHandler(handler)


_DBT_DUCKDB_ENVIRONMENTS = "dbt.adapters.duckdb.environments"


@contextlib.contextmanager
def closing_dbt_python_model_loops() -> Iterator[None]:
    """Close the event loops dbt-duckdb opens for Python models, once the call is over.

    Before each Python model, dbt-duckdb's `_ensure_event_loop()` gives the worker
    thread an asyncio event loop and never closes it: a `ResourceWarning` at some later
    garbage collection, an error in a `-W error` test suite. Inside this block, the
    loops it creates in other threads are noted and closed on exit. The caller holds
    the kit's dbt lock, so no other dbt invocation runs meanwhile.
    """
    import asyncio
    import threading

    try:
        module: Any = importlib.import_module(_DBT_DUCKDB_ENVIRONMENTS)
    except ImportError:  # no dbt-duckdb: nothing opens loops
        yield
        return
    original = getattr(module, "_ensure_event_loop", None)
    if original is None:
        raise _unsupported(
            f"{_DBT_DUCKDB_ENVIRONMENTS}._ensure_event_loop",
            "closing the event loops dbt-duckdb opens for Python models",
        )
    opened: list[asyncio.AbstractEventLoop] = []

    def ensure_event_loop() -> None:
        original()
        # The main thread's loop may be the caller's own: only worker threads' are noted.
        if threading.current_thread() is not threading.main_thread():
            opened.append(asyncio.get_event_loop())

    module._ensure_event_loop = ensure_event_loop
    try:
        yield
    finally:
        module._ensure_event_loop = original
        for loop in opened:
            if not loop.is_running() and not loop.is_closed():
                loop.close()


# --- all of it ------------------------------------------------------------------------


def task_run_state_event() -> Callable[..., Any]:
    """Prefect's emitter of a task run's state-change event: how dbt nodes become task runs.

    Raises:
        UnsupportedVersionError: This Prefect no longer has it.
    """
    emit: Callable[..., Any] = private(
        "prefect.utilities.engine",
        "emit_task_run_state_change_event",
        "reporting each dbt node as a task run",
    )
    return emit


def check_all() -> Iterator[str]:
    """Resolve every private part the installed libraries should have; yield each name.

    Raises:
        UnsupportedVersionError: One is gone.
    """
    private("prefect._internal.compatibility.async_dispatch", "async_dispatch", "block methods")
    yield "prefect async_dispatch"
    check_retry_delay_indexing()
    yield "prefect task engine retry_delay_seconds[attempt]"
    from prefect.blocks.abstract import NotificationBlock

    if "_raise_on_failure" not in getattr(NotificationBlock, "__private_attributes__", {}):
        raise _unsupported(
            "prefect.blocks.abstract.NotificationBlock._raise_on_failure",
            "raise a failed delivery inside raise_on_failure()",
        )
    yield "prefect NotificationBlock._raise_on_failure"
    prefect_migrations()
    yield "prefect SQLite migrations"
    task_run_recorder()
    yield "prefect task-run recorder"
    if _prefect_at_least("3.7"):
        private("prefect.context", "_temporary_global_settings_context", "the harness")
    yield "prefect global settings context"
    task_run_state_event()
    yield "prefect task-run state event"
    from prefect.server.api.server import SubprocessASGIServer

    if not isinstance(getattr(SubprocessASGIServer, "_instances", None), dict):
        raise _unsupported(
            "prefect.server.api.server.SubprocessASGIServer._instances",
            "find the local API this process runs, for the alert windows",
        )
    yield "prefect SubprocessASGIServer._instances"
    from pydantic import BaseModel

    has_custom_validation(BaseModel)
    pydantic_general_metadata(object())
    yield "pydantic decorators and general metadata"
    with contextlib.suppress(ImportError):
        import dbt.adapters.duckdb.connections as duckdb_connections

        if not hasattr(duckdb_connections.DuckDBConnectionManager, "close_all_connections"):
            raise _unsupported(
                "dbt.adapters.duckdb.connections.DuckDBConnectionManager.close_all_connections",
                "releasing the DuckDB file",
            )
        yield "dbt-duckdb close_all_connections"
    with contextlib.suppress(ImportError):
        environments = importlib.import_module(_DBT_DUCKDB_ENVIRONMENTS)
        if not callable(getattr(environments, "_ensure_event_loop", None)):
            raise _unsupported(
                f"{_DBT_DUCKDB_ENVIRONMENTS}._ensure_event_loop",
                "closing the event loops dbt-duckdb opens for Python models",
            )
        yield "dbt-duckdb _ensure_event_loop"
    with contextlib.suppress(ImportError):
        from dbt_common.events.event_manager_client import get_event_manager

        if not hasattr(get_event_manager(), "loggers"):
            raise _unsupported(
                "dbt_common.events.event_manager_client.get_event_manager().loggers",
                "closing dbt's log files after an in-process run",
            )
        yield "dbt event manager loggers"
