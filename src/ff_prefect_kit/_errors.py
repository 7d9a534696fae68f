"""The kit's exceptions: every error the kit raises on purpose is a `KitError`.

    KitError
    ├── ConfigError (ValueError)             a setting is missing or malformed
    ├── InvalidOptionError (TypeError, ValueError)   a decorator option is unknown or unusable
    ├── SchemaValidationError (ValueError)   data does not match its Pydantic model
    ├── MartNotFoundError (LookupError)      no such mart in the DuckDB file
    ├── InvalidMartNameError (ValueError)    a mart or column name is not an identifier
    ├── DatabaseNotFoundError (FileNotFoundError)   no DuckDB file at the path
    ├── MartLockedError                      a writer holds the DuckDB file (retried)
    ├── MartReadError                        a mart that exists but cannot be read
    ├── OutputPathError (ValueError)         an output path that may not be written
    ├── ParquetWriteError (ValueError)       data that cannot be written as a table
    ├── DiskFullError (OSError)              no space left for an output (retried)
    ├── ObjectStoreError (OSError)           an object store failed or was out of reach (retried)
    ├── DbtRunError                          dbt could not run, or a node failed
    ├── UnresolvedTaskFailureError           a submitted task failed and nobody looked
    ├── ApiUnreachableError (ConnectionError)   the Prefect API went away during a run
    ├── HarnessStartError                    a test's Prefect API server did not start
    └── UnsupportedVersionError (ImportError)   a library lacks a part the kit relies on

Each message names the value that was wrong and what to do about it.
"""

from __future__ import annotations

from typing import Any

# Texts that several errors share, defined once.

DUCKDB_LOCK_TEXTS = ("Could not set lock on file", "Conflicting lock is held")
"""What DuckDB says when another process holds a database file's write lock."""

JUST_HINT = (
    "add it to the project: `uv add --dev rust-just` (then `uv run just ...`) or "
    "`pip install rust-just`; or run the recipes' dbt commands without just"
)
"""How to get `just` when a justfile recipe needs it, in a project of one's own."""

DBT_EXTRA_HINT = (
    "dbt is not installed: add the kit with its dbt extra from where you installed it, "
    "for example `uv add --editable /path/to/ff_prefect_kit --extra dbt` or "
    "`uv pip install -e '/path/to/ff_prefect_kit[dbt]'` (ff_prefect_kit[dbt] brings "
    "dbt-core and dbt-duckdb; the kit is not on a package index)"
)
"""How to get dbt when a dbt run needs it."""


class KitError(Exception):
    """Base class of every error raised by ff_prefect_kit.

    `transient` tells `analytics_task`'s default retry policy whether running the
    same call again may succeed. Kit errors describe bad configuration or bad data
    unless a subclass says otherwise, so they are not retried.
    """

    transient: bool = False


class ConfigError(KitError, ValueError):
    """A setting is missing or malformed.

    The message names the variable and where to set it; it never echoes a secret.
    """


class InvalidOptionError(KitError, TypeError, ValueError):
    """A decorator was given an option it does not know, or a value it cannot use.

    It is both a `TypeError` (like Python's own error for an unknown keyword) and a
    `ValueError` (like an out-of-range number), so either `except` catches it.
    """


class SchemaValidationError(KitError, ValueError):
    """Data did not match its Pydantic schema. Never retried.

    Attributes:
        failures: One row per failing (row, field): `row` (the row's index in the
            frame, or `None` for a problem with the frame as a whole), `field`,
            `value` (its repr) and `message` (Pydantic's own words). A Polars
            DataFrame, or `None` when the error was raised with a message only.
    """

    def __init__(self, message: str, failures: Any = None) -> None:
        super().__init__(message)
        self.failures = failures


class MartNotFoundError(KitError, LookupError):
    """The DuckDB database has no table or view with the requested mart's name.

    Attributes:
        mart: The name asked for.
        available: The marts that exist, nearest name first.
    """

    def __init__(self, message: str, mart: str = "", available: list[str] | None = None) -> None:
        super().__init__(message)
        self.mart = mart
        self.available = available or []


class InvalidMartNameError(KitError, ValueError):
    """A mart or column name is not a plain SQL identifier (`name` or `schema.name`)."""


class DatabaseNotFoundError(KitError, FileNotFoundError):
    """The DuckDB database file does not exist; the message names the path and FF_DUCKDB_PATH."""


