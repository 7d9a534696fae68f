"""Against a real `prefect server start`: the example flow's asset lineage and dbt nodes.

The example flow runs in a subprocess pointed at the server, as a user runs it; the
tests read back what the server recorded: the asset events (`/api/events/filter`,
which is where Prefect's server keeps assets) and the task runs of each dbt node.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest
from _example_on_server import ExampleRun

from ff_prefect_kit.testing import PrefectServer


@dataclass(frozen=True)
class Lineage:
    """The example flow's run on the server, and the asset keys it should have recorded."""

    server: PrefectServer
    flow_run_id: UUID
    mart: str
    parquet: str
    analytics_mart: str

    def materializations(self, key: str, *, at_least: int = 1) -> list[dict[str, Any]]:
        """The server's `prefect.asset.materialization.*` events of the asset `key`."""
        body = {
            "filter": {
                "event": {"prefix": ["prefect.asset.materialization."]},
                "resource": {"id": [key]},
            },
            "limit": 50,
        }
        deadline = time.monotonic() + 30
        while True:  # the server stores events a moment after they arrive
            answer = httpx.post(f"{self.server.api_url}/events/filter", json=body, timeout=10)
            answer.raise_for_status()
            events: list[dict[str, Any]] = answer.json()["events"]
            if len(events) >= at_least or time.monotonic() > deadline:
                return events
            time.sleep(0.2)


def _upstream(event: dict[str, Any]) -> set[str]:
    return {
        r["prefect.resource.id"] for r in event["related"] if r["prefect.resource.role"] == "asset"
    }


@pytest.fixture(scope="module")
def lineage(example_run: ExampleRun) -> Lineage:
    """The example flow's run on the server (shared with test_prefect_server.py) and its keys."""
    return Lineage(
        server=example_run.server,
        flow_run_id=example_run.flow_run_id,
        mart=f"duckdb://{example_run.database}/mrt_fantasy_actuals_weekly",
        parquet=f"file://{example_run.parquet}",
        analytics_mart=f"duckdb://{example_run.database}/mrt_player_valuation",
    )


def test_the_parquet_is_materialized_from_the_mart(lineage: Lineage) -> None:
    """write-parquet's file is a materialized asset whose upstream is the mart loaded."""
    [event] = lineage.materializations(lineage.parquet)
    assert event["event"] == "prefect.asset.materialization.succeeded"
    assert _upstream(event) == {lineage.mart}
    assert event["payload"]["rows"] > 0


def test_the_analytics_mart_is_materialized_by_dbt_from_the_parquet(lineage: Lineage) -> None:
    """dbt's mrt_player_valuation is a materialized asset whose upstream is the Parquet."""
    [event] = lineage.materializations(lineage.analytics_mart)
    assert event["event"] == "prefect.asset.materialization.succeeded"
    assert _upstream(event) == {lineage.parquet}
    by = {r["prefect.resource.id"] for r in event["related"] if "materialized-by" in str(r)}
    assert by == {"dbt"}


def test_each_dbt_node_is_a_completed_task_run_under_run_dbt_models(lineage: Lineage) -> None:
    """The model and its dbt tests are task runs of the flow run, nested in run-dbt-models."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with lineage.server.use(), get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[lineage.flow_run_id]))
        )
    [parent] = [run.id for run in runs if run.name.startswith("run-dbt-models")]
    nodes = {run.name: run for run in runs if "dbt" in run.tags}
    model = nodes["model mrt_player_valuation"]
    assert model.state is not None
    assert model.state.type.value == "COMPLETED"
    assert [i.id for i in model.task_inputs["__parents__"]] == [parent]
    assert any(name.startswith("test accepted_values_mrt_player_valuation") for name in nodes)
