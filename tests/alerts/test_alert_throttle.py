"""AlertThrottle: one alert per window for a flow that keeps failing, then a count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ff_prefect_kit import InvalidOptionError, Severity
from ff_prefect_kit.alerts import Alert, AlertThrottle, reset_throttles

START = datetime(2026, 9, 14, 12, 0, tzinfo=UTC)
ALERT = Alert(Severity.FAILURE, "nightly failed")


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def test_first_alert_goes_through_unchanged() -> None:
    """The first failure of a flow is sent as it is."""
    assert AlertThrottle(clock=Clock()).admit("nightly", ALERT) is ALERT


def test_failures_inside_the_window_are_held_back() -> None:
    """A failure every minute sends nothing more until the window has passed."""
    clock = Clock()
    throttle = AlertThrottle(timedelta(minutes=10), clock=clock)
    throttle.admit("nightly", ALERT)
    held = []
    for minute in range(1, 10):
        clock.now = START + timedelta(minutes=minute)
        held.append(throttle.admit("nightly", ALERT))
    assert held == [None] * 9
    assert throttle.held_back("nightly") == 9


def test_first_alert_after_the_window_counts_the_held_back() -> None:
    """After the window, the next alert says how many failed since the last one."""
    clock = Clock()
    throttle = AlertThrottle(timedelta(minutes=10), clock=clock)
    throttle.admit("nightly", ALERT)
    for minute in (1, 2, 3):
        clock.now = START + timedelta(minutes=minute)
        throttle.admit("nightly", ALERT)
    clock.now = START + timedelta(minutes=10)
    sent = throttle.admit("nightly", ALERT)
    assert sent is not None
    assert sent.fields[-1] == ("Also failed", "and 3 more failures since 2026-09-14T12:00:00+00:00")


def test_flows_are_throttled_separately() -> None:
    """Another flow's failure in the same window is still sent."""
    throttle = AlertThrottle(clock=Clock())
    throttle.admit("nightly", ALERT)
    assert throttle.admit("weekly", ALERT) is ALERT


def test_negative_window_is_rejected() -> None:
    """A negative window is an invalid option."""
    with pytest.raises(InvalidOptionError, match="must not be negative"):
        AlertThrottle(timedelta(seconds=-1))


def test_reset_throttles_forgets_every_window() -> None:
    """After reset_throttles(), a key inside its window alerts again."""
    throttle = AlertThrottle(timedelta(hours=1), clock=Clock())
    assert throttle.admit("nightly", ALERT) is ALERT
    assert throttle.admit("nightly", ALERT) is None
    reset_throttles()
    assert throttle.admit("nightly", ALERT) is ALERT
