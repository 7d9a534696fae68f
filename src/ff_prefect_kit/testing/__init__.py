"""Testing helpers: a fast Prefect harness and zero retry delays, usable without pytest."""

from ff_prefect_kit.testing._discord import (
    CapturedMessage,
    DiscordCapture,
    DiscordOptions,
    capture_discord,
)
from ff_prefect_kit.testing._harness import HarnessHandle, no_retry_delays, prefect_harness
from ff_prefect_kit.testing._records import RunRecord, TaskRecord, run_record

__all__ = [
    "CapturedMessage",
    "DiscordCapture",
    "DiscordOptions",
    "HarnessHandle",
    "RunRecord",
    "TaskRecord",
    "capture_discord",
    "no_retry_delays",
    "prefect_harness",
    "run_record",
]
