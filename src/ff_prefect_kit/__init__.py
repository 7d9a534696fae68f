"""ff_prefect_kit: Prefect 3 as the foundation of fantasy-football analytics."""

from ff_prefect_kit._alerts import Alert, AlertSink, LogSink, Severity
from ff_prefect_kit._caching import frame_cache_key
from ff_prefect_kit._errors import (
    ConfigError,
    InvalidOptionError,
    KitError,
    SchemaValidationError,
    UnresolvedTaskFailureError,
)
from ff_prefect_kit._flows import flow_alert, monitored_flow
from ff_prefect_kit._logging import bridge_logger
from ff_prefect_kit._retry import RetryPolicy, is_testing, set_testing
from ff_prefect_kit._settings import KitSettings
from ff_prefect_kit._tasks import analytics_task

__all__ = [
    "Alert",
    "AlertSink",
    "ConfigError",
    "InvalidOptionError",
    "KitError",
    "KitSettings",
    "LogSink",
    "RetryPolicy",
    "SchemaValidationError",
    "Severity",
    "UnresolvedTaskFailureError",
    "analytics_task",
    "bridge_logger",
    "flow_alert",
    "frame_cache_key",
    "is_testing",
    "monitored_flow",
    "set_testing",
]
