"""Bad input to the data tasks: a KitError naming the value and the fix, nothing written."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from ff_prefect_kit import (
    ConfigError,
    InvalidMartNameError,
    KitError,
    MartNotFoundError,
    OutputPathError,
    load_dbt_mart,
    write_parquet,
)
from ff_prefect_kit._errors import MartReadError
from ff_prefect_kit.core import RetryPolicy
from ff_prefect_kit.data import describe_mart

FRAME = pl.DataFrame({"a": [1, 2]})


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An analytics root holding a file where a folder could be expected."""
    folder = tmp_path / "analytics"
    folder.mkdir()
    (folder / "a_file").write_text("x")
    (folder / "a_folder").mkdir()
    return folder


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("a_folder", "names a directory"),
        ("x\x00y.parquet", "NUL character"),
        ("x" * 300 + ".parquet", "longer than the file system allows"),
        ("d/" * 2000 + "x.parquet", "use a shorter path"),
        (b"x.parquet", "must be a str or a pathlib.Path"),
        ("a_file/x.parquet", "A folder on the way is a file"),
        ("x\ud800.parquet", "lone surrogate \\(U\\+D800 at position 1\\)"),
        ("dir\udfff/x.parquet", "lone surrogate \\(U\\+DFFF at position 3\\)"),
        ("\udc80.parquet", "lone surrogate"),
    ],
    ids=[
        "directory",
        "nul",
        "long-name",
        "deep",
        "bytes",
        "file-as-folder",
        "high-surrogate",
        "low-surrogate-in-folder",
        "escaped-byte",
    ],
)
def test_an_unusable_output_path_is_an_output_path_error(
    root: Path, path: object, words: str
) -> None:
    """Each path no file system takes is refused with OutputPathError saying what to do."""
    before = sorted(p.name for p in root.rglob("*"))
    with pytest.raises(OutputPathError, match=words):
        write_parquet.fn(FRAME, path, root=root)  # type: ignore[arg-type]
    assert sorted(p.name for p in root.rglob("*")) == before


@pytest.mark.parametrize(
    ("links", "path"),
    [
        ({"loop": "loop"}, "loop/x.parquet"),
        ({"loop": "loop"}, "loop/deeper/x.parquet"),
        ({"ping": "pong", "pong": "ping"}, "ping/x.parquet"),
    ],
    ids=["self", "self-deeper", "pair"],
)
def test_a_symlink_loop_on_the_way_is_an_output_path_error(
    root: Path, links: dict[str, str], path: str
) -> None:
    """A looping link names the link and the fix, and nothing is written."""
    for link, to in links.items():
        (root / link).symlink_to(root / to)
    before = sorted(p.name for p in root.iterdir())
    with pytest.raises(OutputPathError, match="symbolic link that loops") as caught:
        write_parquet.fn(FRAME, path, root=root)
    assert str(root / path.split("/", 1)[0]) in str(caught.value)
    assert sorted(p.name for p in root.iterdir()) == before
    with pytest.raises(OutputPathError, match="symbolic link that loops"):
        write_parquet.fn(FRAME, root / path, root=root)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A DuckDB file with one mart."""
    path = tmp_path / "marts.duckdb"
    with duckdb.connect(str(path)) as con:
        con.sql("CREATE TABLE mrt_x AS SELECT 1 AS player_id, 2.5 AS points")
    return path


def test_an_unknown_column_names_it_and_the_marts_columns(database: Path) -> None:
    """Asking for a column the mart lacks lists the columns it has."""
    with pytest.raises(MartNotFoundError, match="has no column 'pionts'; its columns: player_id"):
        load_dbt_mart.fn("mrt_x", database, columns=["player_id", "pionts"])


@pytest.mark.parametrize(
    "name", ["information_schema.tables", "pg_catalog.pg_class", "duckdb_tables"]
)
def test_system_catalogs_are_not_marts(database: Path, name: str) -> None:
    """DuckDB's own catalogs are refused by name."""
    with pytest.raises(InvalidMartNameError, match="system catalogs, not a mart"):
        load_dbt_mart.fn(name, database)


