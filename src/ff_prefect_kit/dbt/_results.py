"""What dbt reported: a `DbtNodeResult` per node and a `DbtRunResult` per invocation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ff_prefect_kit._secrets import redact

__all__ = ["FAILED_STATUSES", "DbtNodeResult", "DbtRunResult", "node_results"]

FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
"""The node statuses dbt reports for a node that failed."""


@dataclass(frozen=True)
class DbtNodeResult:
    """What dbt reported for one node (model, test, seed, snapshot).

    Attributes:
        unique_id: dbt's id, e.g. `model.my_project.mrt_player_valuation`.
        status: `success`, `error`, `pass`, `fail`, `warn`, `skipped`, ...
        execution_time: Seconds dbt spent on the node.
        message: dbt's message, e.g. `OK` or the database error.
        failures: For a test, the number of failing rows; else `None`.
        rows_affected: The rows the adapter reported (a seed's inserts), if it did.
    """

    unique_id: str
    status: str
    execution_time: float
    message: str | None
    failures: int | None
    rows_affected: int | None = None

    @property
    def failed(self) -> bool:
        """Whether the node errored, or is a test that failed."""
        return self.status in FAILED_STATUSES

    def describe(self) -> str:
        """One line naming the node, its status, its failure count and message."""
        count = f" ({self.failures} failing rows)" if self.failures else ""
        message = f": {self.message}" if self.message else ""
        return f"{self.unique_id} {self.status}{count}{message}"


@dataclass(frozen=True)
class DbtRunResult:
    """The outcome of a successful dbt invocation.

    Attributes:
        selector: The `--select` argument.
        command: What ran: `("dbtRunner", "build", ...)` in-process, else the argv.
        nodes: One result per node dbt ran, in dbt's order.
        elapsed: Wall-clock seconds of the invocation.
    """

    selector: str
    command: tuple[str, ...]
    nodes: tuple[DbtNodeResult, ...]
    elapsed: float

    def table(self) -> list[dict[str, Any]]:
        """The nodes as rows (the table artifact's content)."""
        return [
            {
                "unique_id": n.unique_id,
                "status": n.status,
                "execution_time": round(n.execution_time, 3),
                "message": n.message or "",
                "failures": n.failures,
                "rows_affected": n.rows_affected,
            }
            for n in self.nodes
        ]


def node_results(raw: Mapping[str, Any] | None) -> tuple[DbtNodeResult, ...]:
    """Read each node's result from dbt's results, in-process or from `run_results.json`.

    Known secrets in dbt's messages are redacted (`ff_prefect_kit._secrets`).

    Args:
        raw: dbt's results as a mapping, or `None` when dbt wrote none.

    Returns:
        One result per node, in dbt's order; empty for `None`.
    """
    if raw is None:
        return ()
    nodes = []
    for entry in raw.get("results", []):
        failures = entry.get("failures")
        response = entry.get("adapter_response") or {}
        rows = response.get("rows_affected") if isinstance(response, Mapping) else None
        # run_results.json names the node by id; the in-process result embeds the node.
        unique_id = entry.get("unique_id") or (entry.get("node") or {}).get("unique_id", "")
        nodes.append(
            DbtNodeResult(
                unique_id=str(unique_id),
                status=str(entry.get("status", "")),
                execution_time=float(entry.get("execution_time") or 0.0),
                # A database error quotes the value it failed on: maybe a secret.
                message=None if entry.get("message") is None else redact(str(entry["message"])),
                failures=None if failures is None else int(failures),
                rows_affected=rows if isinstance(rows, int) and rows >= 0 else None,
            )
        )
    return tuple(nodes)
