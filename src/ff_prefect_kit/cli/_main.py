"""The `ff-prefect-kit` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ff_prefect_kit._errors import KitError

__all__ = ["main"]


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
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_HOME,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    updates: dict[Any, Any] = {}
    if home is not None and not PREFECT_API_URL.value():
        home.mkdir(parents=True, exist_ok=True)
        updates[PREFECT_HOME] = home
    if "PREFECT_SERVER_ANALYTICS_ENABLED" not in os.environ:
        updates[PREFECT_SERVER_ANALYTICS_ENABLED] = False
    if "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" not in os.environ:
        updates[PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS] = 180
    with temporary_settings(updates=updates):
        yield


def _demo(args: argparse.Namespace) -> int:
    # Imported when the command runs: `ff-prefect-kit --help` stays instant.
    from ff_prefect_kit.cli._demo import DemoOptions, run_demo

    options = DemoOptions(
        workdir=Path(args.workdir),
        seasons=args.seasons,
        players=args.players,
        seed=args.seed,
        top=args.top,
        verbose=args.verbose,
    )
    try:
        with embedded_defaults(home=options.workdir.resolve() / ".prefect"):
            return run_demo(options)
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ff-prefect-kit",
        description="Prefect 3 foundation for fantasy-football analytics.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="run the example analytics flow end to end",
        description=(
            "Generate synthetic weekly stats, build the marts with the example dbt project, "
            "run the analytics-template flow under Prefect (its local ephemeral API unless "
            "PREFECT_API_URL is set), and print the top players by value."
        ),
    )
    demo.add_argument(
        "--workdir",
        default="ff-prefect-kit-demo",
        help="where the dbt project, DuckDB file and outputs go (default ./ff-prefect-kit-demo)",
    )
    demo.add_argument("--seasons", type=_positive, default=3, help="seasons of data (default 3)")
    demo.add_argument(
        "--players", type=_positive, default=200, help="players per season (default 200)"
    )
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    demo.add_argument("--top", type=_positive, default=10, help="players to show (default 10)")
    demo.add_argument("--verbose", action="store_true", help="show dbt's log lines too")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from importlib.metadata import version

        print(version("ff-prefect-kit"))
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    status: int = args.run(args)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