class MartLockedError(KitError):
    """Another process (usually dbt) holds the DuckDB file's write lock. Retried."""

    transient = True


class MartReadError(KitError):
    """A mart exists but cannot be read into a frame. Never retried.

    A view that no longer binds (a table or column it reads is gone), one that fails
    when DuckDB runs it (a cast, `error()`), or a column Polars has no type for (a
    `UNION`, an `INTERVAL` counting months). The message names the mart, what DuckDB
    or Polars said, and the fix (rebuild the model, or cast the column in it).
    """


class OutputPathError(KitError, ValueError):
    """An output path the caller may not write: outside the analytics root, unusable, or taken.

    Raised for a path escaping the root (unless allowed), one no file system takes,
    and a file the command line will not overwrite.
    """


class ParquetWriteError(KitError, ValueError):
    """The data given to the Parquet writer cannot be written as a table."""


class DiskFullError(KitError, OSError):
    """The device holding an output ran out of space (or quota) mid-write. Retried.

    Nothing was replaced: the previous file is intact and the partial one removed.
    The message names the output and its folder. `errno` is `ENOSPC` (or `EDQUOT`).
    """

    transient = True


class ObjectStoreError(KitError, OSError):
    """An object store (S3 or compatible) failed or could not be reached. Retried.

    Nothing was replaced: an object is written in one PUT, visible whole or not at all.
    The message names the object's URL and what to check (the endpoint, the network);
    credentials refused and a missing bucket are other errors (`ConfigError`,
    `OutputPathError`), since another attempt meets them again.
    """

    transient = True


class DbtRunError(KitError):
    """dbt could not run, or a model or test failed. Never retried.

    The message names each failing node with its message (and a test's failure count),
    or says what is missing (the `dbt` extra, `just`) or wrong (a selector matching
    nothing).

    Attributes:
        nodes: The per-node results dbt reported (`DbtNodeResult`), possibly empty.
    """

    def __init__(self, message: str, nodes: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.nodes = nodes


class UnresolvedTaskFailureError(KitError):
    """A monitored flow returned while task runs it submitted had failed unobserved.

    Attributes:
        failures: `(task run name, exception or None, state message)` for each.
    """

    def __init__(
        self, message: str, failures: list[tuple[str, BaseException | None, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.failures = failures or []


class ApiUnreachableError(KitError, ConnectionError):
    """The Prefect API stopped answering during a monitored flow's run.

    The message names the API's URL. The flow's alert was sent on a path that needs
    no API (the webhook, or the log).
    """


class HarnessStartError(KitError):
    """The harness's API server did not answer in time, or exited while starting.

    `PrefectServer` raises it too. The message names the server and its port, with the
    end of the server's output. Exported from `ff_prefect_kit.testing`.
    """


class UnsupportedVersionError(KitError, ImportError):
    """An installed library (Prefect, Pydantic, dbt) lacks a part the kit relies on.

    The message names the part, the installed release and the supported range.
    """


def describe(exc: BaseException) -> str:
    """`"<Type>: <message>"` for any exception, even one whose `__str__` raises."""
    try:
        message = str(exc)
    except Exception as error:
        message = f"<message unprintable: {type(error).__name__} in its __str__>"
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _prints(exc: BaseException) -> bool:
    try:
        str(exc)
    except Exception:
        return False
    return True


def printable(exc: BaseException) -> BaseException:
    """`exc` itself, or, when its `__str__` raises, a stand-in that prints.

    Prefect turns a failed run's exception into text; one that cannot print would
    leave the run Running and send no alert. The stand-in is an instance of a subclass
    of the same type (so `except` clauses and retry rules still match it), named like
    it, with the same attributes, and a message that says what happened.
    """
    if _prints(exc):
        return exc
    original = type(exc)
    text = describe(exc).split(": ", 1)[1]
    try:
        stand_in_type = type(original.__name__, (original,), {"__str__": lambda _self: text})
        stand_in_type.__qualname__ = original.__qualname__
        stand_in_type.__module__ = original.__module__
        stand_in: BaseException = BaseException.__new__(stand_in_type)
        stand_in.args = exc.args
        stand_in.__dict__.update(getattr(exc, "__dict__", {}))
    except Exception:  # a type that cannot be subclassed or copied
        return KitError(f"{original.__name__}: {text}")
    return stand_in
