"""What a person is told when a run goes wrong: an `Alert`, its `Severity`, and a sink."""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from ff_prefect_kit._secrets import redact

__all__ = ["Alert", "AlertSink", "Severity", "escape_controls"]

# Control characters but the newline and the tab, C1 ones included: an ANSI escape
# (ESC, or the 8-bit CSI) in an exception's text would recolour or rewrite the console.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """`text` with its control characters written out (`\\x1b`, `\\r`), newlines and tabs kept."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


class Severity(enum.Enum):
    """How bad it is: sets the emoji, the colour and the log level of an alert."""

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

    def redacted(self) -> Alert:
        """This alert with every known secret hidden in every text (what sinks send)."""
        return replace(
            self,
            title=redact(self.title),
            description=redact(self.description),
            fields=tuple((redact(name), redact(value)) for name, value in self.fields),
            url=None if self.url is None else redact(self.url),
        )

    @property
    def headline(self) -> str:
        """The title prefixed with the severity's emoji."""
        return f"{self.severity.emoji} {self.title}"

    def as_text(self) -> str:
        """Render the alert as plain text, one fact per line.

        A value that spans lines is indented under its fact, so that no value can
        pass for a line of its own (a fake fact, or a fake log line), and control
        characters are written out (`\\x1b`), so that no ANSI escape reaches a console.
        """
        lines = [_indented(self.headline)]
        if self.description:
            lines.append(_indented(self.description))
        lines.extend(f"{_indented(name)}: {_indented(value)}" for name, value in self.fields)
        if self.url:
            lines.append(f"Run: {_indented(self.url)}")
        lines.append(f"At: {self.timestamp.isoformat(timespec='seconds')}")
        return "\n".join(lines)


def _indented(text: str) -> str:
    text = escape_controls(text.replace("\r\n", "\n"))
    lines = text.splitlines()  # also at the line breaks of Unicode (U+2028, ...)
    return text if lines == [text] else "\n    ".join(lines)


@runtime_checkable
class AlertSink(Protocol):
    """Something that delivers alerts. `send` must never raise."""

    def send(self, alert: Alert) -> bool | None:
        """Deliver one alert; `False` when it reached nobody (`None` counts as delivered)."""
