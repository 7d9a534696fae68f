"""Each dbt node as a Prefect task run: parsing dbt's results, the states sent, the UI's view.

The parsing and the state sequence are tested on dbt's result shapes directly (fast);
the recording on a copy of the example project inside flows on the test harness.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from tests.conftest import Emitted
from tests.dbt.conftest import SIZE, Project

from ff_prefect_kit import DbtRunError, run_dbt_models
from ff_prefect_kit.dbt._node_assets import _source_key
from ff_prefect_kit.dbt._node_runs import NodeRun, node_runs
from ff_prefect_kit.dbt._nodes import _record, report_nodes
from ff_prefect_kit.testing import HarnessHandle, RunRecord

SEED = "seed.ff_analytics_example.dim_scoring_rule"
T0 = dt.datetime(2026, 11, 29, 12, 0, 0, tzinfo=dt.UTC)


def entry(unique_id: str, status: str = "success", **extra: Any) -> dict[str, Any]:
    """One result as dbt reports it (`RunExecutionResult.to_dict()` / run_results.json)."""
    return {
        "unique_id": unique_id,
        "status": status,
        "message": "OK",
        "failures": None,
        "adapter_response": {},
        "timing": [
            {"name": "compile", "started_at": "2026-11-29T12:00:00Z", "completed_at": "x"},
            {"name": "execute", "started_at": "x", "completed_at": "2026-11-29T12:00:02.5Z"},
        ],
        **extra,
    }


def node(status: str = "success", *, failures: int | None = None, started: bool = True) -> NodeRun:
    """A node run as `node_runs` makes it."""
    return NodeRun(
        unique_id="model.p.mrt_x",
        resource_type="model",
        name="mrt_x",
        status=status,
        message="dbt says",
        failures=failures,
        rows_affected=None,
        started=T0 if started else None,
        completed=T0 + dt.timedelta(seconds=2) if started else None,
        depends_on=(),
        table="mrt_x",
    )


class SentStates:
    """Records what `_record` hands Prefect's task-run state event: the seam of the test."""

    def __init__(self) -> None:
        self.sent: list[tuple[Any, Any, Any]] = []

    def __call__(self, task_run: Any, initial: Any, validated: Any, follows: Any = None) -> str:
        self.sent.append((task_run.model_copy(), initial, validated))
        return "event"

    def record(self, run: NodeRun) -> UUID:
        return _record(
            run,
            emit_state=self,
            flow_run_id=uuid4(),
            parent=None,
            by_node={},
            finished=T0 + dt.timedelta(minutes=1),
        )


def test_node_runs_read_status_timing_rows_and_parents() -> None:
    """An in-process result gives each node's status, dbt's timing, rows and parents."""
    raw = {
        "results": [
            entry(
                SEED,
                adapter_response={"rows_affected": 23},
                node={
                    "resource_type": "seed",
                    "name": "dim_scoring_rule",
                    "schema": "main",
                    "alias": "dim_scoring_rule",
                    "depends_on": {"nodes": ["model.p.a"]},
                },
            )
        ]
    }
    [run] = node_runs(raw, Path("/nowhere"))
    assert (run.resource_type, run.name, run.status, run.rows_affected) == (
        "seed",
        "dim_scoring_rule",
        "success",
        23,
    )
    assert (run.started, run.completed) == (T0, T0 + dt.timedelta(seconds=2.5))
    assert (run.depends_on, run.table) == (("model.p.a",), "dim_scoring_rule")


def test_node_runs_take_the_graph_from_the_manifest_for_run_results_json(tmp_path: Path) -> None:
    """run_results.json names nodes by id only: type, name and parents come from the manifest."""
    manifest = {
        "nodes": {
            "model.p.mrt_x": {
                "resource_type": "model",
                "name": "mrt_x",
                "schema": "marts",
                "alias": "mrt_x",
                "depends_on": {"nodes": ["source.p.s.t"]},
            }
        }
    }
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_text(json.dumps(manifest))
    [run] = node_runs({"results": [entry("model.p.mrt_x")]}, tmp_path)
    assert (run.resource_type, run.depends_on, run.table) == (
        "model",
        ("source.p.s.t",),
        "marts.mrt_x",
    )


def test_node_runs_without_a_manifest_still_name_each_node(tmp_path: Path) -> None:
    """Without a manifest a node is still reported, typed and named from its id."""
    [run] = node_runs({"results": [entry("test.p.not_null_x", "pass", timing=[])]}, tmp_path)
    assert (run.resource_type, run.name, run.depends_on, run.started) == (
        "test",
        "not_null_x",
        (),
        None,
    )


@pytest.mark.parametrize(
    ("status", "states"),
    [
        ("success", ["PENDING", "RUNNING", "COMPLETED"]),
        ("pass", ["PENDING", "RUNNING", "COMPLETED"]),
        ("error", ["PENDING", "RUNNING", "FAILED"]),
        ("fail", ["PENDING", "RUNNING", "FAILED"]),
        ("skipped", ["PENDING", "CANCELLED"]),
    ],
)
def test_each_dbt_status_becomes_its_prefect_state_sequence(status: str, states: list[str]) -> None:
    """A node goes Pending, Running, then Completed or Failed; a skipped one is Cancelled."""
    sent = SentStates()
    sent.record(node(status, started=status != "skipped"))
    assert [validated.type.value for _, _, validated in sent.sent] == states
    assert [initial for _, initial, _ in sent.sent][1:] == [v for _, _, v in sent.sent][:-1]


