"""`describe_mart`: a mart's columns, types and nullability, read from the DuckDB catalog."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import duckdb
import pytest

from ff_prefect_kit import (
    ConfigError,
    DatabaseNotFoundError,
    InvalidMartNameError,
    MartNotFoundError,
)
from ff_prefect_kit.data import MartColumn, describe_mart


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A DuckDB file with a table `weekly`, a view `marts.team_season` and a table `y`."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.sql(
            "CREATE TABLE weekly (player_id INTEGER NOT NULL, points DOUBLE, "
            "position VARCHAR, scores INTEGER[])"
        )
        con.sql("CREATE TABLE y (keep INTEGER)")
        con.sql("CREATE SCHEMA marts")
        con.sql("CREATE VIEW marts.team_season AS SELECT 'KC' AS team")
    return path


def test_describes_each_column_in_the_marts_order(db: Path) -> None:
    """One MartColumn per column, in order, with DuckDB's type as DESCRIBE spells it."""
    described = [(column.name, column.duckdb_type) for column in describe_mart("weekly", db)]
    assert described == [
        ("player_id", "INTEGER"),
        ("points", "DOUBLE"),
        ("position", "VARCHAR"),
        ("scores", "INTEGER[]"),
    ]


def test_only_a_declared_not_null_column_is_not_nullable(db: Path) -> None:
    """`nullable` is false exactly for the column the table declares NOT NULL."""
    nullable = {column.name: column.nullable for column in describe_mart("weekly", db)}
    assert nullable == {"player_id": False, "points": True, "position": True, "scores": True}


def test_describes_a_view_in_a_schema(db: Path) -> None:
    """`schema.name` resolves a view outside the main schema."""
    assert describe_mart("marts.team_season", db) == (MartColumn("team", "VARCHAR", True),)


def test_columns_are_frozen(db: Path) -> None:
    """A MartColumn cannot be changed after it is made."""
    (column, *_) = describe_mart("weekly", db)
    with pytest.raises(dataclasses.FrozenInstanceError):
        column.name = "other"  # type: ignore[misc]


def test_accepts_an_open_connection_and_leaves_it_open(db: Path) -> None:
    """A connection is a seam: describe_mart uses it and the caller keeps it."""
    with duckdb.connect(str(db), read_only=True) as con:
        assert [column.name for column in describe_mart("y", con)] == ["keep"]
        assert con.sql("SELECT 1").fetchall() == [(1,)]


def test_reads_the_path_from_ff_duckdb_path(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without `db_path`, FF_DUCKDB_PATH names the file."""
    monkeypatch.setenv("FF_DUCKDB_PATH", str(db))
    assert [column.name for column in describe_mart("y")] == ["keep"]


def test_never_writes_to_the_file(db: Path) -> None:
    """The file is opened read-only: its bytes are untouched."""
    before = db.read_bytes()
    describe_mart("weekly", db)
    assert db.read_bytes() == before


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("x; DROP TABLE y", "is not a plain identifier"),
        ('x" --', "is not a plain identifier"),
        ("information_schema.columns", "is one of DuckDB's system catalogs"),
        ("duckdb_tables", "is one of DuckDB's system catalogs"),
    ],
)
def test_refuses_a_name_that_is_not_a_mart(db: Path, name: str, problem: str) -> None:
    """SQL and DuckDB's system catalogs are refused as load_dbt_mart refuses them."""
    with pytest.raises(InvalidMartNameError, match=problem):
        describe_mart(name, db)


def test_a_missing_mart_lists_the_existing_ones_nearest_first(db: Path) -> None:
    """A typo raises MartNotFoundError listing every mart, the closest first."""
    with pytest.raises(MartNotFoundError) as caught:
        describe_mart("weekyl", db)
    assert caught.value.available[0] == "weekly"
    assert set(caught.value.available) == {"weekly", "y", "marts.team_season"}
    assert "'weekyl' does not exist" in str(caught.value)


def test_a_missing_database_file_is_named_and_not_created(tmp_path: Path) -> None:
    """A file that is not there raises DatabaseNotFoundError naming it; none is created."""
    missing = tmp_path / "nowhere.duckdb"
    with pytest.raises(DatabaseNotFoundError, match="does not exist") as caught:
        describe_mart("weekly", missing)
    assert str(missing) in str(caught.value)
    assert not missing.exists()


def test_without_any_path_names_ff_duckdb_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No `db_path` and no FF_DUCKDB_PATH is a ConfigError naming the variable."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FF_DUCKDB_PATH", raising=False)
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    with pytest.raises(ConfigError, match="FF_DUCKDB_PATH"):
        describe_mart("weekly")


def test_a_file_that_is_not_a_database_is_a_config_error(tmp_path: Path) -> None:
    """A file DuckDB cannot open raises ConfigError naming the file."""
    path = tmp_path / "notes.duckdb"
    path.write_text("not a database")
    with pytest.raises(ConfigError, match="is not a DuckDB database") as caught:
        describe_mart("weekly", path)
    assert str(path) in str(caught.value)


def test_null_counts_are_read_only_when_asked(tmp_path: Path) -> None:
    """`count_nulls=True` counts each column's NULLs; by default they stay uncounted."""
    path = tmp_path / "n.duckdb"
    with duckdb.connect(str(path)) as con:
        con.sql(
            "CREATE TABLE n AS SELECT * FROM (VALUES (1, NULL), (2, 'x'), (NULL, NULL)) v(a, b)"
        )
    assert [c.null_count for c in describe_mart("n", path)] == [None, None]
    assert [c.null_count for c in describe_mart("n", path, count_nulls=True)] == [1, 2]


def test_an_empty_mart_leaves_null_counts_uncounted(db: Path) -> None:
    """No rows, nothing observed: the counts are None, not 0."""
    described = describe_mart("weekly", db, count_nulls=True)
    assert {column.null_count for column in described} == {None}
