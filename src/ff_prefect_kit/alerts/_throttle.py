"""One alert per window for a flow that keeps failing."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from ff_prefect_kit._errors import InvalidOptionError
from ff_prefect_kit.alerts._model import Alert

__all__ = ["DEFAULT_ALERT_WINDOW", "AlertThrottle", "reset_throttles"]

DEFAULT_ALERT_WINDOW = timedelta(minutes=10)

# Every live throttle, so that a test tool can start each test with quiet windows
# (a module-level flow keeps its throttle for the life of the process).
_LIVE: weakref.WeakSet[AlertThrottle] = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


@dataclass
class _Window:
    sent_at: datetime
    suppressed: int = 0


class AlertThrottle:
    """Let one alert per window through for each key (a flow's name), then a count.

    A flow that fails every minute sends its first alert at once; the failures in
    the next `window` are counted, not sent, and the first alert after the window
    says "and N more failures since ...". State lives in this object, in memory:
    it throttles the runs of one process.

    Args:
        window: How long after an alert the same key stays quiet.
        clock: The current time, timezone-aware (injectable for tests).
    """

    def __init__(
        self,
        window: timedelta = DEFAULT_ALERT_WINDOW,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if window < timedelta(0):
            raise InvalidOptionError(f"alert window must not be negative, got {window!r}")
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        with _LIVE_LOCK:
            _LIVE.add(self)

    def __repr__(self) -> str:
        return f"AlertThrottle(window={self.window!r})"

    def admit(self, key: str, alert: Alert) -> Alert | None:
        """The alert to send for `key` now, or `None` when it falls in a quiet window.

        Args:
            key: What is throttled, e.g. the flow's name.
            alert: The alert that would be sent.

        Returns:
            The alert (with a count of the failures held back since the last one), or
            `None` when it is held back.
        """
        with self._lock:
            now = self._clock()
            current = self._windows.get(key)
            if current is not None and now - current.sent_at < self.window:
                current.suppressed += 1
                return None
            self._windows[key] = _Window(sent_at=now)
        if current is None or current.suppressed == 0:
            return alert
        n = current.suppressed
        since = current.sent_at.isoformat(timespec="seconds")
        note = f"and {n} more failure{'s' if n != 1 else ''} since {since}"
        return replace(alert, fields=(*alert.fields, ("Also failed", note)))

    def reset(self) -> None:
        """Forget every window: the next alert for any key is sent."""
        with self._lock:
            self._windows.clear()

    def held_back(self, key: str) -> int:
        """How many alerts for `key` are held back in its current window."""
        with self._lock:
            current = self._windows.get(key)
            return current.suppressed if current else 0


def reset_throttles() -> None:
    """Forget the windows of every throttle in this process (what test tools call).

    `mock_discord_webhook()` calls it on entry and exit, so one test's alert never
    holds back the next test's.
    """
    with _LIVE_LOCK:
        throttles = list(_LIVE)
    for throttle in throttles:
        throttle.reset()
