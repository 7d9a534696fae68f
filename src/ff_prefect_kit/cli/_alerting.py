"""`blocks register` and `alert test`: set up the Discord block, and prove alerts arrive."""

from __future__ import annotations

import enum
import socket
from typing import Annotated

import typer

from ff_prefect_kit._settings import DEFAULT_BLOCK_NAME
from ff_prefect_kit.cli._api import reachable_api
from ff_prefect_kit.cli._output import console, run_command

__all__ = ["alert_test", "register"]

_REACHED = "Test alert from ff-prefect-kit: alerts reach this channel."
_NO_WEBHOOK = (
    "Test alert from ff-prefect-kit: no webhook is configured, so alerts go to the log "
    "and the console."
)


class SeverityChoice(enum.StrEnum):
    """The severities an alert can have, as the command line spells them."""

    critical = "critical"
    failure = "failure"
    validation = "validation"
    info = "info"
    success = "success"


def register(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="The block's name.")] = DEFAULT_BLOCK_NAME,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a block of that name that differs.")
    ] = False,
) -> int:
    """Save DISCORD_WEBHOOK_URL as the DiscordAlerts block flows send alerts through.

    Registers the kit's block type with the Prefect API (PREFECT_API_URL, or the local
    ephemeral API), then saves the block. Running it again changes nothing.
    """

    def run() -> int:
        from ff_prefect_kit._errors import ConfigError
        from ff_prefect_kit._settings import KitSettings
        from ff_prefect_kit.alerts import DiscordAlerts, register_blocks
        from ff_prefect_kit.alerts._sinks import _load_block

        if not name.strip() or name != name.strip():
            raise ConfigError(f"block name {name!r} is empty or padded: pass --name my-alerts")
        url = KitSettings().require("discord_webhook_url")
        where = reachable_api()
        register_blocks()
        try:
            existing = _load_block(name)
        except ConfigError:
            existing = None
        out = console()
        if isinstance(existing, DiscordAlerts):
            if existing.webhook_url.get_secret_value() == url.get_secret_value():
                out.print(f"✔ Block {name!r} already holds DISCORD_WEBHOOK_URL ({where}).")
                return 0
            if not overwrite:
                raise ConfigError(
                    f"a block named {name!r} holds another webhook: pass --overwrite to "
                    "replace it, or --name to save a second block"
                )
        elif existing is not None and not overwrite:
            raise ConfigError(
                f"a {type(existing).__name__} block is named {name!r}: pass --overwrite "
                "to replace it, or --name to save the kit's block under another name"
            )
        username = KitSettings().alert_username
        DiscordAlerts(webhook_url=url, username=username).save(name, overwrite=True)
        out.print(f"✔ Saved DiscordAlerts block {name!r} ({where}).")
        out.print(f"  Flows send through it with monitored_flow(alerts={name!r}).")
        return 0

    return run_command(ctx, run)


def alert_test(
    ctx: typer.Context,
    severity: Annotated[
        SeverityChoice, typer.Option(help="The severity, which sets the emoji.")
    ] = SeverityChoice.info,
    block: Annotated[
        str | None,
        typer.Option(help="Send through this saved block instead of DISCORD_WEBHOOK_URL."),
    ] = None,
    message: Annotated[
        str | None,
        typer.Option(
            help="The alert's text. Default: that alerts reach the channel, or, with no "
            "webhook, that they are printed.",
            show_default=False,
        ),
    ] = None,
) -> int:
    """Send one test alert through the configured target; exit 1 if Discord did not confirm it.

    The target is --block, else DISCORD_WEBHOOK_URL. With neither, the alert is
    printed, as flows print theirs.
    """

    def run() -> int:
        from ff_prefect_kit.alerts import Alert, DiscordClient, LogSink, Severity
        from ff_prefect_kit.alerts._payload import build_payload
        from ff_prefect_kit.alerts._sinks import resolve_sink

        if block is not None:
            reachable_api()
            _check_block_can_exist(block)
        sink = resolve_sink(block)
        text = message
        if text is None:
            text = _NO_WEBHOOK if isinstance(sink, LogSink) else _REACHED
        alert = Alert(
            severity=Severity(severity.value),
            title=text.partition("\n")[0],
            description=text.partition("\n")[2].strip(),
            fields=(("Host", socket.gethostname()), ("Sent by", "ff-prefect-kit alert test")),
        )
        out = console()
        if isinstance(sink, DiscordClient):
            payload = build_payload(
                alert.redacted(), username=sink.username, avatar_url=sink.avatar_url
            )
            if not sink.deliver(payload):
                out.print("✘ Discord did not confirm the test alert: see the error above.")
                return 1
            out.print(f"✔ Discord confirmed the test alert ({sink.redacted_url}).")
            return 0
        if isinstance(sink, LogSink):
            out.print("No webhook is configured: the alert went to the console, not to Discord.")
            out.print(alert.redacted().as_text(), markup=False)
            out.print("Set DISCORD_WEBHOOK_URL in .env (or pass --block) to send it to Discord.")
            return 0
        sink.send(alert)
        out.print(f"✔ Handed the test alert to {sink!r}.")
        return 0

    return run_command(ctx, run)


def _check_block_can_exist(name: str) -> None:
    """Refuse, without starting Prefect's local API, a block it cannot hold.

    With no `PREFECT_API_URL` a block lives in the local ephemeral API's database in the
    Prefect home. Where that file does not exist, no block was ever saved, and loading
    one would start the API only to create the database.

    Raises:
        ConfigError: No `PREFECT_API_URL`, and no local database yet.
    """
    import shlex

    from ff_prefect_kit._errors import ConfigError
    from ff_prefect_kit.cli._api import prefect_value
    from ff_prefect_kit.testing._database import database_path

    if prefect_value("PREFECT_API_URL"):
        return
    database = database_path()
    if database is None or database.exists():
        return
    raise ConfigError(
        f"no notification block named {name!r}: PREFECT_API_URL is not set, and Prefect's "
        f"local database ({database}) does not exist yet, so no block was saved there; "
        f"save it with `ff-prefect-kit blocks register --name {shlex.quote(name)}`, or point "
        "PREFECT_API_URL at the server that holds it"
    )
