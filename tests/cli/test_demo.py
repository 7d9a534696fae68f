"""The main job, end to end: synthetic data -> dbt -> the example flow -> Parquet -> dbt."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ff_prefect_kit.cli._demo import DemoOptions, examples_dir, run_demo


def test_examples_are_found_from_the_package() -> None:
    """The demo finds the example flow and dbt project it runs."""
    folder = examples_dir()
    assert (folder / "analytics_template_flow.py").is_file()
    assert (folder / "dbt_project" / "dbt_project.yml").is_file()


@pytest.mark.usefixtures("prefect_test_harness")
def test_demo_runs_twice_in_the_same_directory(tmp_path: Path) -> None:
    """The demo succeeds twice in one directory; the second run replaces the outputs."""
    options = DemoOptions(workdir=tmp_path, seasons=1, players=50, seed=3, top=5)
    first = io.StringIO()
    assert run_demo(options, out=first) == 0, first.getvalue()
    parquet = tmp_path / "data" / "analytics" / "player_valuation" / "latest.parquet"
    before = pl.read_parquet(parquet)

    second = io.StringIO()
    assert run_demo(options, out=second) == 0, second.getvalue()
    after = pl.read_parquet(parquet)

    assert after.equals(before)
    assert not list(parquet.parent.glob("*.tmp"))
    assert "Top 5 players by value over replacement:" in second.getvalue()
    with duckdb.connect(str(tmp_path / "ff_analytics.duckdb"), read_only=True) as con:
        (rows,) = con.sql("select count(*) from mrt_player_valuation").fetchall()[0]
    assert rows == after.height > 0
