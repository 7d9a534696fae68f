"""Load a dbt mart from DuckDB into Polars, read-only and injection-proof."""

from __future__ import annotations

import contextlib
import difflib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ff_prefect_kit._errors import (
    ConfigError,
    DatabaseNotFoundError,
    InvalidMartNameError,
    MartLockedError,
    MartNotFoundError,
    MartReadError,
)
from ff_prefect_kit._logging import kit_logger
from ff_prefect_kit.data._object_store import is_object_url, read_object

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = [
    "check_mart",
    "describe_rows",
    "external_mart_url",
    "load_dbt_mart",
    "quote_identifier",
    "quote_name",
]

# Plain SQL identifiers only: nothing that could close a quote or start a statement.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,254}")
_LIST_MARTS = """
    SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal
    UNION ALL
    SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal
"""
_LIST_USER_MARTS = """
    SELECT database_name, schema_name, table_name FROM duckdb_tables()
    WHERE NOT internal AND database_name <> 'system'
    UNION ALL
    SELECT database_name, schema_name, view_name FROM duckdb_views()
    WHERE NOT internal AND database_name <> 'system'
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
    through Arrow, keeping DuckDB's types (an INTEGER stays Int32). An INTERVAL
    column without months becomes a Polars Duration (a day counted as 24 hours).

    Args:
        mart_name: The mart, `name`, `schema.name` or `catalog.schema.name`; validated
            and quoted.
        db_path: The DuckDB file, or an open connection (the caller keeps it
            open); defaults to `FF_DUCKDB_PATH`. An `s3://` URL is dbt-duckdb's
            `external_root` instead: the mart is the Parquet object
            `<db_path>/<mart_name>.parquet` its external materialization writes,
            read whole in one GET (docs/object-storage.md).
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
        MartReadError: The mart is a view that no longer binds or fails when run, or
            has a column Polars has no type for (a UNION; an INTERVAL with months).
        ConfigError: No `db_path` and `FF_DUCKDB_PATH` is not set, the file is not a
            DuckDB database (a Parquet file, a damaged or truncated database), or this
            process already holds it open read-write.
    """
    import duckdb

    quote_identifier(mart_name)
    _refuse_system_catalogs(mart_name)
    if columns is not None:
        if isinstance(columns, str):
            raise InvalidMartNameError(
                f"columns must be a list of column names, got the string {columns!r}: "
                f"pass [{columns!r}]"
            )
        for column in columns:
            quote_identifier(column, what="column name")
        if not columns:
            raise InvalidMartNameError("columns is empty: pass None for every column")

    if isinstance(db_path, duckdb.DuckDBPyConnection):
        return _fetch(db_path, mart_name, columns)
    if is_object_url(db_path):
        assert isinstance(db_path, str)
        return _load_external(mart_name, db_path, columns)
    path = _database_path(db_path)
    con = _connect(path)
    try:
        frame = _fetch(con, mart_name, columns, path)
    finally:
        con.close()
    kit_logger.info("Loaded mart %r from %s: %s rows", mart_name, path, f"{frame.height:,}")
    return frame


def external_mart_url(mart_name: str, root: str) -> str:
    """Where dbt-duckdb's external materialization writes a model under `root`."""
    return f"{root.rstrip('/')}/{mart_name}.parquet"