@pytest.mark.parametrize("kind", ["text", "parquet", "truncated"])
def test_a_file_that_is_not_a_duckdb_database_is_a_config_error(
    tmp_path: Path, database: Path, kind: str
) -> None:
    """A Parquet file, a text file or a truncated database: ConfigError naming the fix."""
    path = tmp_path / f"not-a-db.{kind}"
    if kind == "text":
        path.write_text("hello")
    elif kind == "parquet":
        FRAME.write_parquet(path)
    else:
        path.write_bytes(database.read_bytes()[:5000])
    with pytest.raises(ConfigError, match="not a DuckDB database, or it is damaged") as caught:
        load_dbt_mart.fn("mrt_x", path)
    assert isinstance(caught.value, KitError)
    assert "FF_DUCKDB_PATH" in str(caught.value)


# --- marts that cannot be read: a kit error naming the mart and the fix, never retried --


def _database_of(path: Path, *statements: str) -> Path:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)
    return path


def _refused(error: KitError) -> bool:
    """Whether the house retry policy gives up on `error` at once."""
    return not error.transient and not RetryPolicy().should_retry(error)


@pytest.fixture
def broken_views(tmp_path: Path) -> Path:
    """Views that no longer bind (a table, a column gone) and views that fail when run."""
    return _database_of(
        tmp_path / "views.duckdb",
        "CREATE TABLE gone AS SELECT 1 AS a",
        "CREATE TABLE words AS SELECT 'x' AS s, 1 AS k",
        "CREATE VIEW mrt_table_gone AS SELECT a FROM gone",
        "CREATE VIEW mrt_column_gone AS SELECT k FROM words",
        "CREATE VIEW mrt_bad_cast AS SELECT CAST(s AS INTEGER) AS n FROM words",
        "CREATE VIEW mrt_raises AS SELECT error('upstream is empty') AS n FROM words",
        "DROP TABLE gone",
        "ALTER TABLE words DROP COLUMN k",
    )


@pytest.mark.parametrize(
    ("mart", "words"),
    [
        ("mrt_table_gone", "is a view that no longer binds"),
        ("mrt_column_gone", "is a view that no longer binds"),
        ("mrt_bad_cast", "failed while DuckDB ran it"),
        ("mrt_raises", "failed while DuckDB ran it"),
    ],
)
def test_a_broken_view_is_a_mart_read_error_never_retried(
    broken_views: Path, mart: str, words: str
) -> None:
    """A view that no longer binds or fails when run names the mart and the dbt fix."""
    with pytest.raises(MartReadError, match=words) as caught:
        load_dbt_mart.fn(mart, broken_views)
    assert repr(mart) in str(caught.value)
    assert "dbt run --select" in str(caught.value)
    assert _refused(caught.value)


def test_a_view_that_no_longer_binds_cannot_be_described(broken_views: Path) -> None:
    """describe_mart refuses it the same way."""
    with pytest.raises(MartReadError, match="no longer binds"):
        describe_mart("mrt_table_gone", broken_views)


def test_a_database_damaged_past_its_header_is_a_config_error(tmp_path: Path) -> None:
    """A file that opens but whose data blocks are corrupt: ConfigError naming mart and fix."""
    path = _database_of(
        tmp_path / "big.duckdb",
        "CREATE TABLE mrt_big AS SELECT i, 'x' || i AS s FROM range(300000) t(i)",
    )
    damaged = bytearray(path.read_bytes())
    damaged[300_000 : 300_000 + 4096] = bytes(4096)
    path.write_bytes(bytes(damaged))
    with pytest.raises(
        ConfigError, match="or it is damaged while reading mart 'mrt_big'"
    ) as caught:
        load_dbt_mart.fn("mrt_big", path)
    assert "rebuild it with dbt" in str(caught.value)
    assert _refused(caught.value)