def test_a_skipped_node_is_named_skipped() -> None:
    """dbt's skipped node ends in a Cancelled state named Skipped, not a failure."""
    sent = SentStates()
    sent.record(node("skipped", started=False))
    assert sent.sent[-1][2].name == "Skipped"


def test_the_task_run_carries_dbts_own_timing() -> None:
    """The recorded start, end and run time are dbt's, not the moment of reporting."""
    sent = SentStates()
    sent.record(node())
    task_run, _, final = sent.sent[-1]
    assert (task_run.start_time, task_run.end_time) == (T0, T0 + dt.timedelta(seconds=2))
    assert task_run.total_run_time == dt.timedelta(seconds=2)
    assert final.timestamp == T0 + dt.timedelta(seconds=2)


def test_a_failed_test_says_its_failing_rows_in_the_state_message() -> None:
    """A failing dbt test's final state message has its failing-row count and dbt's message."""
    sent = SentStates()
    sent.record(node("fail", failures=3))
    assert sent.sent[-1][2].message == "fail (3 failing rows) in 2.00 s: dbt says"


def test_each_node_run_is_its_own_task_run() -> None:
    """Two runs of one node get distinct dynamic keys, so the server keeps both."""
    sent = SentStates()
    sent.record(node())
    sent.record(node())
    assert len({task_run.dynamic_key for task_run, _, _ in sent.sent}) == 2


@pytest.mark.parametrize(
    ("source", "key"),
    [
        (
            {"relation_name": "read_parquet('/d/analytics/v/latest.parquet')"},
            "file:///d/analytics/v/latest.parquet",
        ),
        ({"relation_name": "'data/v.parquet'"}, "file:///p/data/v.parquet"),
        ({"relation_name": "read_parquet('s3://b/v.parquet')"}, "s3://b/v.parquet"),
        (
            {"relation_name": '"ff"."raw"."t"', "schema": "raw", "identifier": "t"},
            "duckdb:///db.duckdb/raw.t",
        ),
    ],
    ids=["read_parquet", "quoted-relative", "s3", "table"],
)
def test_a_source_is_keyed_by_the_file_it_reads_or_its_table(
    source: dict[str, str], key: str
) -> None:
    """A source read through external_location is its file's asset; else its table's."""
    assert _source_key(source, Path("/db.duckdb"), Path("/p")) == key


def test_outside_a_flow_run_nothing_is_recorded(tmp_path: Path) -> None:
    """report_nodes outside a flow run records no task run and raises nothing."""
    raw = {"results": [entry("model.p.mrt_x")]}
    assert report_nodes(raw, tmp_path, database=tmp_path / "ff.duckdb") == []


def build_in_a_flow(
    harness: HarnessHandle, project: Project, selector: str, **options: Any
) -> RunRecord:
    """Run `run_dbt_models(selector)` in a flow and read the run back."""
    from prefect import flow

    @flow
    def build() -> None:
        run_dbt_models(
            selector, project_dir=project.directory, vars=SIZE, env=project.env, **options
        )

    return harness.run_record(build(return_state=True))


def test_in_a_flow_each_node_is_a_task_run_nested_in_run_dbt_models(
    seeded_project: Project, prefect_test_harness: HarnessHandle
) -> None:
    """The seed and its three tests are completed task runs under run-dbt-models."""
    record = build_in_a_flow(prefect_test_harness, seeded_project, "dim_scoring_rule")
    parent = record.task("run-dbt-models")
    nodes = {t.name: t for t in record.tasks if t.id != parent.id}
    assert len(nodes) == 4
    assert {t.state for t in nodes.values()} == {"COMPLETED"}
    assert all(parent.name in t.upstream for t in nodes.values())
    assert nodes["seed dim_scoring_rule"].message.startswith("success (23 rows affected) in ")


def test_a_failing_dbt_test_is_a_failed_task_run_with_its_failing_rows(
    seeded_project: Project, prefect_test_harness: HarnessHandle
) -> None:
    """The UI shows which node failed: the dbt test's task run fails with its row count."""
    failing = seeded_project.directory / "tests" / "assert_three_rules_fail.sql"
    failing.parent.mkdir(exist_ok=True)
    failing.write_text("select * from {{ ref('dim_scoring_rule') }} limit 3\n")
    try:
        record = build_in_a_flow(prefect_test_harness, seeded_project, "assert_three_rules_fail")
    finally:
        failing.unlink()
    assert record.task("run-dbt-models").state == "FAILED"
    node = record.task("test assert_three_rules_fail")
    assert node.state == "FAILED"
    assert node.message.startswith("fail (3 failing rows) in ")


