"""Printing the report: one aligned line per result, each fix under its line, then a summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ff_prefect_kit.cli._doctor._result import CheckResult, Status

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["render"]

_STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim"}


def render(results: list[CheckResult], out: Console) -> None:
    """Print the results as aligned lines, each failure and warning with its fix."""
    from rich.text import Text

    from ff_prefect_kit._secrets import redact

    width = max((len(result.name) for result in results), default=0)
    for result in results:
        symbol = result.status.value
        line = Text.assemble(
            (symbol, _STYLE[result.status]), f" {result.name:<{width}}  ", redact(result.detail)
        )
        if result.status is Status.FAIL and not result.required:
            line.append(" (optional)")
        out.print(line)
        if result.fix and result.status in (Status.FAIL, Status.WARN):
            out.print(Text(f"  {'':<{width}}  fix: {redact(result.fix)}"))
    failed = sum(result.blocking for result in results)
    warned = sum(result.status is Status.WARN for result in results)
    summary = (
        f"{failed} required check{'s' if failed != 1 else ''} failed"
        if failed
        else "All required checks passed"
    )
    if warned:
        summary += f"; {warned} warning{'s' if warned != 1 else ''}"
    out.print()
    out.print(Text(f"{summary}.  (✔ passed, ~ warning, ✘ failed, - skipped)"))
