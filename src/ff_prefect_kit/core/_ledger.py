"""Which task runs of a flow run failed, known locally without asking the API.

Prefect creates task runs in the API through events, asynchronously, so when a
flow's failure hook runs, the failed task runs may not be readable yet. Analytics
tasks note their own outcome here; the flow's alert reads it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from uuid import UUID

from ff_prefect_kit import _config
from ff_prefect_kit._errors import describe
from ff_prefect_kit.core._recorded import note_task_run

__all__ = ["TaskFailure", "ledger"]


@dataclass(frozen=True)
class TaskFailure:
    """A task run whose last attempt raised."""

    task_name: str
    task_run_name: str
    exception: BaseException | None
    message: str = ""


class FailureLedger:
    """Per flow run, the task runs whose latest attempt raised.

    Bounded: the oldest flow runs are forgotten first, so flows that are not
    monitored (and never collect their entries) cannot grow it without end.
    """

    def __init__(self, max_flow_runs: int = 512) -> None:
        self._runs: OrderedDict[UUID, dict[UUID, TaskFailure]] = OrderedDict()
        self._consumed: OrderedDict[UUID, set[UUID]] = OrderedDict()
        self._max = max_flow_runs
        self._lock = threading.Lock()

    def record(self, flow_run_id: UUID, task_run_id: UUID, failure: TaskFailure) -> None:
        """Note that a task run's latest attempt raised."""
        with self._lock:
            runs = self._runs.setdefault(flow_run_id, {})
            self._runs.move_to_end(flow_run_id)
            runs[task_run_id] = failure
            while len(self._runs) > self._max:
                self._runs.popitem(last=False)

    def consume(self, flow_run_id: UUID, upstream_ids: set[UUID]) -> None:
        """Note that a task run completed with these task runs' results as inputs."""
        if not upstream_ids:
            return
        with self._lock:
            self._consumed.setdefault(flow_run_id, set()).update(upstream_ids)
            self._consumed.move_to_end(flow_run_id)
            while len(self._consumed) > self._max:
                self._consumed.popitem(last=False)

    def consumed(self, flow_run_id: UUID) -> set[UUID]:
        """The task runs whose results a completed task run took as inputs."""
        with self._lock:
            return set(self._consumed.get(flow_run_id, ()))

    def clear(self, flow_run_id: UUID, task_run_id: UUID) -> None:
        """Note that a task run's latest attempt succeeded."""
        with self._lock:
            runs = self._runs.get(flow_run_id)
            if runs is not None:
                runs.pop(task_run_id, None)

    def collect(self, flow_run_id: UUID) -> dict[UUID, TaskFailure]:
        """Take and forget the failures noted for a flow run."""
        with self._lock:
            self._consumed.pop(flow_run_id, None)
            return self._runs.pop(flow_run_id, {})


def ledger() -> FailureLedger:
    """This process's ledger (kept in the kit's state, so a state reset empties it)."""
    state = _config.state
    with state.lock:
        if state.ledger is None:
            state.ledger = FailureLedger()
        current: FailureLedger = state.ledger
        return current


def note_attempt(exc: BaseException | None) -> None:
    """Record the outcome of the current task run's attempt, if inside a flow run."""
    from prefect.context import TaskRunContext

    context = TaskRunContext.get()
    task_run = getattr(context, "task_run", None)
    if task_run is None or task_run.flow_run_id is None:
        return
    note_task_run(task_run.id)
    if exc is None:
        ledger().clear(task_run.flow_run_id, task_run.id)
        # A task that completed although an input had failed took that failure
        # on knowingly (allow_failure): the failure counts as handled.
        upstream = {
            getattr(item, "id", None)
            for inputs in task_run.task_inputs.values()
            for item in inputs
            if getattr(item, "input_type", None) == "task_run"
        }
        ledger().consume(task_run.flow_run_id, {u for u in upstream if isinstance(u, UUID)})
    else:
        assert context is not None
        ledger().record(
            task_run.flow_run_id,
            task_run.id,
            TaskFailure(context.task.name, task_run.name, exc, describe(exc)),
        )
