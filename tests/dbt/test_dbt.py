"""`run_dbt_models` on a copy of the example dbt project: real dbt-duckdb runs, no mocks.

Each dbt invocation costs seconds, so one module-scoped build serves most tests, and
the error cases reuse that project with the same vars (dbt's partial parse stays valid).
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from tests.dbt.conftest import SIZE, Project

from ff_prefect_kit import DbtRunError, run_dbt_models
from ff_prefect_kit.testing import MART_COLUMNS, HarnessHandle, build_mart, generate_raw


def test_build_reports_every_node(built_project: Project) -> None:
    """The result lists each model, seed and test with its status and timing."""
    by_id = {node.unique_id: node for node in built_project.build.nodes}
    model = by_id["model.ff_analytics_example.mrt_fantasy_actuals_weekly"]
    assert model.status == "success"
    assert model.execution_time > 0
    assert "seed.ff_analytics_example.dim_scoring_rule" in by_id
    tests = [n for n in built_project.build.nodes if n.unique_id.startswith("test.")]
    assert tests
    assert {n.status for n in tests} == {"pass"}
    assert {row["unique_id"] for row in built_project.build.table()} == set(by_id)


def test_mart_has_exactly_the_contract(built_project: Project) -> None:
    """mrt_fantasy_actuals_weekly's columns, order and types are the contract's."""
    with duckdb.connect(str(built_project.database), read_only=True) as con:
        described = con.sql("DESCRIBE mrt_fantasy_actuals_weekly").fetchall()
    assert [(row[0], row[1]) for row in described] == list(MART_COLUMNS.items())


def test_dbt_mart_equals_the_generators_mart(built_project: Project) -> None:
    """dbt's mart (seed-driven points) equals `build_mart` for the same seed and size."""
    with duckdb.connect(str(built_project.database), read_only=True) as con:
        query = "SELECT * FROM mrt_fantasy_actuals_weekly ORDER BY season, week, player_key"
        built = pl.from_arrow(con.sql(query).to_arrow_table())
    expected = build_mart(generate_raw(seasons=2, players=60, seed=5))
    assert isinstance(built, pl.DataFrame)
    assert_frame_equal(built, expected, check_exact=False, abs_tol=1e-9)


def test_valuation_mart_is_built_from_the_parquet_source(built_project: Project) -> None:
    """mrt_player_valuation reads the flow's Parquet and passes its dbt tests."""
    with duckdb.connect(str(built_project.database), read_only=True) as con:
        rows = con.sql("SELECT count(*), count(DISTINCT value_tier) FROM mrt_player_valuation")
        [(count, tiers)] = rows.fetchall()
    expected = len(
        pl.read_parquet(built_project.data_dir / "analytics/player_valuation/latest.parquet")
    )
    assert count == expected
    assert tiers >= 3
    ids = {n.unique_id for n in built_project.build.nodes if n.status == "pass"}
    assert any("accepted_values_mrt_player_valuation_value_tier" in i for i in ids)


def test_database_opens_read_only_in_this_process_after_a_run(built_project: Project) -> None:
    """Right after run_dbt_models returns, this process opens the DuckDB file read-only."""
    built_project.run("dim_scoring_rule")
    with duckdb.connect(str(built_project.database), read_only=True) as con:
        assert con.sql("SELECT count(*) > 0 FROM dim_scoring_rule").fetchall() == [(True,)]


