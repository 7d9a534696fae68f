"""The spec's template tasks: load a mart, validate into models, write Parquet.

Each is `analytics_task` over a plain function that is also public (`read_mart`,
`validate_records`, `write_parquet_atomic`), so the same code runs inside a flow
and in a notebook or a test without Prefect.
"""

from __future__ import annotations

from ff_prefect_kit._loader import read_mart
from ff_prefect_kit._parquet import write_parquet_atomic
from ff_prefect_kit._tasks import analytics_task
from ff_prefect_kit._validation import validate_records

__all__ = ["compute_analytics", "load_dbt_mart", "write_parquet"]

load_dbt_mart = analytics_task(name="load-dbt-mart")(read_mart)
"""`read_mart` as a task: retried on a lock held by dbt, never on a bad name."""

compute_analytics = analytics_task(name="compute-analytics", retries=2, retry_delay_seconds=30)(
    validate_records
)
"""`validate_records` as a task: a frame in, `list[schema]` out; bad rows never retry."""

write_parquet = analytics_task(name="write-parquet")(write_parquet_atomic)
"""`write_parquet_atomic` as a task: a frame or models in, a `ParquetWriteResult` out."""
