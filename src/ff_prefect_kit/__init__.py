"""ff_prefect_kit: Prefect 3 as the foundation of fantasy-football analytics."""

from ff_prefect_kit._alerts import Alert, AlertSink, AlertThrottle, LogSink, Severity
from ff_prefect_kit._blocks import DiscordAlerts, register_blocks
from ff_prefect_kit._caching import frame_cache_key
from ff_prefect_kit._dbt import DbtNodeResult, DbtRunResult, run_dbt, run_dbt_models
from ff_prefect_kit._discord import DiscordClient
from ff_prefect_kit._errors import (
    ConfigError,
    DatabaseNotFoundError,
    DbtRunError,
    InvalidMartNameError,
    InvalidOptionError,
    KitError,
    MartLockedError,
    MartNotFoundError,
    OutputPathError,
    ParquetWriteError,
    SchemaValidationError,
    UnresolvedTaskFailureError,
)
from ff_prefect_kit._flows import flow_alert, monitored_flow
from ff_prefect_kit._loader import read_mart
from ff_prefect_kit._logging import bridge_logger
from ff_prefect_kit._parquet import ParquetWriteResult, write_parquet_atomic
from ff_prefect_kit._retry import RetryPolicy, is_testing, set_testing
from ff_prefect_kit._settings import KitSettings
from ff_prefect_kit._sinks import send_alert
from ff_prefect_kit._tasks import analytics_task
from ff_prefect_kit._templates import compute_analytics, load_dbt_mart, write_parquet
from ff_prefect_kit._validation import validate_frame, validate_records

__all__ = [
    "Alert",
    "AlertSink",
    "AlertThrottle",
    "ConfigError",
    "DatabaseNotFoundError",
    "DbtNodeResult",
    "DbtRunError",
    "DbtRunResult",
    "DiscordAlerts",
    "DiscordClient",
    "InvalidMartNameError",
    "InvalidOptionError",
    "KitError",
    "KitSettings",
    "LogSink",
    "MartLockedError",
    "MartNotFoundError",
    "OutputPathError",
    "ParquetWriteError",
    "ParquetWriteResult",
    "RetryPolicy",
    "SchemaValidationError",
    "Severity",
    "UnresolvedTaskFailureError",
    "analytics_task",
    "bridge_logger",
    "compute_analytics",
    "flow_alert",
    "frame_cache_key",
    "is_testing",
    "load_dbt_mart",
    "monitored_flow",
    "read_mart",
    "register_blocks",
    "run_dbt",
    "run_dbt_models",
    "send_alert",
    "set_testing",
    "validate_frame",
    "validate_records",
    "write_parquet",
    "write_parquet_atomic",
]
