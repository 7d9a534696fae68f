"""Track the futures a flow submits, to catch failures nobody looked at.

Prefect leaves a flow Completed when a task submitted with `.submit()` failed and
its future was never resolved. `TrackingTaskRunner` wraps any task runner and
remembers the futures it hands out and whether user code resolved them, so that a
monitored flow can fail instead of hiding the failure.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from prefect.futures import PrefectFuture, PrefectFutureList
from prefect.task_runners import TaskRunner
from prefect.utilities.annotations import allow_failure

from ff_prefect_kit._errors import UnresolvedTaskFailureError, describe
from ff_prefect_kit._internals import FORWARDED_RUNNER_ATTRIBUTES
from ff_prefect_kit.core._ledger import ledger
from ff_prefect_kit.core._retry import exception_of

if TYPE_CHECKING:
    from prefect import Task

__all__ = ["TrackingTaskRunner", "raise_for_unresolved_failures"]

_OBSERVED = "_ff_prefect_kit_observed"
_TASK_NAME = "_ff_prefect_kit_task_name"


def _mark(future: PrefectFuture[Any]) -> None:
    setattr(future, _OBSERVED, True)


def _observe_when_resolved(future: PrefectFuture[Any]) -> None:
    # Resolving a future (result()) hands its failure to user code, which is then
    # responsible for it. The instance's method is wrapped; the class is untouched.
    original = future.result

    def result(*args: Any, **kwargs: Any) -> Any:
        _mark(future)
        return original(*args, **kwargs)

    future.result = result  # type: ignore[method-assign]


def _visit_futures(value: Any, on_future: Any, allowed: bool = False) -> None:
    from prefect.utilities.collections import visit_collection

    def visit(item: Any) -> Any:
        if isinstance(item, allow_failure):
            _visit_futures(item.unwrap(), on_future, allowed=True)
        elif isinstance(item, PrefectFuture):
            on_future(item, allowed)
        return item

    visit_collection(value, visit, return_data=False, max_depth=5)


class TrackingTaskRunner(TaskRunner[PrefectFuture[Any]]):
    """A task runner that delegates to another and remembers what it submitted.

    Args:
        inner: The task runner that actually runs the tasks.
    """

    def __init__(self, inner: TaskRunner[Any]) -> None:
        self.inner = inner
        super().__init__()  # type: ignore[no-untyped-call]
        self._futures: list[PrefectFuture[Any]] = []
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.inner.name

    def __repr__(self) -> str:
        return f"TrackingTaskRunner({self.inner!r})"

    if not TYPE_CHECKING:  # to the type checker a misspelt attribute stays an error

        def __getattr__(self, name: str) -> Any:
            # What this runner does not define is the inner runner's, so code that reads
            # the flow's task runner finds the one it configured (prefect-dask's
            # `get_dask_client()` reads `client_kwargs`); of its private parts, only those
            # `_internals` names. Unpickling asks before `inner` is set.
            private = name.startswith("_") and name not in FORWARDED_RUNNER_ATTRIBUTES
            if private or name == "inner":
                raise AttributeError(name)
            return getattr(self.inner, name)

    def duplicate(self) -> Self:
        return type(self)(self.inner.duplicate())

    def __getstate__(self) -> dict[str, Any]:
        # Prefect pickles the flow, and with it this runner, into every task run sent
        # to another process (a Dask worker). A lock does not pickle, and the futures
        # belong to the flow's process: the copy starts with a new lock and none.
        state = self.__dict__.copy()
        state.pop("_lock", None)
        state["_futures"] = []
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        self.inner.__enter__()
        super().__enter__()
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        try:
            self.inner.__exit__(exc_type, exc_value, traceback)
        finally:
            super().__exit__(exc_type, exc_value, traceback)

    def _track(self, future: PrefectFuture[Any], task: Task[Any, Any]) -> None:
        setattr(future, _TASK_NAME, task.name)
        _observe_when_resolved(future)
        with self._lock:
            self._futures.append(future)

    def _note_inputs(self, parameters: dict[str, Any], wait_for: Any) -> None:
        def allowed_failure(future: PrefectFuture[Any], allowed: bool) -> None:
            if allowed:
                _mark(future)

        _visit_futures(parameters, allowed_failure)
        _visit_futures(list(wait_for or ()), allowed_failure)

    def submit(
        self,
        task: Task[Any, Any],
        parameters: dict[str, Any],
        wait_for: Iterable[PrefectFuture[Any]] | None = None,
        dependencies: dict[str, set[Any]] | None = None,
    ) -> PrefectFuture[Any]:
        self._note_inputs(parameters, wait_for)
        future: PrefectFuture[Any] = self.inner.submit(task, parameters, wait_for, dependencies)
        self._track(future, task)
        return future

    def map(
        self,
        task: Task[Any, Any],
        parameters: dict[str, Any],
        wait_for: Iterable[PrefectFuture[Any]] | None = None,
    ) -> PrefectFutureList[PrefectFuture[Any]]:
        self._note_inputs(parameters, wait_for)
        futures = self.inner.map(task, parameters, wait_for)
        for future in futures:
            self._track(future, task)
        return futures

    def unobserved_failures(
        self, returned: Any = None, flow_run_id: UUID | None = None
    ) -> list[PrefectFuture[Any]]:
        """Futures that ended Failed or Crashed and that user code never resolved.

        Futures inside `returned` (the flow's return value) are resolved by Prefect
        itself, and futures whose failure an analytics task completed with (under
        `allow_failure`) were handled, so neither counts.

        Args:
            returned: The flow function's return value.
            flow_run_id: The flow run, to look up failures handled downstream.

        Returns:
            The failed, unobserved futures, in submission order.
        """
        _visit_futures(returned, lambda future, _allowed: _mark(future))
        with self._lock:
            futures = list(self._futures)
        consumed = ledger().consumed(flow_run_id) if flow_run_id else set()
        failed = []
        for future in futures:
            if getattr(future, _OBSERVED, False) or future.task_run_id in consumed:
                continue
            future.wait()
            state = future.state
            if state.is_failed() or state.is_crashed():
                failed.append(future)
        return failed


def raise_for_unresolved_failures(returned: Any) -> None:
    """Fail the current flow run if a submitted task failed unobserved.

    Raises:
        UnresolvedTaskFailureError: Naming each such task run and its error.
    """
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    runner = getattr(context, "task_runner", None)
    if not isinstance(runner, TrackingTaskRunner):
        return
    flow_run = getattr(context, "flow_run", None)
    failed = runner.unobserved_failures(returned, getattr(flow_run, "id", None))
    if not failed:
        return
    failures = []
    for future in failed:
        state = future.state
        name = getattr(future, _TASK_NAME, str(future.task_run_id))
        failures.append((name, exception_of(state), state.message or ""))
    described = "; ".join(
        f"{name!r} ({describe(exc)})" if exc else f"{name!r} ({message})"
        for name, exc, message in failures
    )
    raise UnresolvedTaskFailureError(
        f"{len(failures)} submitted task run(s) failed and their futures were never "
        f"resolved: {described}. Call .result() on each future, return it from the "
        "flow, or pass it on wrapped in allow_failure() to handle the failure yourself.",
        failures=failures,
    )
