"""Which failures `analytics_task` retries."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ff_prefect_kit._errors import ConfigError, InvalidOptionError, KitError

if TYPE_CHECKING:
    from prefect import Task
    from prefect.client.schemas.objects import State, TaskRun

__all__ = ["PROGRAMMING_ERRORS", "ExceptionTypes", "RetryPolicy", "exception_of"]

ExceptionTypes = type[BaseException] | tuple[type[BaseException], ...]

ExceptionTypesArg = ExceptionTypes | Iterable[type[BaseException]] | None

PROGRAMMING_ERRORS: tuple[type[BaseException], ...] = (
    NameError,
    TypeError,
    AttributeError,
    ImportError,
    SyntaxError,
)
"""Mistakes in the code itself, which another attempt runs into again: never retried.

A snippet copied with an undefined name would otherwise wait out every retry (about 7
minutes with the defaults) before failing. `no_retry_on=` adds types of your own to
these; naming one of these in `retry_on=` retries it after all (e.g.
`retry_on=(Exception, ImportError)` for a module on a network share that may be away).
"""


def _types(value: ExceptionTypesArg) -> tuple[type[BaseException], ...]:
    if value is None:
        return ()
    if isinstance(value, type):
        value = (value,)
    types = tuple(value)
    for t in types:
        if not (isinstance(t, type) and issubclass(t, BaseException)):
            raise InvalidOptionError(f"retry_on and no_retry_on take exception classes, got {t!r}")
    return types


def _permanent_defaults() -> tuple[type[BaseException], ...]:
    from pydantic import ValidationError

    return (ValidationError, ConfigError)


class RetryPolicy:
    """Decide whether a failed task run may retry, from the exception it raised.

    By default everything retries except errors that another attempt cannot fix:
    Pydantic `ValidationError`, `KitError`s that are not `transient` (`ConfigError`,
    `SchemaValidationError`, ...), and mistakes in the code (`PROGRAMMING_ERRORS`:
    `NameError`, `TypeError`, `AttributeError`, `ImportError`, `SyntaxError`).

    Args:
        retry_on: When given, only these exception types retry. A programming error
            type named here (`ImportError`, or a narrower one such as
            `ModuleNotFoundError`) is retried again; a broad type such as `Exception`
            does not re-enable them.
        no_retry_on: These exception types never retry, in addition to the defaults.
    """

    def __init__(
        self,
        retry_on: ExceptionTypesArg = None,
        no_retry_on: ExceptionTypesArg = None,
    ) -> None:
        self.retry_on = _types(retry_on) or None
        self.no_retry_on = _types(no_retry_on) + _permanent_defaults()
        # Programming errors that retry_on names on purpose: retried after all.
        self.retried_anyway = tuple(
            t for t in self.retry_on or () if issubclass(t, PROGRAMMING_ERRORS)
        )

    def __repr__(self) -> str:
        programming = [t for t in PROGRAMMING_ERRORS if not issubclass(t, self.retried_anyway)]
        names = [t.__name__ for t in (*self.no_retry_on, *programming)]
        only = [t.__name__ for t in self.retry_on] if self.retry_on else None
        return f"RetryPolicy(retry_on={only}, no_retry_on={names})"

    def should_retry(self, exc: BaseException | None) -> bool:
        """Whether a run that raised `exc` may be tried again."""
        if exc is None:
            # A returned Failed state, or nothing to inspect: Prefect's own rule.
            return True
        if isinstance(exc, self.no_retry_on):
            return False
        if isinstance(exc, PROGRAMMING_ERRORS) and not isinstance(exc, self.retried_anyway):
            return False
        if self.retry_on is not None:
            return isinstance(exc, self.retry_on)
        if isinstance(exc, KitError):
            return exc.transient
        return True

    def as_retry_condition(self) -> Callable[[Task[Any, Any], TaskRun, State[Any]], bool]:
        """This policy as Prefect's `retry_condition_fn`.

        A plain function, not a callable object: Prefect before 3.7 only calls a
        `retry_condition_fn` that `inspect.isfunction` accepts.
        """

        def retry_condition(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
            return self.should_retry(exception_of(state))

        retry_condition.__qualname__ = f"{self!r}.retry_condition"
        return retry_condition


def exception_of(state: State[Any]) -> BaseException | None:
    """The exception a failed state carries, or `None` when it carries none."""
    data = state.data
    if isinstance(data, BaseException):
        return data
    try:
        result = state.result(raise_on_failure=False)
    except Exception:
        return None
    if inspect.isawaitable(result):
        # Async context: the coroutine cannot be run from here; look no further.
        close = getattr(result, "close", None)
        if callable(close):
            close()
        return None
    return result if isinstance(result, BaseException) else None
