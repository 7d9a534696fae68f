"""`automations install`: alerts from the Prefect server for runs that cannot send their own."""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer

from ff_prefect_kit._settings import AUTOMATION_BLOCK_NAME
from ff_prefect_kit.cli._output import console, run_command

__all__ = ["install"]

_WEBHOOK_SLUG = "custom-webhook"
_UNITS = {
    "--running-limit": "minutes",
    "--heartbeat-timeout": "seconds",
    "--crash-grace": "seconds",
}
_EXAMPLES = {"--running-limit": "180", "--heartbeat-timeout": "90", "--crash-grace": "60"}


def install(
    ctx: typer.Context,
    *,
    block: Annotated[
        str | None,
        typer.Option(
            help="Send through this saved notification block (TYPE/NAME, or a NAME of "
            "Prefect's custom-webhook type) instead of DISCORD_WEBHOOK_URL."
        ),
    ] = None,
    running_limit: Annotated[
        float,
        typer.Option(help="Minutes a flow run may stay Running before it alerts; 0 for no limit."),
    ] = 180,
    heartbeat_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds without a heartbeat before a running flow run alerts; 0 for none."
        ),
    ] = 90,
    crash_grace: Annotated[
        float,
        typer.Option(
            help="Seconds the server waits for the kit's own alert of a crash before it sends one."
        ),
    ] = 60,
    flow: Annotated[
        list[str] | None,
        typer.Option(help="Only the runs of this flow (repeat for several); default all."),
    ] = None,
) -> int:
    """Install the kit's automations on the Prefect server or Cloud; running it again updates them.

    The server then alerts Discord when a flow run crashes and no process of the kit
    reported it (a SIGKILL, the OOM killer), when a running flow run stops sending
    heartbeats (its worker or machine died), and when one stays Running past a limit.
    Without --block, DISCORD_WEBHOOK_URL is saved as Prefect's custom-webhook block
    'ff-analytics-automation-alerts', with the URL kept secret.
    """

    def run() -> int:
        from datetime import timedelta

        from prefect.blocks.abstract import NotificationBlock
        from prefect.blocks.core import Block

        from ff_prefect_kit._errors import ConfigError, InvalidOptionError
        from ff_prefect_kit._settings import KitSettings
        from ff_prefect_kit.alerts._automations import (
            automation_webhook_block,
            block_document_id,
            check_windows,
            install_automations,
        )
        from ff_prefect_kit.cli._api import prefect_value, reachable_api

        for label, value in (
            ("--running-limit", running_limit),
            ("--heartbeat-timeout", heartbeat_timeout),
            ("--crash-grace", crash_grace),
        ):
            if not math.isfinite(value):
                raise InvalidOptionError(
                    f"{label} must be a number of {_UNITS[label]}, got {value}: pass e.g. "
                    f"{label} {_EXAMPLES[label]}"
                )
            if value < 0 and label != "--crash-grace":
                raise InvalidOptionError(f"{label} must be 0 (none) or more, got {value:g}")
        limit = timedelta(minutes=running_limit) if running_limit else None
        silence = timedelta(seconds=heartbeat_timeout) if heartbeat_timeout else None
        grace = timedelta(seconds=crash_grace)
        check_windows(
            limit, silence, grace, names=("--running-limit", "--heartbeat-timeout", "--crash-grace")
        )
        url = KitSettings().require("discord_webhook_url") if block is None else None
        if not prefect_value("PREFECT_API_URL"):
            raise ConfigError(
                "PREFECT_API_URL is not set: automations on Prefect's local ephemeral API "
                "would never run (it stops when this command ends); point PREFECT_API_URL "
                "at a Prefect server (`prefect server start`) or at Prefect Cloud, then "
                "run again"
            )
        where = reachable_api()
        target: Any
        if url is not None:
            target = automation_webhook_block(url, username=KitSettings().alert_username)
            target.save(AUTOMATION_BLOCK_NAME, overwrite=True)
            reference = f"{_WEBHOOK_SLUG}/{AUTOMATION_BLOCK_NAME}"
        else:
            reference = str(block) if "/" in str(block) else f"{_WEBHOOK_SLUG}/{block}"
            try:
                loaded: Any = Block.load(reference)
            except ValueError:
                raise ConfigError(
                    f"no block {reference!r} on the Prefect API: create it first, or leave "
                    "out --block to save DISCORD_WEBHOOK_URL as one"
                ) from None
            if not isinstance(loaded, NotificationBlock):
                raise InvalidOptionError(
                    f"block {reference!r} is a {type(loaded).__name__}, not a notification block"
                )
            target = loaded
        installed = install_automations(
            block_document_id(target),
            running_limit=limit,
            heartbeat_timeout=silence,
            crash_grace=grace,
            flows=tuple(flow or ()),
        )
        out = console()
        for automation in installed:
            out.print(f"✔ {automation.action.capitalize()} automation {automation.name!r}.")
        out.print(f"  Alerts are sent through block {reference!r} ({where}).")
        if heartbeat_timeout:
            out.print(
                "  Heartbeats: run workers with PREFECT_FLOWS_HEARTBEAT_FREQUENCY=30 "
                "(PREFECT_RUNNER_HEARTBEAT_FREQUENCY on Prefect 3.6)."
            )
        return 0

    return run_command(ctx, run)
