"""Testing helpers: a fast Prefect harness and zero retry delays, usable without pytest."""

from ff_prefect_kit.testing._harness import HarnessHandle, no_retry_delays, prefect_harness

__all__ = ["HarnessHandle", "no_retry_delays", "prefect_harness"]