def _load_external(mart_name: str, root: str, columns: Sequence[str] | None) -> pl.DataFrame:
    """The external mart `<root>/<mart_name>.parquet`, read whole from an object store."""
    import io

    import polars as pl

    if "." in mart_name:
        raise InvalidMartNameError(
            f"mart {mart_name!r}: an external mart is named by its model alone, since "
            f"dbt-duckdb writes <external_root>/<model>.parquet; pass "
            f"{mart_name.rsplit('.', 1)[1]!r}"
        )
    url = external_mart_url(mart_name, root)
    try:
        data = io.BytesIO(read_object(url, what="external mart"))
    except FileNotFoundError as exc:
        raise MartNotFoundError(
            f"mart {mart_name!r} has no Parquet object at {url}: build it with dbt (an "
            "external materialization writes <external_root>/<model>.parquet), or point "
            f"db_path at that external_root. {exc}",
            mart=mart_name,
        ) from None
    try:
        schema = pl.read_parquet_schema(data)
    except Exception as exc:
        raise MartReadError(
            f"mart {mart_name!r} at {url} is not a Parquet file ({type(exc).__name__}: "
            f"{str(exc)[:200]}): rebuild it with dbt's external materialization"
        ) from None
    missing = [column for column in columns or () if column not in schema]
    if missing:
        raise MartNotFoundError(
            f"mart {mart_name!r} at {url} has no column(s) {missing}; its columns: {list(schema)}",
            mart=mart_name,
            available=list(schema),
        )
    data.seek(0)
    frame = pl.read_parquet(data, columns=list(columns) if columns else None)
    kit_logger.info("Loaded mart %r from %s: %s rows", mart_name, url, f"{frame.height:,}")
    return frame


_SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog"})


def _refuse_system_catalogs(mart_name: str) -> None:
    parts = [part.lower() for part in mart_name.split(".")]
    if _SYSTEM_SCHEMAS & set(parts[:-1]) or parts[-1].startswith(("duckdb_", "pragma_")):
        raise _system_catalog(mart_name)


def _system_catalog(mart_name: str) -> InvalidMartNameError:
    return InvalidMartNameError(
        f"{mart_name!r} is one of DuckDB's system catalogs, not a mart: name a table or "
        "view that dbt builds (e.g. 'mrt_fantasy_actuals_weekly')"
    )


def _database_path(db_path: str | os.PathLike[str] | None) -> Path:
    if db_path is None:
        from ff_prefect_kit._settings import KitSettings

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
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise _not_a_database(path, exc) from exc
        raise ConfigError(
            f"this process already has the DuckDB database {str(path)!r} open with other "
            "settings (a read-write duckdb.connect(...) still open, or an in-process dbt "
            "run), and DuckDB opens one file one way per process: pass that connection as "
            f"db_path, or close it before loading. DuckDB said: {exc}"
        ) from exc
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise MartLockedError(
                f"DuckDB database {str(path)!r} is locked by a writer (a dbt run?); "
                f"retry when it finishes. DuckDB said: {exc}"
            ) from exc
        raise _not_a_database(path, exc) from exc
    except duckdb.Error as exc:
        raise _not_a_database(path, exc) from exc


def _not_a_database(path: Path | None, exc: Exception, mart_name: str | None = None) -> ConfigError:
    where = repr(str(path)) if path is not None else "the connection's database"
    reading = f" while reading mart {mart_name!r}" if mart_name else ""
    return ConfigError(
        f"{where} is not a DuckDB database, or it is damaged{reading} (DuckDB said: {exc}): "
        "point FF_DUCKDB_PATH (or db_path) at the .duckdb file dbt-duckdb writes, or rebuild "
        "it with dbt"
    )


# What DuckDB says when the file's bytes are bad (1.x puts "IO Error: " in front).
_DAMAGED_TEXTS = ("Corrupt database file", "Could not read enough bytes", "not a valid DuckDB")


@contextlib.contextmanager
def _reading(mart_name: str, path: Path | None) -> Iterator[None]:
    """Turn what DuckDB raises while reading a mart into the kit's errors, none retried."""
    import duckdb

    try:
        yield
    except duckdb.Error as exc:
        if isinstance(exc, duckdb.IOException) or any(t in str(exc) for t in _DAMAGED_TEXTS):
            raise _not_a_database(path, exc, mart_name) from exc
        raise MartReadError(
            f"mart {mart_name!r} failed while DuckDB ran it ({type(exc).__name__}: {exc}): "
            "its SQL fails on the data it reads now; fix the dbt model and rebuild it "
            f"(dbt run --select {mart_name.rsplit('.', 1)[-1]})"
        ) from exc


