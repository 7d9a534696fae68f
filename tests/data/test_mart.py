"""`load_dbt_mart`: read-only, injection-proof loading of a dbt mart."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ff_prefect_kit import (
    ConfigError,
    DatabaseNotFoundError,
    InvalidMartNameError,
    KitError,
    MartLockedError,
    MartNotFoundError,
    load_dbt_mart,
)
from ff_prefect_kit.core import RetryPolicy
from ff_prefect_kit.data import quote_identifier


def _build(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.sql(
            "CREATE TABLE mrt_player_weekly AS SELECT i::INTEGER AS week, i * 1.5 AS points, "
            "'p' || i AS player FROM range(5) t(i)"
        )
        con.sql("CREATE TABLE y AS SELECT 1 AS keep")
        con.sql("CREATE SCHEMA marts")
        con.sql("CREATE VIEW marts.mrt_team_season AS SELECT 'KC' AS team")
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A small DuckDB file with two marts, one in a `marts` schema, and a table `y`."""
    return _build(tmp_path / "warehouse.duckdb")


def _tables(path: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return sorted(con.sql("SELECT schema_name, table_name FROM duckdb_tables()").fetchall())


def test_loads_a_mart_keeping_duckdb_types(db: Path) -> None:
    """A mart comes back whole, an INTEGER column staying Int32."""
    df = load_dbt_mart.fn("mrt_player_weekly", db)
    assert df.shape == (5, 3)
    assert df.schema["week"] == pl.Int32
    assert df["player"].to_list() == ["p0", "p1", "p2", "p3", "p4"]


def test_loads_a_view_in_a_schema(db: Path) -> None:
    """`schema.name` addresses a mart outside `main`, views included."""
    assert load_dbt_mart.fn("marts.mrt_team_season", db).to_dicts() == [{"team": "KC"}]


def test_selects_only_the_columns_asked_for(db: Path) -> None:
    """`columns=` narrows the result to those columns, in that order."""
    assert load_dbt_mart.fn("mrt_player_weekly", db, columns=["player", "week"]).columns == [
        "player",
        "week",
    ]


def test_accepts_an_open_connection_and_leaves_it_open(db: Path) -> None:
    """A connection is a seam: the loader uses it and the caller keeps it."""
    with duckdb.connect(str(db), read_only=True) as con:
        assert load_dbt_mart.fn("mrt_player_weekly", con).height == 5
        assert con.sql("SELECT 1").fetchall() == [(1,)]


def test_reads_the_path_from_ff_duckdb_path(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without `db_path`, FF_DUCKDB_PATH names the file."""
    monkeypatch.setenv("FF_DUCKDB_PATH", str(db))
    assert load_dbt_mart.fn("mrt_player_weekly").height == 5


def test_without_any_path_names_ff_duckdb_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No `db_path` and no FF_DUCKDB_PATH is a ConfigError naming the variable."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="FF_DUCKDB_PATH"):
        load_dbt_mart.fn("mrt_player_weekly")


@pytest.mark.parametrize(
    "name",
    [
        "x; drop table y",
        'x" --',
        "y; DROP TABLE y; --",
        'y"; DROP TABLE y; --',
        "y --",
        "y)",
        "'y'",
        "",
        "a.b.c.d",
        ".y",
        "y.",
        "1y",
        "y\x00",
    ],
)
def test_refuses_an_injection_and_leaves_the_database_unchanged(db: Path, name: str) -> None:
    """A name that is not a plain identifier is refused before any SQL runs."""
    before = _tables(db)
    with pytest.raises(InvalidMartNameError, match="not a plain identifier"):
        load_dbt_mart.fn(name, db)
    assert _tables(db) == before
    assert load_dbt_mart.fn("y", db).to_dicts() == [{"keep": 1}]


@pytest.mark.parametrize("column", ["week; drop table y", 'week" --', "*"])
def test_refuses_an_injection_as_a_column(db: Path, column: str) -> None:
    """Column names are validated like mart names."""
    with pytest.raises(InvalidMartNameError, match="column name"):
        load_dbt_mart.fn("mrt_player_weekly", db, columns=[column])


_IDENT = st.from_regex(r"[A-Za-z_][A-Za-z0-9_$]{0,20}", fullmatch=True)


@given(parts=st.lists(_IDENT, min_size=1, max_size=3))
def test_quotes_every_plain_identifier(parts: list[str]) -> None:
    """Any dotted plain identifier is accepted and each part double-quoted."""
    assert quote_identifier(".".join(parts)) == ".".join(f'"{p}"' for p in parts)


@given(name=st.text(max_size=30))
def test_quoted_names_never_carry_sql_syntax(name: str) -> None:
    """Whatever is accepted holds no quote, semicolon, space or comment marker."""
    try:
        quoted = quote_identifier(name)
    except InvalidMartNameError:
        return
    inner = quoted.replace('"', "")
    assert inner == name
    assert not set(name) & set("\"';- ()\n\t\x00/*")


def test_a_missing_mart_lists_the_existing_ones_nearest_first(db: Path) -> None:
    """A typo raises MartNotFoundError listing every mart, the closest first."""
    with pytest.raises(MartNotFoundError) as caught:
        load_dbt_mart.fn("mrt_player_weekyl", db)
    assert caught.value.available[0] == "mrt_player_weekly"
    assert set(caught.value.available) == {"mrt_player_weekly", "y", "marts.mrt_team_season"}
    assert "'mrt_player_weekyl' does not exist" in str(caught.value)
    assert "nearest first: mrt_player_weekly" in str(caught.value)


def test_a_missing_mart_is_not_retried(db: Path) -> None:
    """MartNotFoundError is permanent for the default retry policy."""
    with pytest.raises(MartNotFoundError) as caught:
        load_dbt_mart.fn("nope", db)
    assert not RetryPolicy().should_retry(caught.value)


def test_a_missing_database_file_names_the_path_and_the_variable(tmp_path: Path) -> None:
    """A file that is not there is named, with FF_DUCKDB_PATH, and nothing is created."""
    missing = tmp_path / "nowhere.duckdb"
    with pytest.raises(DatabaseNotFoundError, match="FF_DUCKDB_PATH") as caught:
        load_dbt_mart.fn("mrt_player_weekly", missing)
    assert str(missing) in str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    assert not missing.exists()


def test_never_writes_to_the_file(db: Path) -> None:
    """The connection is read-only: the file's bytes are untouched by a load."""
    before = db.read_bytes()
    load_dbt_mart.fn("mrt_player_weekly", db)
    assert db.read_bytes() == before


_HOLD_WRITE_LOCK = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])
    con.sql("INSERT INTO y VALUES (2)")
    print("locked", flush=True)
    sys.stdin.read()
    con.close()
    """
)


@pytest.fixture
def locked(db: Path) -> Iterator[Path]:
    """`db`, with another process holding a write connection open until teardown."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_WRITE_LOCK, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield db
    finally:
        holder.communicate(input="", timeout=60)


