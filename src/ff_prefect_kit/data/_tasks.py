"""The template tasks: the data functions as analytics tasks.

Inside a flow, call the task; anywhere else (a notebook, a unit test), call its plain
function the Prefect way, `load_dbt_mart.fn(...)`, which needs no Prefect API.

Inside a task run, loading a mart and writing Parquet are also recorded as Prefect
assets (`ff_prefect_kit._assets`): the mart a flow loaded becomes the upstream asset
of the Parquet file written from it, whatever tasks sit in between.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ParamSpec

from ff_prefect_kit._assets import file_asset_key, materializes, reads, table_asset_key
from ff_prefect_kit._settings import KitSettings
from ff_prefect_kit.core._task import analytics_task
from ff_prefect_kit.data import _mart, _parquet, _validation

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = ["load_dbt_mart", "validate_frame", "write_parquet"]

_P = ParamSpec("_P")


def mart_asset_key(mart_name: str, db_path: str | os.PathLike[str] | None = None) -> str | None:
    """The asset key of a mart: `duckdb://<database path>/<table>`; `None` if unknown.

    DuckDB's default schema is left out (`main.mrt_x` is `mrt_x`), as dbt's models are
    keyed by their table name, so that the mart a flow loads and the model dbt builds
    are one asset.
    """
    if db_path is None:
        db_path = KitSettings().duckdb_path
        if db_path is None:
            return None
    parts = mart_name.split(".")[-2:]
    if parts[0] == "main":
        parts = parts[1:]
    return table_asset_key(db_path, ".".join(parts))


@functools.wraps(_mart.load_dbt_mart)
def _load_dbt_mart(
    mart_name: str,
    db_path: str | os.PathLike[str] | duckdb.DuckDBPyConnection | None = None,
    *,
    columns: Sequence[str] | None = None,
) -> pl.DataFrame:
    frame = _mart.load_dbt_mart(mart_name, db_path, columns=columns)
    # A connection does not say which file it holds: only a path names the asset.
    if db_path is None or isinstance(db_path, str | os.PathLike):
        key = mart_asset_key(mart_name, db_path)
        if key is not None:
            reads(key)
    return frame


def _materializing(
    write: Callable[_P, _parquet.ParquetWriteResult],
) -> Callable[_P, _parquet.ParquetWriteResult]:
    """`write`, then the file it wrote recorded as a materialized asset."""

    @functools.wraps(write)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _parquet.ParquetWriteResult:
        result = write(*args, **kwargs)
        materializes(
            file_asset_key(result.path),
            {"rows": result.rows, "bytes": result.bytes},
            by="ff_prefect_kit",
        )
        return result

    return wrapper


load_dbt_mart = analytics_task(name="load-dbt-mart")(_load_dbt_mart)
"""Load a dbt mart into Polars; retried while dbt holds the file's lock, never on a bad name."""

validate_frame = analytics_task(name="validate-frame", retries=0)(_validation.validate_frame)
"""Validate a frame against a Pydantic model; the same data can never pass on a retry."""

write_parquet = analytics_task(name="write-parquet")(_materializing(_parquet.write_parquet))
"""Write a frame or a list of models to Parquet atomically; retried on I/O errors."""
