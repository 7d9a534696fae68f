"""Load a dbt mart from DuckDB into Polars, read-only and injection-proof."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ff_prefect_kit._errors import (
    ConfigError,
    DatabaseNotFoundError,
    InvalidMartNameError,
    MartLockedError,
    MartNotFoundError,
)
from ff_prefect_kit._logging import kit_logger
from ff_prefect_kit._settings import KitSettings

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = ["load_dbt_mart", "quote_identifier"]

# Plain SQL identifiers only: nothing that could close a quote or start a statement.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,254}")
_LIST_MARTS = """
    SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal
    UNION ALL
    SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal
"""


def quote_identifier(name: str, *, what: str = "mart name") -> str:
    """Validate `name` (`table`, `schema.table` or `catalog.schema.table`) and quote it.

    Args:
        name: The dotted name.
        what: What the name is, for the error message.

    Returns:
        The name with each part in double quotes, safe to splice into SQL.

    Raises:
        InvalidMartNameError: A part is not a plain identifier (letters, digits,
            `_`, `$`, not starting with a digit).
    """
    parts = name.split(".") if isinstance(name, str) else []
    if not 1 <= len(parts) <= 3 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise InvalidMartNameError(
            f"{what} {name!r} is not a plain identifier: use letters, digits and '_' "
            "(e.g. 'mrt_fantasy_actuals_weekly' or 'main.mrt_fantasy_actuals_weekly')"
        )
    return ".".join(f'"{p}"' for p in parts)


def load_dbt_mart(
    mart_name: str,
    db_path: str | os.PathLike[str] | duckdb.DuckDBPyConnection | None = None,
    *,
    columns: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Load a dbt mart (a table or view) from DuckDB as a Polars DataFrame.

    The file is opened read-only, so many readers can share it; the data travels
    through Arrow, keeping DuckDB's types (an INTEGER stays Int32).

    Args:
        mart_name: The mart, `name`, `schema.name` or `catalog.schema.name`; validated
            and quoted.
        db_path: The DuckDB file, or an open connection (the caller keeps it
            open); defaults to `FF_DUCKDB_PATH`.
        columns: Only these columns, each validated and quoted; default all.

    Returns:
        The mart's rows.

    Raises:
        InvalidMartNameError: `mart_name` or a column is not a plain identifier, or
            names one of DuckDB's system catalogs.
        MartNotFoundError: No such mart (lists those that exist, nearest first), or
            no such column in it (lists its columns).
        DatabaseNotFoundError: The file does not exist.
        MartLockedError: A writer holds the file's lock (transient: retried).
        ConfigError: No `db_path` and `FF_DUCKDB_PATH` is not set, or the file is not
            a DuckDB database (a Parquet file, a damaged or truncated database).
    """
    import duckdb

    table = quote_identifier(mart_name)
    _refuse_system_catalogs(mart_name)
    select = (
        ", ".join(quote_identifier(c, what="column name") for c in columns)
        if columns is not None
        else "*"
    )
    if columns is not None and not columns:
        raise InvalidMartNameError("columns is empty: pass None for every column")
    query = f"SELECT {select} FROM {table}"

    if isinstance(db_path, duckdb.DuckDBPyConnection):
        return _fetch(db_path, query, mart_name, columns)
    path = _database_path(db_path)
    con = _connect(path)
    try:
        frame = _fetch(con, query, mart_name, columns)
    finally:
        con.close()
    kit_logger.info("Loaded mart %r from %s: %s rows", mart_name, path, f"{frame.height:,}")
    return frame


_SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog"})


def _refuse_system_catalogs(mart_name: str) -> None:
    parts = [part.lower() for part in mart_name.split(".")]
    if _SYSTEM_SCHEMAS & set(parts[:-1]) or parts[-1].startswith(("duckdb_", "pragma_")):
        raise InvalidMartNameError(
            f"{mart_name!r} is one of DuckDB's system catalogs, not a mart: name a table or "
            "view that dbt builds (e.g. 'mrt_fantasy_actuals_weekly')"
        )


def _database_path(db_path: str | os.PathLike[str] | None) -> Path:
    if db_path is None:
        path = Path(KitSettings().require("duckdb_path"))
        origin = "FF_DUCKDB_PATH"
    else:
        path = Path(db_path)
        origin = "db_path"
    if not path.is_file():
        raise DatabaseNotFoundError(
            f"DuckDB database {str(path)!r} (from {origin}) does not exist: run dbt to build it, "
            "or point FF_DUCKDB_PATH (or db_path) at the file dbt-duckdb writes"
        )
    return path


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    import duckdb

    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise MartLockedError(
                f"DuckDB database {str(path)!r} is locked by a writer (a dbt run?); "
                f"retry when it finishes. DuckDB said: {exc}"
            ) from exc
        raise _not_a_database(path, exc) from exc
    except duckdb.Error as exc:
        raise _not_a_database(path, exc) from exc


def _not_a_database(path: Path, exc: Exception) -> ConfigError:
    return ConfigError(
        f"{str(path)!r} is not a DuckDB database, or it is damaged (DuckDB said: {exc}): point "
        "FF_DUCKDB_PATH (or db_path) at the .duckdb file dbt-duckdb writes, or rebuild it with dbt"
    )


def _fetch(
    con: duckdb.DuckDBPyConnection,
    query: str,
    mart_name: str,
    columns: Sequence[str] | None = None,
) -> pl.DataFrame:
    import duckdb

    try:
        relation = con.sql(query)
    except duckdb.BinderException as exc:
        described = con.sql(f"DESCRIBE {quote_identifier(mart_name)}").fetchall()
        known = [str(row[0]) for row in described]
        missing = [c for c in columns or () if c not in known]
        raise MartNotFoundError(
            f"mart {mart_name!r} has no column {', '.join(map(repr, missing)) or '(unknown)'}; "
            f"its columns: {', '.join(known)}",
            mart_name,
            known,
        ) from exc
    except duckdb.CatalogException as exc:
        available = _nearest_first(mart_name, _marts(con))
        listing = ", ".join(available[:20]) or "none: has dbt run?"
        raise MartNotFoundError(
            f"mart {mart_name!r} does not exist in the database; marts that do, nearest "
            f"first: {listing}",
            mart_name,
            available,
        ) from exc
    assert relation is not None  # a SELECT always yields a relation
    frame: pl.DataFrame = relation.pl()
    return frame


def _marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.sql(_LIST_MARTS).fetchall()
    return [name if schema == "main" else f"{schema}.{name}" for schema, name in rows]


def _nearest_first(name: str, candidates: list[str]) -> list[str]:
    def closeness(candidate: str) -> float:
        bare = candidate.rsplit(".", 1)[-1]
        return max(
            difflib.SequenceMatcher(None, name.lower(), candidate.lower()).ratio(),
            difflib.SequenceMatcher(None, name.lower(), bare.lower()).ratio(),
        )

    return sorted(candidates, key=lambda c: (-closeness(c), c))
