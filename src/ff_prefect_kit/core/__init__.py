"""The decorators and what they are built from: retries, logging, failure tracking, caching."""

from ff_prefect_kit._exports import publish as _publish
from ff_prefect_kit._logging import bridge_logger
from ff_prefect_kit.core._api_loss import MonitoredFlow
from ff_prefect_kit.core._caching import frame_cache_key
from ff_prefect_kit.core._flow import flow_alert, monitored_flow
from ff_prefect_kit.core._futures import TrackingTaskRunner
from ff_prefect_kit.core._retry import PROGRAMMING_ERRORS, RetryPolicy
from ff_prefect_kit.core._task import analytics_task

__all__ = [
    "PROGRAMMING_ERRORS",
    "MonitoredFlow",
    "RetryPolicy",
    "TrackingTaskRunner",
    "analytics_task",
    "bridge_logger",
    "flow_alert",
    "frame_cache_key",
    "monitored_flow",
]

_publish(globals(), __all__)
