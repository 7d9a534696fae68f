"""Each dbt node as its own Prefect task run, and each model dbt built as a Prefect asset.

After dbt returns, every node of its results (in-process: dbt's `RunExecutionResult`;
subprocess: `target/run_results.json`) is recorded in the flow run as a task run of
its own, with dbt's own start and end times, its state (Completed, Failed, or
Cancelled named Skipped), and a message with the rows affected or the failing-row
count. Its upstream nodes in the same invocation (the manifest's `depends_on`) are
its inputs, so the UI draws dbt's graph under `run-dbt-models`.

How: Prefect 3 records task runs from the `prefect.task-run.<State>` events the client
sends (the task engine does nothing else). The kit sends the same events for each
node through Prefect's own `emit_task_run_state_change_event`, with the states
timestamped by dbt: no task runs in Prefect, no API call per node, no waiting. That
function lives in `prefect.utilities.engine`, which Prefect does not document as
public: it is looked up here only, and where it is missing nothing is reported.

A model, seed or snapshot that dbt built is also an asset,
`duckdb://<database>/<table>`, whose upstream assets are its parents in the manifest:
models and seeds (the same key), and sources, a source read from a file through
dbt-duckdb's `external_location` as `file://<path>` (the key `write_parquet` gives
the file it wrote).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from ff_prefect_kit._assets import file_asset_key, passes_on, table_asset_key, valid_asset_keys

__all__ = ["NodeRun", "node_runs", "report_nodes"]

_log = logging.getLogger("ff_prefect_kit.dbt")

_FAILED = frozenset({"error", "fail", "runtime error"})
_ASSETS = frozenset({"model", "seed", "snapshot"})
_QUOTED = re.compile(r"'([^']+)'")
# Pending sorts before Running when both would carry the same instant.
_TICK = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class NodeRun:
    """One node of a dbt invocation, as reported to Prefect.

    Attributes:
        unique_id: dbt's id, `model.project.name`.
        resource_type: `model`, `seed`, `test`, `snapshot`, ...
        name: The node's name.
        status: dbt's status (`success`, `pass`, `fail`, `error`, `skipped`, ...).
        message: dbt's message.
        failures: A test's failing rows.
        rows_affected: What the adapter reported (a seed's inserted rows, say).
        started: When dbt started the node (compiling it); `None` if it never ran.
        completed: When dbt finished it; `None` if it never ran.
        depends_on: The node's parents in the manifest.
        table: The relation it builds, `table` or `schema.table` (not `main`).
    """

    unique_id: str
    resource_type: str
    name: str
    status: str
    message: str | None
    failures: int | None
    rows_affected: int | None
    started: dt.datetime | None
    completed: dt.datetime | None
    depends_on: tuple[str, ...]
    table: str | None

    @property
    def failed(self) -> bool:
        """Whether dbt failed the node."""
        return self.status in _FAILED

    @property
    def skipped(self) -> bool:
        """Whether dbt skipped the node (an upstream node failed)."""
        return self.status == "skipped"

    def describe(self) -> str:
        """The task run's state message: status, rows, failing rows, timing, dbt's word."""
        parts = [self.status]
        if self.failures:
            parts.append(f"({self.failures} failing rows)")
        if self.rows_affected is not None:
            parts.append(f"({self.rows_affected} rows affected)")
        if self.started is not None and self.completed is not None:
            parts.append(f"in {(self.completed - self.started).total_seconds():.2f} s")
        text = " ".join(parts)
        return f"{text}: {self.message}" if self.message else text


class _Manifest:
    """`target/manifest.json`, read only when a result lacks what it says."""

    def __init__(self, project: Path) -> None:
        self._path = project / "target" / "manifest.json"
        self._loaded: dict[str, Any] | None = None

    def _data(self) -> dict[str, Any]:
        if self._loaded is None:
            try:
                self._loaded = json.loads(self._path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                _log.debug("no dbt manifest at %s (%s): no node graph to report", self._path, exc)
                self._loaded = {}
        return self._loaded

    def node(self, unique_id: str) -> Mapping[str, Any]:
        data = self._data()
        found = data.get("nodes", {}).get(unique_id) or data.get("sources", {}).get(unique_id)
        return found or {}


def _time(text: object) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _table(node: Mapping[str, Any]) -> str | None:
    name = node.get("alias") or node.get("identifier") or node.get("name")
    if not name:
        return None
    schema = node.get("schema")
    return str(name) if schema in (None, "", "main") else f"{schema}.{name}"


def node_runs(
    raw: Mapping[str, Any] | None, project: Path, manifest: _Manifest | None = None
) -> list[NodeRun]:
    """The nodes of dbt's results (a `RunExecutionResult` as a dict, or run_results.json)."""
    if raw is None:
        return []
    manifest = manifest or _Manifest(project)
    runs = []
    for entry in raw.get("results", []):
        # The in-process result embeds the node; run_results.json names it by id only.
        node = entry.get("node") or {}
        unique_id = str(entry.get("unique_id") or node.get("unique_id", ""))
        if not node.get("depends_on"):
            node = {**manifest.node(unique_id), **node}
        timing = [t for t in entry.get("timing") or [] if isinstance(t, Mapping)]
        response = entry.get("adapter_response") or {}
        rows = response.get("rows_affected") if isinstance(response, Mapping) else None
        failures = entry.get("failures")
        runs.append(
            NodeRun(
                unique_id=unique_id,
                resource_type=str(node.get("resource_type") or unique_id.split(".", 1)[0]),
                name=str(node.get("name") or unique_id.rsplit(".", 1)[-1]),
                status=str(entry.get("status", "")),
                message=None if entry.get("message") is None else str(entry["message"]),
                failures=None if failures is None else int(failures),
                rows_affected=rows if isinstance(rows, int) and rows >= 0 else None,
                started=_time(timing[0].get("started_at")) if timing else None,
                completed=_time(timing[-1].get("completed_at")) if timing else None,
                depends_on=tuple(str(n) for n in (node.get("depends_on") or {}).get("nodes", [])),
                table=_table(node),
            )
        )
    return runs


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
    manifest = _Manifest(project)
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
        if database is not None and run.resource_type in _ASSETS and run.table:
            upstream = _upstream_keys(run, database, project, manifest, tables)
            key = table_asset_key(database, run.table)
            if _emit_asset(run, key, upstream, by_node[run.unique_id]):
                built.append(key)
    passes_on(built)
    return list(by_node.values())


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
    if run.skipped:
        final = Cancelled(
            name="Skipped", message=run.describe(), timestamp=completed, state_details=details
        )
    else:
        running: Any = Running(timestamp=started, state_details=details)
        _advance(task_run, running, run_count=1, start_time=started)
        event = emit_state(task_run, previous, running, follows=event)
        previous = running
        state = Failed if run.failed else Completed
        final = state(message=run.describe(), timestamp=completed, state_details=details)
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


def _source_key(node: Mapping[str, Any], database: Path, project: Path) -> str | None:
    """A source's asset key: its file if dbt-duckdb reads it from one, else its table."""
    location = str(
        node.get("relation_name") or (node.get("meta") or {}).get("external_location") or ""
    )
    # dbt-duckdb's relation for a file: `read_parquet('<path>')` or `'<path>'`; a
    # table's is `"db"."schema"."name"`.
    quoted = None if location.startswith('"') else _QUOTED.search(location)
    path = quoted.group(1) if quoted else ""
    if path and "{" not in path and "*" not in path:
        if "://" in path:
            return path
        if "." in Path(path).name:
            return file_asset_key(project / path)
    table = _table(node)
    return table_asset_key(database, table) if table else None


def _upstream_keys(
    run: NodeRun, database: Path, project: Path, manifest: _Manifest, tables: Mapping[str, str]
) -> list[str]:
    """The asset keys of a node's parents: tables for models and seeds, sources' files."""
    keys = []
    for parent in run.depends_on:
        kind = parent.split(".", 1)[0]
        if kind == "source":
            node = manifest.node(parent)
            found = _source_key(node, database, project) if node else None
        elif kind in _ASSETS:
            table = tables.get(parent) or _table(manifest.node(parent)) or parent.rsplit(".")[-1]
            found = table_asset_key(database, table)
        else:
            found = None
        if found is not None:
            keys.append(found)
    return keys


def _emit_asset(run: NodeRun, key: str, upstream: list[str], task_run_id: UUID) -> bool:
    """Emit the materialization of a model dbt ran; whether it was built."""
    from prefect.events import emit_event

    if run.skipped or not valid_asset_keys([key]):
        return False
    related_assets = [a.key for a in valid_asset_keys(upstream)]
    for asset in related_assets:
        emit_event(
            event="prefect.asset.referenced", resource={"prefect.resource.id": asset}, related=[]
        )
    related: list[dict[str, str]] = [
        {"prefect.resource.id": asset, "prefect.resource.role": "asset"} for asset in related_assets
    ]
    related.append({"prefect.resource.id": "dbt", "prefect.resource.role": "asset-materialized-by"})
    related.append(
        {
            "prefect.resource.id": f"prefect.task-run.{task_run_id}",
            "prefect.resource.role": "task-run",
        }
    )
    outcome = "failed" if run.failed else "succeeded"
    payload = {} if run.rows_affected is None else {"rows_affected": run.rows_affected}
    emit_event(
        event=f"prefect.asset.materialization.{outcome}",
        resource={"prefect.resource.id": key},
        occurred=run.completed,
        related=related,
        payload=payload or None,
    )
    return not run.failed
