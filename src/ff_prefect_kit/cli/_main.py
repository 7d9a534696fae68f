"""The `ff-prefect-kit` command: the typer application and its exit codes.

Exit codes scripts can rely on:

- 0: done; every required check passed.
- 1: a check failed (`doctor`), or an alert was not delivered (`alert test`).
- 2: bad input or configuration: the one-line error names the value and the fix.
- 130: interrupted.

Each command lives in its own module and imports what it needs when it runs, so
`ff-prefect-kit --help` stays quick. Errors are one line on stderr, with no secret
and no traceback unless `--debug` is given.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ff_prefect_kit.cli import (
    _alerting,
    _automations,
    _doctor,
    _local_settings,
    _model,
    _scaffold,
)
from ff_prefect_kit.cli._output import fail, run_command

__all__ = ["app", "embedded_defaults", "main"]

# Newer typer releases carry their own copy of click: reach its errors through typer.
_ClickException: type[Exception] = next(
    base for base in typer.BadParameter.__mro__ if base.__name__ == "ClickException"
)

app = typer.Typer(
    name="ff-prefect-kit",
    help="Prefect 3 foundation for fantasy-football analytics.",
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@contextmanager
def embedded_defaults(home: Path | None = None) -> Iterator[None]:
    """Settings for running offline on Prefect's local ephemeral API.

    The ephemeral server must not phone home (this machine may be offline), and its
    first start, which migrates a fresh database, may take longer than Prefect's
    default 20 s. Explicit settings from the environment win.

    Args:
        home: A Prefect home of the command's own, used when no `PREFECT_API_URL` is
            set, so that the ephemeral API's database is not the user's `~/.prefect`
            one (a newer Prefect would migrate it past the user's own release).
    """
    import prefect.settings
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    from ff_prefect_kit.cli._local_settings import LOCAL_SETTINGS

    updates: dict[Any, Any] = {}
    if home is not None and not PREFECT_API_URL.value():
        home.mkdir(parents=True, exist_ok=True)
        updates[PREFECT_HOME] = home
    for variable, value in LOCAL_SETTINGS:  # the settings `ff-prefect-kit init` writes
        if variable not in os.environ:
            updates[getattr(prefect.settings, variable)] = value
    with temporary_settings(updates=updates):
        yield


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(version("ff-prefect-kit"))
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an unexpected error.")
    ] = False,
) -> None:
    """Prefect 3 foundation for fantasy-football analytics."""
    ctx.obj = {"debug": debug}
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(2)


def _positive(value: int) -> int:
    if value < 1:
        raise typer.BadParameter(f"must be 1 or more, got {value}")
    return value


@app.command()
def demo(
    ctx: typer.Context,
    *,
    workdir: Annotated[
        Path,
        typer.Option(help="Where the dbt project, DuckDB file and outputs go."),
    ] = Path("ff-prefect-kit-demo"),
    seasons: Annotated[
        int, typer.Option(callback=_positive, help="Seasons of data (1 or more).")
    ] = 3,
    players: Annotated[
        int, typer.Option(callback=_positive, help="Players per season (1 or more).")
    ] = 200,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    top: Annotated[int, typer.Option(callback=_positive, help="Players to show.")] = 10,
    verbose: Annotated[bool, typer.Option("--verbose", help="Show dbt's log lines too.")] = False,
) -> int:
    """Run the example analytics flow end to end.

    Generate synthetic weekly stats, build the marts with the example dbt project, run
    the analytics-template flow under Prefect (its local ephemeral API unless
    PREFECT_API_URL is set), and print the top players by value.
    """

    def run() -> int:
        from ff_prefect_kit.cli._demo import DemoOptions, run_demo

        options = DemoOptions(
            workdir=workdir,
            seasons=seasons,
            players=players,
            seed=seed,
            top=top,
            verbose=verbose,
        )
        with embedded_defaults(home=options.workdir.resolve() / ".prefect"):
            return run_demo(options)

    return run_command(ctx, run)


blocks = typer.Typer(
    help="Prefect blocks the kit uses.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(blocks, name="blocks")
blocks.command("register")(_alerting.register)

alert = typer.Typer(help="Discord alerts.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(alert, name="alert")
alert.command("test")(_alerting.alert_test)

automations = typer.Typer(
    help="Alerts the Prefect server sends for runs that cannot.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(automations, name="automations")
automations.command("install")(_automations.install)

app.command("doctor")(_doctor.doctor)
app.command("init")(_local_settings.init)
app.command("new-flow")(_scaffold.new_flow)
app.command("model")(_model.model)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default: `sys.argv[1:]`); returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="ff-prefect-kit", standalone_mode=False)
    except typer.Exit as done:
        return int(done.exit_code)
    except typer.Abort:
        return fail("interrupted", code=130)
    except _ClickException as usage:
        usage.show()  # type: ignore[attr-defined]
        return int(usage.exit_code)  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        return fail("interrupted", code=130)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
