"""The node results of a dbt invocation as a Prefect table artifact, `dbt-run-results`."""

from __future__ import annotations

from ff_prefect_kit._context import in_run
from ff_prefect_kit._secrets import redact
from ff_prefect_kit.dbt._results import DbtRunResult

__all__ = ["publish_results"]

_ARTIFACT_KEY = "dbt-run-results"


def publish_results(result: DbtRunResult) -> None:
    """Publish the node results as a table artifact when inside a Prefect run."""
    if not in_run():
        return
    from prefect.artifacts import create_table_artifact

    failed = sum(node.failed for node in result.nodes)
    table = [
        {name: redact(cell) if isinstance(cell, str) else cell for name, cell in row.items()}
        for row in result.table()
    ]
    create_table_artifact(
        table=table,
        key=_ARTIFACT_KEY,
        description=redact(
            f"dbt --select {result.selector}: {len(result.nodes)} nodes, {failed} failed, "
            f"{result.elapsed:.1f} s"
        ),
    )
