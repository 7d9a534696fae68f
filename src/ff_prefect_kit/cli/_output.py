"""What every command shares: one-line errors without secrets, and the console."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from ff_prefect_kit._errors import KitError, describe

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["console", "debugging", "fail", "run_command"]


def fail(message: str, *, code: int = 2) -> int:
    """Print `error: <message>` on stderr, secrets redacted, on one line; return `code`."""
    from ff_prefect_kit._secrets import redact

    line = " ".join(redact(message).split())
    print(f"error: {line}", file=sys.stderr)
    return code


def debugging(ctx: typer.Context) -> bool:
    """Whether `--debug` was given to the command line."""
    obj = ctx.find_root().obj
    return bool(isinstance(obj, dict) and obj.get("debug"))


def run_command(ctx: typer.Context, run: Callable[[], int]) -> int:
    """Run a command's body; a `KitError` exits 2 and anything else 1, in one line.

    With `--debug` an unexpected error propagates with its traceback.
    """
    try:
        return run()
    except KitError as exc:
        if debugging(ctx):
            raise
        return fail(str(exc), code=2)
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        if debugging(ctx):
            raise
        return fail(f"{describe(exc)} (run again with --debug for the traceback)", code=1)


def console(*, stderr: bool = False) -> Console:
    """A rich console: colour only on a terminal, and never when `NO_COLOR` is set."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)