def test_a_file_this_process_holds_read_write_is_said_so(database: Path) -> None:
    """Another read-write connection in this process is named as such, not as damage."""
    with (
        duckdb.connect(str(database)),
        pytest.raises(ConfigError, match="this process already has") as caught,
    ):
        load_dbt_mart.fn("mrt_x", database)
    assert "damaged" not in str(caught.value)
    assert "pass that connection as db_path" in str(caught.value)
    assert _refused(caught.value)


@pytest.mark.parametrize(
    ("definition", "value", "column_type"),
    [
        ("UNION(num INTEGER, txt VARCHAR)", "1", "UNION(num INTEGER, txt VARCHAR)"),
        ("STRUCT(u UNION(num INTEGER, txt VARCHAR))", "{'u': 1}", "STRUCT"),
        ("INTERVAL", "INTERVAL 1 MONTH", "INTERVAL counting months"),
        ("INTERVAL[]", "[INTERVAL 1 DAY]", "INTERVAL[]"),
    ],
    ids=["union", "nested-union", "interval-with-months", "nested-interval"],
)
def test_a_column_polars_cannot_hold_is_named_with_a_cast(
    tmp_path: Path, definition: str, value: str, column_type: str
) -> None:
    """UNION and month-counting INTERVAL columns: MartReadError naming the column and a cast."""
    path = _database_of(
        tmp_path / "types.duckdb",
        f"CREATE TABLE mrt_odd (player_id INTEGER, odd {definition})",
        f"INSERT INTO mrt_odd VALUES (1, {value})",
    )
    with pytest.raises(MartReadError, match="has column\\(s\\) Polars has no type for") as caught:
        load_dbt_mart.fn("mrt_odd", path)
    message = str(caught.value)
    assert "'odd' (" in message
    assert column_type in message
    assert 'CAST("odd" AS VARCHAR)' in message
    assert _refused(caught.value)
    assert load_dbt_mart.fn("mrt_odd", path, columns=["player_id"]).to_dicts() == [{"player_id": 1}]


SYSTEM_CATALOGS = [
    "pg_settings",
    "pg_class",
    "pg_namespace",
    "pg_tables",
    "pg_type",
    "pg_views",
    "pg_proc",
    "pg_database",
    "sqlite_master",
    "sqlite_schema",
    "sqlite_temp_master",
    "sqlite_temp_schema",
    "information_schema.tables",
    "information_schema.schemata",
    "pg_catalog.pg_settings",
    "system.main.duckdb_tables",
    "system.main.sqlite_master",
    "system.pg_catalog.pg_class",
    "system.information_schema.columns",
    "main.sqlite_master",
]


@pytest.mark.parametrize("name", SYSTEM_CATALOGS)
def test_every_system_catalog_is_refused_as_a_mart(database: Path, name: str) -> None:
    """DuckDB's own views, however named, are refused, not loaded."""
    with pytest.raises(InvalidMartNameError, match="system catalogs, not a mart"):
        load_dbt_mart.fn(name, database)


def test_no_internal_view_of_duckdb_loads_as_a_mart(database: Path) -> None:
    """Each view DuckDB itself defines, by its name and its qualified name, is refused."""
    with duckdb.connect(str(database), read_only=True) as con:
        internal = con.sql(
            "SELECT database_name, schema_name, view_name FROM duckdb_views() WHERE internal"
        ).fetchall()
    assert len(internal) > 40
    for catalog, schema, view in internal:
        for name in (view, f"{schema}.{view}", f"{catalog}.{schema}.{view}"):
            if name.count(".") == 1 and schema == "main":
                continue  # `main.x` names this file's own schema
            with pytest.raises((InvalidMartNameError, MartNotFoundError)):
                load_dbt_mart.fn(name, database)
