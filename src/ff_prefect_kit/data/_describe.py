"""Describe a dbt mart's columns (name, DuckDB type, nullability) from the DuckDB catalog."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ff_prefect_kit.data._mart import (
    _connect,
    _database_path,
    _fetch,
    _refuse_system_catalogs,
    quote_identifier,
)

if TYPE_CHECKING:
    import duckdb
    import polars as pl

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
    """

    name: str
    duckdb_type: str
    nullable: bool


def describe_mart(
    mart_name: str,
    db_path: str | os.PathLike[str] | duckdb.DuckDBPyConnection | None = None,
) -> tuple[MartColumn, ...]:
    """Describe a dbt mart's columns, in the mart's order, reading only the catalog.

    The name is resolved and validated as `load_dbt_mart` resolves it, and the file is
    opened read-only.

    Args:
        mart_name: The mart, `name`, `schema.name` or `catalog.schema.name`; validated
            and quoted.
        db_path: The DuckDB file, or an open connection (the caller keeps it open);
            defaults to `FF_DUCKDB_PATH`.

    Returns:
        One `MartColumn` per column of the mart.

    Raises:
        InvalidMartNameError: `mart_name` is not a plain identifier, or names one of
            DuckDB's system catalogs.
        MartNotFoundError: No such mart (lists those that exist, nearest first).
        DatabaseNotFoundError: The file does not exist.
        MartLockedError: A writer holds the file's lock.
        ConfigError: No `db_path` and `FF_DUCKDB_PATH` is not set, or the file is not
            a DuckDB database.
    """
    import duckdb

    query = f"DESCRIBE {quote_identifier(mart_name)}"
    _refuse_system_catalogs(mart_name)
    # DESCRIBE resolves the name as load_dbt_mart's SELECT does, and _fetch turns an
    # unknown mart into load_dbt_mart's MartNotFoundError, nearest names first.
    if isinstance(db_path, duckdb.DuckDBPyConnection):
        return _columns(_fetch(db_path, query, mart_name))
    con = _connect(_database_path(db_path))
    try:
        described = _fetch(con, query, mart_name)
    finally:
        con.close()
    return _columns(described)


def _columns(described: pl.DataFrame) -> tuple[MartColumn, ...]:
    return tuple(
        MartColumn(str(row["column_name"]), str(row["column_type"]), row["null"] != "NO")
        for row in described.iter_rows(named=True)
    )
