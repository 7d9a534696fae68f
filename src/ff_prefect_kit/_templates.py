"""The four template tasks: the plain functions of `data` and `dbt` as analytics tasks.

This module sits above `core`, `data` and `dbt`: those packages keep plain functions
and never import it. Inside a flow, call the task; anywhere else (a notebook, a unit
test), call its plain function the Prefect way, `load_dbt_mart.fn(...)`, which needs
no Prefect API.

Inside a task run, loading a mart and writing Parquet are also recorded as Prefect
assets (`ff_prefect_kit._assets`): the mart a flow loaded becomes the upstream asset
of the Parquet file written from it, whatever tasks sit in between.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ParamSpec

from ff_prefect_kit._assets import file_asset_key, mart_asset_key, materializes, reads
from ff_prefect_kit.core._task import analytics_task
from ff_prefect_kit.data import _mart, _parquet, _validation
from ff_prefect_kit.data._mart import external_mart_url
from ff_prefect_kit.data._object_store import is_object_url
from ff_prefect_kit.dbt import _runner

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = ["load_dbt_mart", "run_dbt_models", "validate_frame", "write_parquet"]

_P = ParamSpec("_P")


@functools.wraps(_mart.load_dbt_mart)
def _load_dbt_mart(
    mart_name: str,
    db_path: str | os.PathLike[str] | duckdb.DuckDBPyConnection | None = None,
    *,
    columns: Sequence[str] | None = None,
) -> pl.DataFrame:
    frame = _mart.load_dbt_mart(mart_name, db_path, columns=columns)
    # A connection does not say which file it holds: only a path names the asset.
    if is_object_url(db_path):
        reads(external_mart_url(mart_name, str(db_path)))
    elif db_path is None or isinstance(db_path, str | os.PathLike):
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
            file_asset_key(result.path) if result.path is not None else str(result.url),
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

run_dbt_models = analytics_task(name="run-dbt-models")(_runner.run_dbt_models)
"""Build dbt models and return each node's result; retried while the DuckDB file is locked."""
