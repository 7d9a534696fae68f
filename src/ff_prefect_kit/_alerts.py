"""Alerts: what a person is told when a run goes wrong, and where it is sent.

An `Alert` is plain data. A sink delivers it. The `LogSink` writes the alert's text
to the run's logs and the console: the embedded default when no webhook is set.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from ff_prefect_kit._errors import InvalidOptionError
from ff_prefect_kit._logging import kit_logger

__all__ = ["Alert", "AlertSink", "AlertThrottle", "LogSink", "Severity"]


class Severity(enum.Enum):
    """How bad it is, from the spec's error-response table."""

    CRITICAL = "critical"
    """🚨 A task failed after its retries, or a flow crashed."""
    FAILURE = "failure"
    """⚠️ A flow failed."""
    VALIDATION = "validation"
    """🔴 Data did not match its schema."""
    INFO = "info"
    """ℹ️ For information."""
    SUCCESS = "success"
    """✅ A run succeeded (opt-in)."""

    @property
    def emoji(self) -> str:
        """The emoji that prefixes an alert of this severity."""
        return _EMOJI[self]

    @property
    def colour(self) -> int:
        """The embed colour (0xRRGGBB) of an alert of this severity."""
        return _COLOUR[self]

    @property
    def log_level(self) -> int:
        """The stdlib logging level of an alert of this severity."""
        return _LEVEL[self]


_EMOJI = {
    Severity.CRITICAL: "🚨",
    Severity.FAILURE: "⚠️",
    Severity.VALIDATION: "🔴",
    Severity.INFO: "ℹ️",
    Severity.SUCCESS: "✅",
}
_COLOUR = {
    Severity.CRITICAL: 0xED4245,
    Severity.FAILURE: 0xFEE75C,
    Severity.VALIDATION: 0xC0392B,
    Severity.INFO: 0x5865F2,
    Severity.SUCCESS: 0x57F287,
}
_LEVEL = {
    Severity.CRITICAL: logging.ERROR,
    Severity.FAILURE: logging.ERROR,
    Severity.VALIDATION: logging.ERROR,
    Severity.INFO: logging.INFO,
    Severity.SUCCESS: logging.INFO,
}


@dataclass(frozen=True)
class Alert:
    """One alert, independent of where it is delivered.

    Attributes:
        severity: How bad it is; sets the emoji and colour.
        title: One line, e.g. `"player-valuation failed"`; the emoji is added on render.
        description: Longer text, e.g. the state message.
        fields: Named facts shown in order, e.g. `("Task", "load-dbt-mart")`.
        url: A link to the run in the Prefect UI, when there is one.
        timestamp: When it happened, timezone-aware.
    """

    severity: Severity
    title: str
    description: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    url: str | None = None
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def headline(self) -> str:
        """The title prefixed with the severity's emoji."""
        return f"{self.severity.emoji} {self.title}"

    def as_text(self) -> str:
        """Render the alert as plain text, one fact per line."""
        lines = [self.headline]
        if self.description:
            lines.append(self.description)
        lines.extend(f"{name}: {value}" for name, value in self.fields)
        if self.url:
            lines.append(f"Run: {self.url}")
        lines.append(f"At: {self.timestamp.isoformat(timespec='seconds')}")
        return "\n".join(lines)


@runtime_checkable
class AlertSink(Protocol):
    """Something that delivers alerts. `send` must never raise."""

    def send(self, alert: Alert) -> None:
        """Deliver one alert."""


class LogSink:
    """Write each alert's text to the kit's logger: the run's logs and the console."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or kit_logger

    def __repr__(self) -> str:
        return "LogSink()"

    def send(self, alert: Alert) -> None:
        """Log the alert at the level its severity asks for."""
        try:
            self._logger.log(
                alert.severity.log_level, "Alert (no webhook configured):\n%s", alert.as_text()
            )
        except Exception:  # pragma: no cover - logging itself failed; nothing left to tell
            return


DEFAULT_ALERT_WINDOW = timedelta(minutes=10)


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

    def held_back(self, key: str) -> int:
        """How many alerts for `key` are held back in its current window."""
        with self._lock:
            current = self._windows.get(key)
            return current.suppressed if current else 0