def test_report_nodes_false_records_only_run_dbt_models(
    seeded_project: Project, prefect_test_harness: HarnessHandle
) -> None:
    """With report_nodes=False the flow run has the one run-dbt-models task run."""
    record = build_in_a_flow(
        prefect_test_harness, seeded_project, "dim_scoring_rule", report_nodes=False
    )
    assert [t.task_name for t in record.tasks] == ["run-dbt-models"]


def test_a_subprocess_run_is_reported_from_run_results_json(
    seeded_project: Project, prefect_test_harness: HarnessHandle
) -> None:
    """`command=["dbt", "build"]` records the nodes too, with the graph from the manifest."""
    record = build_in_a_flow(
        prefect_test_harness, seeded_project, "dim_scoring_rule", command=["dbt", "build"]
    )
    tests = [t for t in record.tasks if t.name.startswith("test ")]
    assert len(tests) == 3
    assert all("seed dim_scoring_rule" in t.upstream for t in tests)


def test_the_error_still_names_the_failing_node_when_reporting(
    seeded_project: Project, prefect_test_harness: HarnessHandle
) -> None:
    """Reporting nodes does not change the error run_dbt_models raises."""
    from prefect import flow

    @flow
    def build() -> None:
        run_dbt_models(
            "mrt_typo_x", project_dir=seeded_project.directory, vars=SIZE, env=seeded_project.env
        )

    with pytest.raises(DbtRunError, match="selector 'mrt_typo_x' matched no nodes"):
        build()


def model_raw(tmp_path: Path) -> dict[str, Any]:
    """A model built from a seed of the same run and a Parquet source (in the manifest)."""
    manifest = {
        "sources": {
            "source.p.analytics.v": {
                "relation_name": "read_parquet('/data/analytics/v/latest.parquet')"
            }
        }
    }
    (tmp_path / "target").mkdir(exist_ok=True)
    (tmp_path / "target" / "manifest.json").write_text(json.dumps(manifest))
    seed = {"resource_type": "seed", "name": "s", "alias": "s", "schema": "main"}
    model = {
        "resource_type": "model",
        "name": "mrt_v",
        "alias": "mrt_v",
        "schema": "main",
        "depends_on": {"nodes": ["seed.p.s", "source.p.analytics.v", "macro.p.m"]},
    }
    return {"results": [entry("seed.p.s", node=seed), entry("model.p.mrt_v", node=model)]}


def test_a_built_model_is_materialized_from_its_parents(
    tmp_path: Path, emitted: Emitted, prefect_test_harness: HarnessHandle
) -> None:
    """A model's asset event names its seed's table and its source's Parquet file upstream."""
    from prefect import flow

    @flow
    def report() -> None:
        report_nodes(model_raw(tmp_path), tmp_path, database=Path("/w/ff.duckdb"))

    report()
    [event] = [
        e
        for e in emitted.events
        if e["resource"]["prefect.resource.id"] == "duckdb:///w/ff.duckdb/mrt_v"
    ]
    assert event["event"] == "prefect.asset.materialization.succeeded"
    upstream = {
        r["prefect.resource.id"] for r in event["related"] if r["prefect.resource.role"] == "asset"
    }
    assert upstream == {"duckdb:///w/ff.duckdb/s", "file:///data/analytics/v/latest.parquet"}


def test_without_a_database_path_nodes_are_reported_without_assets(
    tmp_path: Path, emitted: Emitted, prefect_test_harness: HarnessHandle
) -> None:
    """With no DuckDB path known, the nodes are task runs and no asset event is sent."""
    from prefect import flow

    @flow
    def report() -> list[UUID]:
        return report_nodes(model_raw(tmp_path), tmp_path, database=None)

    assert len(report()) == 2
    assert emitted.events == []


def test_the_models_built_pass_on_to_the_tasks_after_run_dbt_models(
    tmp_path: Path, emitted: Emitted, prefect_test_harness: HarnessHandle
) -> None:
    """The task that ran dbt hands the models it built on as the upstream of its consumers."""
    from prefect import flow, task
    from prefect.context import FlowRunContext

    @task
    def dbt() -> None:
        report_nodes(model_raw(tmp_path), tmp_path, database=Path("/w/ff.duckdb"))

    @flow
    def build() -> set[str]:
        dbt()
        context = FlowRunContext.get()
        assert context is not None
        return {a.key for assets in context.task_run_assets.values() for a in assets}

    assert build() == {"duckdb:///w/ff.duckdb/s", "duckdb:///w/ff.duckdb/mrt_v"}


def test_a_report_that_fails_never_fails_the_build(
    seeded_project: Project,
    prefect_test_harness: HarnessHandle,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Recording the nodes is for the UI: when it raises, the build still passes, with a warning."""
    import ff_prefect_kit.dbt._runner as runner

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the events client went away")

    monkeypatch.setattr(runner, "_record_nodes", broken)
    record = build_in_a_flow(prefect_test_harness, seeded_project, "dim_scoring_rule")
    assert record.task("run-dbt-models").state == "COMPLETED"
    assert "Could not record dbt's nodes as task runs" in caplog.text
