"""The template tasks: the data functions as analytics tasks.

Inside a flow, call the task; anywhere else (a notebook, a unit test), call its plain
function the Prefect way, `load_dbt_mart.fn(...)`, which needs no Prefect API.
"""

from __future__ import annotations

from ff_prefect_kit.core._task import analytics_task
from ff_prefect_kit.data import _mart, _parquet, _validation

__all__ = ["load_dbt_mart", "validate_frame", "write_parquet"]

load_dbt_mart = analytics_task(name="load-dbt-mart")(_mart.load_dbt_mart)
"""Load a dbt mart into Polars; retried while dbt holds the file's lock, never on a bad name."""

validate_frame = analytics_task(name="validate-frame", retries=0)(_validation.validate_frame)
"""Validate a frame against a Pydantic model; the same data can never pass on a retry."""

write_parquet = analytics_task(name="write-parquet")(_parquet.write_parquet)
"""Write a frame or a list of models to Parquet atomically; retried on I/O errors."""