def test_a_writer_lock_is_a_transient_error_keeping_duckdb_words(locked: Path) -> None:
    """A file locked by another process raises MartLockedError, retried by the policy."""
    with pytest.raises(MartLockedError) as caught:
        load_dbt_mart.fn("mrt_player_weekly", locked)
    assert isinstance(caught.value, KitError)
    assert caught.value.transient
    assert RetryPolicy().should_retry(caught.value)
    assert "Could not set lock on file" in str(caught.value)
    assert str(locked) in str(caught.value)


def test_an_interval_without_months_loads_as_a_duration(tmp_path: Path) -> None:
    """Days, hours and microseconds, negative or null, arrive exact as a Polars Duration."""
    path = tmp_path / "intervals.duckdb"
    with duckdb.connect(str(path)) as con:
        con.sql("CREATE TABLE mrt_drives (drive INTEGER, length INTERVAL)")
        lengths = [
            "INTERVAL '2 days 3 hours 4 minutes 5.000006 seconds'",
            "NULL",
            "-INTERVAL '90 minutes'",
            "INTERVAL '100000 days'",
        ]
        for drive, length in enumerate(lengths, start=1):
            con.sql(f"INSERT INTO mrt_drives VALUES ({drive}, {length})")
    df = load_dbt_mart.fn("mrt_drives", path)
    assert df.schema["length"] == pl.Duration("us")
    assert df["length"].to_list() == [
        dt.timedelta(days=2, hours=3, minutes=4, seconds=5, microseconds=6),
        None,
        -dt.timedelta(minutes=90),
        dt.timedelta(days=100000),
    ]
