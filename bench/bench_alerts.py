"""What a Discord alert adds to a failing flow, when the webhook answers at once.

Runs, in one process and one temporary Prefect API, the same failing monitored flow
with its alert hook (rendering the alert, looking up failed task runs, posting it to
a webhook that answers 204 at once through `httpx.MockTransport`) and without it,
interleaved. Prints the medians, the difference and the ratio; the target is that
alerting adds at most 50 ms.

    uv run python bench/bench_alerts.py [--runs 20]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time

import httpx

from ff_prefect_kit import Severity, monitored_flow
from ff_prefect_kit.alerts import Alert, DiscordClient
from ff_prefect_kit.testing import prefect_harness

TARGET_MS = 50.0
URL = "https://discord.com/api/webhooks/100000000000000001/bench-token"


def main() -> None:
    """Measure and print the added cost of alerting."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="runs of each flow")
    args = parser.parse_args()

    posted: list[httpx.Request] = []
    client = DiscordClient(
        URL, transport=httpx.MockTransport(lambda r: posted.append(r) or httpx.Response(204))
    )

    @monitored_flow(name="bench-failing", alerts=client, alert_window=None)
    def failing() -> None:
        raise ValueError("bench failure")

    # The same flow, kit instrumentation and all, minus the alert hook.
    silent = failing.with_options()
    silent.on_failure_hooks = silent.on_failure_hooks[1:]

    # The run's ERROR lines go to the console for every run; keep the output readable.
    logging.getLogger("prefect").setLevel(logging.CRITICAL)
    logging.getLogger("ff_prefect_kit").setLevel(logging.CRITICAL)

    with prefect_harness():
        failing(return_state=True)  # warm-up: first-run imports and API caches
        silent(return_state=True)
        posted.clear()
        with_alert: list[float] = []
        without: list[float] = []
        for _ in range(args.runs):
            for flow, times in ((failing, with_alert), (silent, without)):
                start = time.perf_counter()
                state = flow(return_state=True)
                times.append(time.perf_counter() - start)
                assert state.is_failed()

    assert len(posted) == args.runs, f"expected {args.runs} alerts, {len(posted)} were posted"
    a = statistics.median(with_alert) * 1000
    b = statistics.median(without) * 1000
    added = a - b
    print(f"failing flow, {args.runs} alternated runs each (median, min-max):")
    print(f"  with Discord alert:    {a:8.1f} ms  ({_spread(with_alert)})")
    print(f"  without alert:         {b:8.1f} ms  ({_spread(without)})")
    print(f"  added by alerting:     {added:8.1f} ms  (ratio {a / b:.2f}x)")
    verdict = "OK" if added <= TARGET_MS else "OVER"
    print(f"  target:                <= {TARGET_MS:.0f} ms added -> {verdict}")

    # The flow-level difference is within run-to-run noise; time the alert path alone.
    alert = Alert(Severity.CRITICAL, "bench-failing failed", "x" * 20_000, (("Error", "y" * 5000),))
    start = time.perf_counter()
    for _ in range(200):
        client.send(alert)
    per_alert = (time.perf_counter() - start) / 200 * 1000
    print(f"  render + post alone:   {per_alert:8.2f} ms per alert (20 KB text, mock webhook)")


def _spread(values: list[float]) -> str:
    return f"{min(values) * 1000:.1f}-{max(values) * 1000:.1f} ms"


if __name__ == "__main__":
    main()