def _fetch(
    con: duckdb.DuckDBPyConnection,
    mart_name: str,
    columns: Sequence[str] | None = None,
    path: Path | None = None,
) -> pl.DataFrame:
    """The mart's rows (or `columns` of them) as Polars, every failure a kit error."""
    from ff_prefect_kit.data._mart_columns import as_durations, convert, select_list

    with _reading(mart_name, path):
        names, types = _bound(con, mart_name, columns)
        select = select_list(con, mart_name, names, types)
        frame = convert(con, mart_name, f"SELECT {select} FROM {quote_identifier(mart_name)}")
    return as_durations(frame, names, types)


def check_mart(con: duckdb.DuckDBPyConnection, mart_name: str) -> None:
    """Refuse a name that is not a user's table or view in `con`'s database.

    Raises:
        InvalidMartNameError: It names one of DuckDB's own catalogs.
        MartNotFoundError: It names nothing (lists the marts that exist).
    """
    import duckdb

    if _is_user_mart(con, mart_name):
        return
    try:
        con.sql(f"DESCRIBE {quote_identifier(mart_name)}").fetchall()
    except duckdb.Error:
        available = _nearest_first(mart_name, _marts(con))
        listing = ", ".join(available[:20]) or "none: has dbt run?"
        raise MartNotFoundError(
            f"mart {mart_name!r} does not exist in the database; marts that do, nearest "
            f"first: {listing}",
            mart_name,
            available,
        ) from None
    # It resolves, yet to none of the user's tables and views: a system catalog
    # (pg_settings, sqlite_master, information_schema.tables, ...).
    raise _system_catalog(mart_name)


def _is_user_mart(con: duckdb.DuckDBPyConnection, mart_name: str) -> bool:
    """Whether `mart_name` resolves, as DuckDB resolves it, to a user's table or view."""
    rows = con.sql(_LIST_USER_MARTS).fetchall()
    current = str(con.sql("SELECT current_database()").fetchall()[0][0]).lower()
    known = {(str(d).lower(), str(s).lower(), str(n).lower()) for d, s, n in rows}
    parts = [part.lower() for part in mart_name.split(".")]
    if len(parts) == 1:
        wanted = {(current, "main", parts[0]), ("temp", "main", parts[0])}
    elif len(parts) == 2:
        wanted = {(current, parts[0], parts[1]), (parts[0], "main", parts[1])}
    else:
        wanted = {(parts[0], parts[1], parts[2])}
    return bool(known & wanted)


def describe_rows(con: duckdb.DuckDBPyConnection, mart_name: str) -> list[tuple[Any, ...]]:
    """DuckDB's `DESCRIBE` of a mart checked by `check_mart`: one row per column.

    Raises:
        MartReadError: The mart is a view that no longer binds.
    """
    import duckdb

    check_mart(con, mart_name)
    try:
        return con.sql(f"DESCRIBE {quote_identifier(mart_name)}").fetchall()
    except (duckdb.BinderException, duckdb.CatalogException) as exc:
        raise MartReadError(
            f"mart {mart_name!r} is a view that no longer binds: a table or column it reads "
            f"is gone (DuckDB said: {exc}); rebuild it and what it reads with dbt "
            f"(dbt run --select +{mart_name.rsplit('.', 1)[-1]})"
        ) from exc


def _bound(
    con: duckdb.DuckDBPyConnection, mart_name: str, columns: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """The names and DuckDB types of the columns to load, once the mart is known to bind."""
    types = {str(row[0]): str(row[1]) for row in describe_rows(con, mart_name)}
    if columns is None:
        return list(types), list(types.values())
    by_lower = {name.lower(): name for name in types}
    missing = [c for c in columns if c.lower() not in by_lower]
    if missing:
        raise MartNotFoundError(
            f"mart {mart_name!r} has no column {', '.join(map(repr, missing))}; "
            f"its columns: {', '.join(types)}",
            mart_name,
            list(types),
        )
    return list(columns), [types[by_lower[c.lower()]] for c in columns]


def quote_name(name: str) -> str:
    """Any column name as a double-quoted SQL identifier (quotes inside doubled)."""
    return '"' + name.replace('"', '""') + '"'


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
