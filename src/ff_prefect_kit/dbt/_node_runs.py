"""Each node of a dbt invocation's results as a `NodeRun`, filled in from the manifest.

dbt's results come in two shapes: in-process, a `RunExecutionResult` whose entries
embed their node; from a subprocess, `target/run_results.json`, which names each
node by id only, so its type, name, parents and relation come from
`target/manifest.json`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ff_prefect_kit._secrets import redact
from ff_prefect_kit.dbt._results import FAILED_STATUSES

__all__ = ["Manifest", "NodeRun", "node_runs", "table_name"]

_log = logging.getLogger("ff_prefect_kit.dbt")


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
        return self.status in FAILED_STATUSES

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


class Manifest:
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


def table_name(node: Mapping[str, Any]) -> str | None:
    name = node.get("alias") or node.get("identifier") or node.get("name")
    if not name:
        return None
    schema = node.get("schema")
    return str(name) if schema in (None, "", "main") else f"{schema}.{name}"


def node_runs(
    raw: Mapping[str, Any] | None, project: Path, manifest: Manifest | None = None
) -> list[NodeRun]:
    """The nodes of dbt's results (a `RunExecutionResult` as a dict, or run_results.json)."""
    if raw is None:
        return []
    manifest = manifest or Manifest(project)
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
                # The task run's state message: a known secret never reaches the API.
                message=None if entry.get("message") is None else redact(str(entry["message"])),
                failures=None if failures is None else int(failures),
                rows_affected=rows if isinstance(rows, int) and rows >= 0 else None,
                started=_time(timing[0].get("started_at")) if timing else None,
                completed=_time(timing[-1].get("completed_at")) if timing else None,
                depends_on=tuple(str(n) for n in (node.get("depends_on") or {}).get("nodes", [])),
                table=table_name(node),
            )
        )
    return runs
