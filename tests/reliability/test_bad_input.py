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
    ],
    ids=["directory", "nul", "long-name", "deep", "bytes", "file-as-folder"],
)
def test_an_unusable_output_path_is_an_output_path_error(
    root: Path, path: object, words: str
) -> None:
    """Each path no file system takes is refused with OutputPathError saying what to do."""
    before = sorted(p.name for p in root.rglob("*"))
    with pytest.raises(OutputPathError, match=words):
        write_parquet.fn(FRAME, path, root=root)  # type: ignore[arg-type]
    assert sorted(p.name for p in root.rglob("*")) == before


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
