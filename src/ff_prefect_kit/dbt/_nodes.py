"""Each dbt node as its own Prefect task run of the flow run: `report_nodes`.

After dbt returns, every node of its results (in-process: dbt's `RunExecutionResult`;
subprocess: `target/run_results.json`) is recorded in the flow run as a task run of
its own, with dbt's own start and end times, its state (Completed, Failed, or
Cancelled named Skipped), and a message with the rows affected or the failing-row
count. Its upstream nodes in the same invocation (the manifest's `depends_on`) are
its inputs, so the UI draws dbt's graph under `run-dbt-models`.

How: Prefect 3 records task runs from the `prefect.task-run.<State>` events the client
sends (the task engine does nothing else). The kit sends the same events for each
node through Prefect's own `emit_task_run_state_change_event`, with the states
timestamped by dbt: no task runs in Prefect and no API call per node. Then it waits
until the API has recorded them (`_recorded.py`): a burst of node events left
unrecorded when the script exits took the flow's later task runs with it on the
ephemeral API. That function lives in `prefect.utilities.engine`, which Prefect does
not document as public: it is looked up here only, and where it is missing nothing is
reported.

A model, seed or snapshot that dbt built is also an asset (`_node_assets.py`); the
nodes are read from dbt's results in `_node_runs.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from ff_prefect_kit._assets import passes_on, table_asset_key
from ff_prefect_kit._secrets import redact
from ff_prefect_kit.core._recorded import wait_until_recorded
from ff_prefect_kit.dbt._node_assets import ASSET_TYPES, emit_asset, upstream_keys
from ff_prefect_kit.dbt._node_runs import Manifest, NodeRun, node_runs

__all__ = ["report_nodes"]

# Pending sorts before Running when both would carry the same instant.
_TICK = dt.timedelta(microseconds=1)


def _prefect_engine() -> Any:
    """Prefect's task-run state event, or `None` where this Prefect lacks it."""
    from ff_prefect_kit._errors import UnsupportedVersionError
    from ff_prefect_kit._internals import task_run_state_event

    try:
        return task_run_state_event()
    except UnsupportedVersionError:  # pragma: no cover - a Prefect that moved it: report nothing
        return None


def report_nodes(
    raw: Mapping[str, Any] | None,
    project: Path,
    *,
    database: Path | None,
) -> list[UUID]:
    """Record each node of dbt's results as a task run of the current flow run.

    Outside a flow run (and where Prefect lacks what it takes) this does nothing.

    Args:
        raw: dbt's results as a dict.
        project: The dbt project (its `target/manifest.json` fills gaps in `raw`).
        database: The DuckDB file the models are built in, for their asset keys;
            `None` records no assets.

    Returns:
        The ids of the task runs recorded, in dbt's order.
    """
    from prefect.context import FlowRunContext, TaskRunContext

    flow_context = FlowRunContext.get()
    task_context = TaskRunContext.get()
    flow_run = getattr(flow_context, "flow_run", None)
    parent = getattr(task_context, "task_run", None)
    flow_run_id = getattr(flow_run, "id", None) or getattr(parent, "flow_run_id", None)
    emit_state = _prefect_engine()
    if flow_run_id is None or emit_state is None:
        return []
    manifest = Manifest(project)
    runs = node_runs(raw, project, manifest)
    finished = dt.datetime.now(dt.UTC)
    by_node: dict[str, UUID] = {}
    built: list[str] = []
    # Parents that ran are in the results; the manifest only for the others (sources).
    tables = {run.unique_id: run.table for run in runs if run.table}
    for run in runs:
        by_node[run.unique_id] = _record(
            run,
            emit_state=emit_state,
            flow_run_id=flow_run_id,
            parent=parent,
            by_node=by_node,
            finished=finished,
        )
        if database is not None and run.resource_type in ASSET_TYPES and run.table:
            upstream = upstream_keys(run, database, project, manifest, tables)
            key = table_asset_key(database, run.table)
            if emit_asset(run, key, upstream, by_node[run.unique_id]):
                built.append(key)
    passes_on(built)
    recorded = list(by_node.values())
    # The burst of node events must not leave the flow's later task runs queued behind
    # it, where the ephemeral API loses them at exit (see `_recorded.py`).
    wait_until_recorded(recorded)
    return recorded


def _record(
    run: NodeRun,
    *,
    emit_state: Any,
    flow_run_id: UUID,
    parent: Any,
    by_node: Mapping[str, UUID],
    finished: dt.datetime,
) -> UUID:
    from prefect.client.schemas.objects import TaskRun, TaskRunResult
    from prefect.states import Cancelled, Completed, Failed, Pending, Running

    run_id = uuid4()
    inputs: dict[str, list[Any]] = {}
    if parent is not None:
        inputs["__parents__"] = [TaskRunResult(id=parent.id)]
    upstream = [TaskRunResult(id=by_node[n]) for n in run.depends_on if n in by_node]
    if upstream:
        inputs["depends_on"] = upstream
    started = run.started or finished
    completed = max(run.completed or started, started + _TICK)
    details = {"task_run_id": run_id, "flow_run_id": flow_run_id}
    pending: Any = Pending(timestamp=started - _TICK, state_details=details)
    task_run = TaskRun(
        id=run_id,
        name=f"{run.resource_type} {run.name}",
        flow_run_id=flow_run_id,
        task_key=f"dbt.{run.unique_id}",
        # The server merges task runs with the same key in a flow run: one per node run.
        dynamic_key=run_id.hex,
        tags=["dbt", f"dbt:{run.resource_type}"],
        task_inputs=inputs,
        expected_start_time=pending.timestamp,
        state=pending,
        state_type=pending.type,
        state_name=pending.name,
    )
    event = emit_state(task_run, None, pending)
    previous = pending
    final: Any
    # dbt's message is redacted where it is read (`node_runs`); the whole text is again.
    message = redact(run.describe())
    if run.skipped:
        final = Cancelled(
            name="Skipped", message=message, timestamp=completed, state_details=details
        )
    else:
        running: Any = Running(timestamp=started, state_details=details)
        _advance(task_run, running, run_count=1, start_time=started)
        event = emit_state(task_run, previous, running, follows=event)
        previous = running
        state = Failed if run.failed else Completed
        final = state(message=message, timestamp=completed, state_details=details)
    if run.started is not None:
        _advance(task_run, final, end_time=completed, total_run_time=completed - started)
    else:
        _advance(task_run, final)
    emit_state(task_run, previous, final, follows=event)
    return run_id


def _advance(task_run: Any, state: Any, **fields: Any) -> None:
    task_run.state = state
    task_run.state_type = state.type
    task_run.state_name = state.name
    for name, value in fields.items():
        setattr(task_run, name, value)
