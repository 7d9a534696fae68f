"""Read back what a flow run left in the Prefect API, once the API has caught up."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from prefect.client.schemas.objects import Artifact, FlowRun, TaskRun
    from prefect.client.schemas.objects import State as ClientState

__all__ = ["RunRecord", "TaskRecord", "run_record"]

_RUN_SUFFIX = re.compile(r"-[0-9a-f]{3}$")
_FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass(frozen=True)
class TaskRecord:
    """One task run as the API holds it.

    Attributes:
        id: The task run's id.
        name: The run's name, e.g. `load-dbt-mart-3e7`.
        task_name: The task's name, e.g. `load-dbt-mart`.
        state: The state type (`"COMPLETED"`, `"FAILED"`, ...), or `None`.
        message: The state's message.
        upstream: Names of the task runs whose results this one took as inputs.
    """

    id: UUID
    name: str
    task_name: str
    state: str | None
    message: str
    upstream: tuple[str, ...]


@dataclass(frozen=True)
class RunRecord:
    """A flow run with its task runs, logs and artifacts.

    Attributes:
        flow_run: The flow run.
        tasks: Its task runs, in start order.
        logs: The run's log messages, oldest first.
        artifacts: The artifacts its tasks and flow created.
    """

    flow_run: FlowRun
    tasks: tuple[TaskRecord, ...]
    logs: tuple[str, ...]
    artifacts: tuple[Artifact, ...] = field(default=())

    @property
    def state(self) -> str | None:
        """The flow run's state type."""
        return _state_type(self.flow_run.state)

    def task(self, task_name: str) -> TaskRecord:
        """The one task run of the task named `task_name`.

        Raises:
            LookupError: None or several runs of that task; the message lists them all.
        """
        found = [t for t in self.tasks if t.task_name == task_name]
        if len(found) != 1:
            names = ", ".join(t.name for t in self.tasks) or "none"
            raise LookupError(
                f"expected one run of task {task_name!r}, found {len(found)}; task runs: {names}"
            )
        return found[0]

    @property
    def dependencies(self) -> dict[str, set[str]]:
        """Task name -> names of the tasks it took inputs from."""
        by_run = {t.name: t.task_name for t in self.tasks}
        return {t.task_name: {by_run.get(u, u) for u in t.upstream} for t in self.tasks}


def _state_type(state: ClientState | None) -> str | None:
    return None if state is None else str(state.type.value)


def _flush_client_side() -> None:
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    try:
        EventsWorker.drain_all(timeout=5)
    except Exception:  # nothing queued or the worker already stopped
        return


def _flow_run_id(state_or_id: Any) -> UUID:
    if isinstance(state_or_id, UUID):
        return state_or_id
    if isinstance(state_or_id, str):
        return UUID(state_or_id)
    details = getattr(state_or_id, "state_details", None)
    flow_run_id = getattr(details, "flow_run_id", None)
    if isinstance(flow_run_id, UUID):
        return flow_run_id
    raise TypeError(
        f"run_record takes a flow run's final State (flow(return_state=True)) or its id, "
        f"got {state_or_id!r}"
    )


def _read(client: Any, flow_run_id: UUID) -> tuple[FlowRun, list[TaskRun]]:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    flow_run = client.read_flow_run(flow_run_id)
    task_runs = client.read_task_runs(
        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
        sort=TaskRunSort.EXPECTED_START_TIME_ASC,
    )
    return flow_run, list(task_runs)


def _caught_up(
    flow_run: FlowRun, task_runs: list[TaskRun], expected_tasks: int | None, seen: list[int]
) -> bool:
    if _state_type(flow_run.state) not in _FINAL:
        return False
    if any(_state_type(t.state) not in _FINAL for t in task_runs):
        return False
    if expected_tasks is not None:
        return len(task_runs) >= expected_tasks
    seen.append(len(task_runs))
    # Task runs reach the API through events: the count must hold still twice.
    return len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]


_LOG_PAGE = 200


def run_record(
    state_or_id: Any,
    *,
    expected_tasks: int | None = None,
    timeout: float = 15.0,
    poll_interval: float = 0.05,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RunRecord:
    """Read a finished flow run back from the API, waiting until the API has caught up.

    Right after a flow returns, Prefect may still be recording its task runs (they
    arrive through events): this polls until the flow run and every task run are
    in a final state and the task runs stop appearing (or `expected_tasks` are
    there), then reads the logs and artifacts.

    Args:
        state_or_id: The flow run's final state, or its id.
        expected_tasks: How many task runs to wait for, when known.
        timeout: Seconds to wait at most.
        poll_interval: Seconds between reads.
        clock: The clock used for the timeout.
        sleep: How to wait between reads.

    Returns:
        The record.

    Raises:
        TimeoutError: The API had not caught up in time; the message says with what.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.client.schemas.objects import TaskRunResult
    from prefect.client.schemas.sorting import LogSort

    flow_run_id = _flow_run_id(state_or_id)
    _flush_client_side()
    deadline = clock() + timeout
    seen: list[int] = []
    with get_client(sync_client=True) as client:
        while True:
            flow_run, task_runs = _read(client, flow_run_id)
            if _caught_up(flow_run, task_runs, expected_tasks, seen):
                break
            if clock() > deadline:
                states = ", ".join(f"{t.name}={_state_type(t.state)}" for t in task_runs)
                raise TimeoutError(
                    f"flow run {flow_run.name!r} not recorded after {timeout} s: flow "
                    f"{_state_type(flow_run.state)}, {len(task_runs)} task run(s) [{states}]"
                    + (f", expected {expected_tasks}" if expected_tasks is not None else "")
                )
            sleep(poll_interval)
        # Every line, page by page: the API answers at most a page (200) at a time.
        logs: list[Any] = []
        while True:
            page = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])),
                limit=_LOG_PAGE,
                offset=len(logs),
                sort=LogSort.TIMESTAMP_ASC,
            )
            logs.extend(page)
            if len(page) < _LOG_PAGE:
                break
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    names = {t.id: t.name for t in task_runs}
    tasks = tuple(
        TaskRecord(
            id=t.id,
            name=t.name,
            task_name=_RUN_SUFFIX.sub("", t.name),
            state=_state_type(t.state),
            message=(t.state.message if t.state else None) or "",
            upstream=tuple(
                names.get(item.id, str(item.id))
                for inputs in t.task_inputs.values()
                for item in inputs
                if isinstance(item, TaskRunResult)
            ),
        )
        for t in task_runs
    )
    return RunRecord(
        flow_run=flow_run,
        tasks=tasks,
        logs=tuple(log.message for log in logs),
        artifacts=tuple(artifacts),
    )