def test_database_opens_read_only_from_another_process_after_a_run(built_project: Project) -> None:
    """Right after run_dbt_models returns, another process opens the DuckDB file read-only."""
    built_project.run("dim_scoring_rule")
    script = (
        "import duckdb, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(con.sql('SELECT count(*) FROM mrt_fantasy_actuals_weekly').fetchall()[0][0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(built_project.database)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 0


@pytest.mark.parametrize("command", [None, ("dbt", "build")], ids=["in-process", "subprocess"])
def test_failing_model_raises_naming_it(
    built_project: Project, command: tuple[str, ...] | None
) -> None:
    """A model that fails raises DbtRunError naming the model and the database's message."""
    broken = built_project.directory / "models" / "marts" / "mrt_broken.sql"
    broken.write_text("select no_such_column from {{ ref('stg_players') }}\n")
    try:
        with pytest.raises(DbtRunError) as caught:
            built_project.run("mrt_broken", command=command)
    finally:
        broken.unlink()
    message = str(caught.value)
    assert message.startswith("dbt build --select mrt_broken failed: 1 of 1 nodes failed:")
    assert "model.ff_analytics_example.mrt_broken error" in message
    assert "no_such_column" in message
    assert [n.unique_id for n in caught.value.nodes if n.status == "error"] == [
        "model.ff_analytics_example.mrt_broken"
    ]
    if command is not None:
        assert "dbt output (last lines):" in message


def test_failing_dbt_test_raises_with_its_failure_count(built_project: Project) -> None:
    """A dbt test that fails raises DbtRunError naming it with its failing-row count."""
    failing = built_project.directory / "tests" / "assert_three_rules_fail.sql"
    failing.parent.mkdir(exist_ok=True)
    failing.write_text("select * from {{ ref('dim_scoring_rule') }} limit 3\n")
    try:
        with pytest.raises(DbtRunError) as caught:
            built_project.run("assert_three_rules_fail")
    finally:
        failing.unlink()
    assert "test.ff_analytics_example.assert_three_rules_fail fail (3 failing rows)" in str(
        caught.value
    )


def test_unknown_selector_is_an_error_not_an_empty_success(built_project: Project) -> None:
    """A selector that matches nothing raises DbtRunError naming the selector."""
    with pytest.raises(DbtRunError, match="selector 'mrt_no_such_model' matched no nodes"):
        built_project.run("mrt_no_such_model")


def test_missing_dbt_names_the_extra(
    built_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without dbt importable, the error names the `ff_prefect_kit[dbt]` extra."""
    monkeypatch.setitem(sys.modules, "dbt.cli.main", None)
    with pytest.raises(DbtRunError, match=r"ff_prefect_kit\[dbt\]"):
        built_project.run("dim_scoring_rule")


def test_missing_just_is_a_clear_error(built_project: Project, tmp_path: Path) -> None:
    """A `just dbt-run` runner with no `just` on PATH says how to install it."""
    with pytest.raises(DbtRunError, match=r"`just` was not found on PATH.*rust-just"):
        built_project.run(
            "dim_scoring_rule", command=["just", "dbt-run"], env={"PATH": str(tmp_path)}
        )


def _warnings_before_dbt(
    project: Project, tmp_path: Path, caplog: pytest.LogCaptureFixture, **options: Any
) -> list[str]:
    """The FF_DUCKDB_PATH warnings of a run that stops before dbt starts (no `just`)."""
    options["env"] = {"PATH": str(tmp_path), **options.get("env", {})}
    with (
        caplog.at_level("WARNING", logger="ff_prefect_kit.dbt"),
        pytest.raises(DbtRunError, match="`just` was not found"),
    ):
        run_dbt_models.fn(
            "dim_scoring_rule", project_dir=project.directory, command=["just"], **options
        )
    return [r.getMessage() for r in caplog.records if "FF_DUCKDB_PATH" in r.getMessage()]


def test_relative_duckdb_path_away_from_the_project_is_warned(
    built_project: Project,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A relative FF_DUCKDB_PATH read outside the project dir warns, naming both files."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FF_DUCKDB_PATH", "marts/ff.duckdb")
    [warning] = _warnings_before_dbt(built_project, tmp_path, caplog)
    assert f"builds {built_project.directory / 'marts' / 'ff.duckdb'}" in warning
    assert f"mart loaders read {tmp_path / 'marts' / 'ff.duckdb'}" in warning


def test_a_pair_is_warned_once_until_the_warnings_are_forgotten(
    built_project: Project,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The same two files are warned about once per process; after reset_state(), again."""
    from ff_prefect_kit._config import reset_state

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FF_DUCKDB_PATH", "marts/ff.duckdb")
    _warnings_before_dbt(built_project, tmp_path, caplog)
    assert len(_warnings_before_dbt(built_project, tmp_path, caplog)) == 1
    reset_state()
    assert len(_warnings_before_dbt(built_project, tmp_path, caplog)) == 2


def test_relative_duckdb_path_in_the_project_dir_is_not_warned(
    built_project: Project,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Run from the project directory, a relative FF_DUCKDB_PATH is one file: no warning."""
    monkeypatch.chdir(built_project.directory)
    monkeypatch.setenv("FF_DUCKDB_PATH", "ff.duckdb")
    assert _warnings_before_dbt(built_project, tmp_path, caplog) == []


def test_a_duckdb_path_dbt_is_not_given_is_not_warned(
    built_project: Project,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A relative path only in the kit's settings never reaches dbt: nothing to compare."""
    from ff_prefect_kit import KitSettings

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FF_DUCKDB_PATH", raising=False)
    settings = KitSettings(duckdb_path="marts/ff.duckdb")
    assert _warnings_before_dbt(built_project, tmp_path, caplog, settings=settings) == []


def test_missing_project_is_a_clear_error(tmp_path: Path) -> None:
    """A directory without dbt_project.yml raises DbtRunError naming it."""
    with pytest.raises(DbtRunError, match="not a dbt project"):
        run_dbt_models.fn("anything", project_dir=tmp_path)


def test_task_is_named_run_dbt_models() -> None:
    """The Prefect task is `run-dbt-models`; its plain function is `.fn`."""
    assert run_dbt_models.name == "run-dbt-models"
    assert inspect.unwrap(run_dbt_models.fn).__name__ == "run_dbt_models"


def test_task_publishes_the_node_results_as_a_table_artifact(
    built_project: Project, prefect_test_harness: HarnessHandle
) -> None:
    """Inside a flow, `run-dbt-models` publishes each node's result as a table artifact."""
    from prefect import flow

    @flow
    def build_seed() -> None:
        run_dbt_models(
            "dim_scoring_rule",
            project_dir=built_project.directory,
            vars=SIZE,
            env=built_project.env,
        )

    record = prefect_test_harness.run_record(build_seed(return_state=True))
    assert record.task("run-dbt-models").state == "COMPLETED"
    [artifact] = [a for a in record.artifacts if a.key == "dbt-run-results"]
    assert artifact.type == "table"
    assert "seed.ff_analytics_example.dim_scoring_rule" in str(artifact.data)


def test_python_model_event_loops_are_closed_after_the_call() -> None:
    """A loop dbt-duckdb opens for a Python model in a worker thread is closed on exit."""
    import asyncio
    import threading

    from dbt.adapters.duckdb import environments

    from ff_prefect_kit._internals import closing_dbt_python_model_loops

    opened: list[asyncio.AbstractEventLoop] = []

    def worker() -> None:
        environments._ensure_event_loop()
        opened.append(asyncio.get_event_loop())

    with closing_dbt_python_model_loops():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert not opened[0].is_closed()
    assert opened[0].is_closed()


def test_an_in_process_build_closes_its_python_model_loops(
    built_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every event loop opened for a Python model during an in-process build is closed."""
    import asyncio

    from dbt.adapters.duckdb import environments

    opened: list[asyncio.AbstractEventLoop] = []
    real = environments._ensure_event_loop

    def noting() -> None:
        real()
        opened.append(asyncio.get_event_loop())

    monkeypatch.setattr(environments, "_ensure_event_loop", noting)
    built_project.run("raw_players raw_player_week_stats")
    assert len(opened) == 2
    assert all(loop.is_closed() for loop in opened)
