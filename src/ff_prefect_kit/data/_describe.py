"""Describe a dbt mart's columns (name, DuckDB type, nullability) from the DuckDB catalog."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ff_prefect_kit.data._mart import (
    _connect,
    _database_path,
    _reading,
    _refuse_system_catalogs,
    describe_rows,
    quote_identifier,
    quote_name,
)

if TYPE_CHECKING:
    import duckdb

__all__ = ["MartColumn", "describe_mart"]


@dataclass(frozen=True)
class MartColumn:
    """One column of a mart, as DuckDB's `DESCRIBE` reports it.

    Attributes:
        name: The column's name, exactly as in the mart.
        duckdb_type: DuckDB's type, as `DESCRIBE` spells it (e.g. `"INTEGER"`,
            `"DECIMAL(10,2)"`, `"VARCHAR[]"`).
        nullable: Whether the column may hold NULL: false only where the table
            declares it NOT NULL.
        null_count: How many NULLs the column holds now, when asked for
            (`describe_mart(..., count_nulls=True)`) and the mart has rows to count;
            `None` otherwise.
    """

    name: str
    duckdb_type: str
    nullable: bool
    null_count: int | None = None


def describe_mart(
    mart_name: str,
    db_path: str | os.PathLike[str] | duckdb.DuckDBPyConnection | None = None,
    *,
    count_nulls: bool = False,
) -> tuple[MartColumn, ...]:
    """Describe a dbt mart's columns, in the mart's order, from the catalog.

    The name is resolved and validated as `load_dbt_mart` resolves it, and the file is
    opened read-only.

    Args:
        mart_name: The mart, `name`, `schema.name` or `catalog.schema.name`; validated
            and quoted.
        db_path: The DuckDB file, or an open connection (the caller keeps it open);
            defaults to `FF_DUCKDB_PATH`.
        count_nulls: Also count each column's NULLs (one pass over the mart's rows);
            a mart without rows leaves them `None`, as uncounted.

    Returns:
        One `MartColumn` per column of the mart.

    Raises:
        InvalidMartNameError: `mart_name` is not a plain identifier, or names one of
            DuckDB's system catalogs.
        MartNotFoundError: No such mart (lists those that exist, nearest first).
        MartReadError: A view that no longer binds (or, counting NULLs, fails to run).
        DatabaseNotFoundError: The file does not exist.
        MartLockedError: A writer holds the file's lock.
        ConfigError: No `db_path` and `FF_DUCKDB_PATH` is not set, or the file is not
            a DuckDB database.
    """
    import duckdb

    quote_identifier(mart_name)
    _refuse_system_catalogs(mart_name)
    if isinstance(db_path, duckdb.DuckDBPyConnection):
        return _describe(db_path, mart_name, count_nulls, None)
    path = _database_path(db_path)
    con = _connect(path)
    try:
        return _describe(con, mart_name, count_nulls, path)
    finally:
        con.close()


def _describe(
    con: duckdb.DuckDBPyConnection, mart_name: str, count_nulls: bool, path: Path | None
) -> tuple[MartColumn, ...]:
    table = quote_identifier(mart_name)
    with _reading(mart_name, path):
        described = describe_rows(con, mart_name)
        nulls: list[int | None] = [None] * len(described)
        if count_nulls and described:
            counts = ", ".join(f"count(*) - count({quote_name(str(r[0]))})" for r in described)
            rows, *counted = con.sql(f"SELECT count(*), {counts} FROM {table}").fetchall()[0]
            if rows:
                nulls = counted
    return tuple(
        MartColumn(str(row[0]), str(row[1]), row[2] != "NO", nulls[index])
        for index, row in enumerate(described)
    )
