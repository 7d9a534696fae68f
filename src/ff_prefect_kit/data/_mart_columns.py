"""How a mart's DuckDB columns become Polars columns, and which cannot.

Arrow carries most DuckDB types to Polars as they are. Two it does not: an `INTERVAL`
(Arrow's month-day-nano interval, which Polars does not import) and a `UNION`. An
`INTERVAL` without months has a fixed length and is loaded as its exact microseconds,
then cast to `Duration`; the rest are refused with `MartReadError`, naming each column
and the cast that fixes it in the dbt model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ff_prefect_kit._errors import MartReadError
from ff_prefect_kit.data._mart import quote_identifier, quote_name

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = ["as_durations", "convert", "select_list"]


# An exact INTERVAL is one without months (which have no fixed length), whose whole
# length in microseconds fits Polars' Duration. Its microseconds, summed exactly:
_INTERVAL_MICROS = (
    "(CAST(datepart('day', {c}) AS HUGEINT) * 86400000000 + datepart('hour', {c}) * "
    "3600000000 + datepart('minute', {c}) * 60000000 + datepart('microseconds', {c}))"
)
_INTERVAL_INEXACT = (
    "datepart('year', {c}) <> 0 OR datepart('month', {c}) <> 0 OR "
    + _INTERVAL_MICROS
    + " NOT BETWEEN -9223372036854775808 AND 9223372036854775807"
)


def select_list(
    con: duckdb.DuckDBPyConnection, mart_name: str, names: list[str], types: list[str]
) -> str:
    """The SELECT list: each column as it is, an INTERVAL as its exact microseconds.

    Raises:
        MartReadError: A column Polars has no type for: a UNION (anywhere in the
            type), an INTERVAL inside another type, or an INTERVAL counting months.
    """
    quoted = [quote_name(name) for name in names]
    unreadable = [
        (name, kind)
        for name, kind in zip(names, types, strict=True)
        if "UNION(" in kind.upper() or ("INTERVAL" in kind.upper() and kind.upper() != "INTERVAL")
    ]
    if unreadable:
        raise _unreadable_columns(mart_name, unreadable)
    intervals = [c for c, kind in zip(quoted, types, strict=True) if kind.upper() == "INTERVAL"]
    if intervals:
        checks = ", ".join(f"bool_or({_INTERVAL_INEXACT.format(c=c)})" for c in intervals)
        inexact = con.sql(f"SELECT {checks} FROM {quote_identifier(mart_name)}").fetchall()[0]
        refused = [
            (name, "INTERVAL counting months, or longer than Polars' Duration holds")
            for name, bad in zip(
                [n for n, kind in zip(names, types, strict=True) if kind.upper() == "INTERVAL"],
                inexact,
                strict=True,
            )
            if bad
        ]
        if refused:
            raise _unreadable_columns(mart_name, refused)
    return ", ".join(
        f"CAST({_INTERVAL_MICROS.format(c=c)} AS BIGINT) AS {c}"
        if kind.upper() == "INTERVAL"
        else c
        for c, kind in zip(quoted, types, strict=True)
    )


def _unreadable_columns(mart_name: str, columns: list[tuple[str, str]]) -> MartReadError:
    listed = ", ".join(f"{name!r} ({kind})" for name, kind in columns)
    example = columns[0][0]
    return MartReadError(
        f"mart {mart_name!r} has column(s) Polars has no type for: {listed}. Cast them "
        f"in the dbt model (e.g. CAST({quote_name(example)} AS VARCHAR), or an INTERVAL's "
        "epoch() seconds), or load the other columns with columns=[...]"
    )


def convert(con: duckdb.DuckDBPyConnection, mart_name: str, query: str) -> pl.DataFrame:
    """Run `query` into Polars; a type Polars refuses is named, with its column."""
    import duckdb

    relation = con.sql(query)
    assert relation is not None  # a SELECT always yields a relation
    try:
        frame: pl.DataFrame = relation.pl()
    except duckdb.Error:
        raise  # DuckDB's own failure: _reading says what it means
    except Exception as exc:
        refused = _columns_polars_refuses(con, relation)
        if not refused:
            raise MartReadError(
                f"mart {mart_name!r} could not be converted to Polars ({type(exc).__name__}: "
                f"{exc}); cast its unusual columns in the dbt model"
            ) from exc
        raise _unreadable_columns(mart_name, refused) from exc
    return frame


def _columns_polars_refuses(
    con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation
) -> list[tuple[str, str]]:
    refused = []
    for name, kind in zip(relation.columns, relation.types, strict=True):
        try:
            relation.select(quote_name(name)).limit(0).pl()
        except Exception:
            refused.append((name, str(kind)))
    return refused


def as_durations(frame: pl.DataFrame, names: list[str], types: list[str]) -> pl.DataFrame:
    import polars as pl

    durations = [
        pl.col(name).cast(pl.Duration("us"))
        for name, kind in zip(names, types, strict=True)
        if kind.upper() == "INTERVAL"
    ]
    return frame.with_columns(durations) if durations else frame
