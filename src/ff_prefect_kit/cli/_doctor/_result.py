"""What one check reports: `CheckResult`, its `Status`, and the constructors every check uses."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["CheckResult", "Status", "describe", "fail", "ok", "skip", "warn"]


class Status(enum.Enum):
    """How a check came out; the value is the symbol printed for it."""

    OK = "✔"
    WARN = "~"
    FAIL = "✘"
    SKIP = "-"


@dataclass(frozen=True)
class CheckResult:
    """One line of the report.

    Attributes:
        name: What was checked, e.g. `"Prefect API"`.
        status: How it came out.
        detail: What was found (never a secret).
        fix: What to do about a failure or a warning; empty when nothing is to do.
        required: Whether a `FAIL` makes the command exit 1.
    """

    name: str
    status: Status
    detail: str
    fix: str = ""
    required: bool = True

    @property
    def blocking(self) -> bool:
        """Whether this result makes the command fail."""
        return self.required and self.status is Status.FAIL


def ok(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.OK, detail)


def skip(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.SKIP, detail, required=False)


def fail(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.FAIL, detail, fix)


def warn(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.WARN, detail, fix, required=False)


def describe(exc: BaseException) -> str:
    """`exc` on one line, redacted, for a result's detail."""
    from ff_prefect_kit._errors import describe as one_line
    from ff_prefect_kit._secrets import redact

    return " ".join(redact(one_line(exc)).split())
