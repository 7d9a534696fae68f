"""The mart a flow loads and the Parquet it writes, recorded as Prefect assets.

The events Prefect emits are caught where it emits them (`prefect.events.emit_event`);
the real server's view of the same lineage is tested in
`tests/testing/test_prefect_server_assets.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from prefect import flow
from tests.conftest import Emitted

from ff_prefect_kit import load_dbt_mart, write_parquet
from ff_prefect_kit._assets import mart_asset_key, materializes, reads, valid_asset_keys

pytestmark = pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")


@pytest.fixture
def mart(tmp_path: Path) -> Path:
    """A DuckDB file holding `mrt_fantasy_actuals_weekly`."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.sql("CREATE TABLE mrt_fantasy_actuals_weekly AS SELECT 1 AS player_id")
    return path


@flow
def mart_to_parquet(db: Path, out: Path) -> None:
    """Load the mart, derive a frame from it, write it: the lineage to record."""
    weekly = load_dbt_mart("mrt_fantasy_actuals_weekly", db)
    write_parquet(weekly, out, allow_outside_root=True)


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("mrt_x", "mrt_x"),
        ("main.mrt_x", "mrt_x"),
        ("ff.main.mrt_x", "mrt_x"),
        ("marts.mrt_x", "marts.mrt_x"),
    ],
)
def test_a_mart_is_keyed_by_its_database_file_and_table(name: str, table: str) -> None:
    """The mart's key is `duckdb://<absolute file>/<table>`, DuckDB's `main` schema left out."""
    assert mart_asset_key(name, "ff.duckdb") == f"duckdb://{Path('ff.duckdb').resolve()}/{table}"


def test_the_parquet_written_from_a_mart_is_materialized_with_the_mart_upstream(
    mart: Path, tmp_path: Path, emitted: Emitted
) -> None:
    """write-parquet materializes `file://<path>` with the loaded mart as its upstream asset."""
    out = tmp_path / "out" / "latest.parquet"
    mart_to_parquet(mart, out)
    event = emitted.materialized()[f"file://{out.resolve()}"]
    assert event["event"] == "prefect.asset.materialization.succeeded"
    upstream = {
        r["prefect.resource.id"] for r in event["related"] if r["prefect.resource.role"] == "asset"
    }
    assert upstream == {mart_asset_key("mrt_fantasy_actuals_weekly", mart)}
    assert event["payload"]["rows"] == 1


def test_outside_a_task_run_declaring_assets_does_nothing(tmp_path: Path) -> None:
    """reads and materializes outside a task run neither fail nor record anything."""
    reads("duckdb:///ff.duckdb/mrt_x")
    materializes("file:///x/latest.parquet", {"rows": 1}, by="test")
    assert (
        write_parquet.fn(pl.DataFrame({"a": [1]}), tmp_path / "a.parquet", root=tmp_path).rows == 1
    )


def test_a_key_prefect_refuses_is_left_out() -> None:
    """A path Prefect cannot take as an asset key (a space) records no asset, no error."""
    assert [a.key for a in valid_asset_keys(["file:///a b.parquet", "file:///ab.parquet"])] == [
        "file:///ab.parquet"
    ]


def test_on_a_prefect_without_assets_the_tasks_run_and_record_nothing(
    mart: Path, tmp_path: Path, emitted: Emitted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without prefect.assets (and its AssetContext) loading and writing work, unrecorded."""
    import prefect.context

    monkeypatch.setitem(sys.modules, "prefect.assets", None)
    monkeypatch.delattr(prefect.context, "AssetContext")
    out = tmp_path / "latest.parquet"
    mart_to_parquet(mart, out)
    assert out.is_file()
    assert emitted.materialized() == {}
