"""The `ff-prefect-kit` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["main"]


@contextmanager
def embedded_defaults() -> Iterator[None]:
    """Settings for running offline on Prefect's local ephemeral API.

    The ephemeral server must not phone home (this machine may be offline), and its
    first start, which migrates a fresh database, may take longer than Prefect's
    default 20 s. Explicit settings from the environment win.
    """
    from prefect.settings import (
        PREFECT_SERVER_ANALYTICS_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    updates: dict[Any, Any] = {}
    if "PREFECT_SERVER_ANALYTICS_ENABLED" not in os.environ:
        updates[PREFECT_SERVER_ANALYTICS_ENABLED] = False
    if "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" not in os.environ:
        updates[PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS] = 180
    with temporary_settings(updates=updates):
        yield


def _demo(args: argparse.Namespace) -> int:
    from ff_prefect_kit._demo import hello_world_flow

    with embedded_defaults():
        state = hello_world_flow(players=args.players, return_state=True)
    if not state.is_completed():
        print(f"hello-world flow ended {state.name}: {state.message}", file=sys.stderr)
        return 1
    print(f"hello-world flow completed: total points {state.result()}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ff-prefect-kit",
        description="Prefect 3 foundation for fantasy-football analytics.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="run the example analytics flow end to end")
    demo.add_argument("--players", type=int, default=10, help="how many players (default 10)")
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
