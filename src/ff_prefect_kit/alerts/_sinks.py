"""Where alerts go: a block name, a block, a sink, or the configured default."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from ff_prefect_kit._errors import ConfigError, InvalidOptionError, describe
from ff_prefect_kit._internals import load_block
from ff_prefect_kit._logging import kit_logger
from ff_prefect_kit._settings import KitSettings
from ff_prefect_kit.alerts._block import DiscordAlerts
from ff_prefect_kit.alerts._client import DiscordClient
from ff_prefect_kit.alerts._model import Alert, AlertSink, Severity
from ff_prefect_kit.alerts._payload import CONTENT_LIMIT, fit
from ff_prefect_kit.alerts._redaction import redact

if TYPE_CHECKING:
    from prefect.blocks.abstract import NotificationBlock

__all__ = [
    "AlertTarget",
    "LogSink",
    "NotifierSink",
    "check_alerts_option",
    "resolve_sink",
    "send_alert",
]

AlertTarget: TypeAlias = "AlertSink | NotificationBlock | str | None"

# Prefect's own Discord block type, looked up after the kit's for a bare block name.
_PREFECT_DISCORD_SLUG = "discord-webhook"


class LogSink:
    """Write each alert's text to the kit's logger: the run's logs and the console."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or kit_logger

    def __repr__(self) -> str:
        return "LogSink()"

    def send(self, alert: Alert) -> bool:
        """Log the alert at the level its severity asks for.

        Returns:
            `False`: the alert is in the logs, not delivered to anyone.
        """
        try:
            self._logger.log(
                alert.severity.log_level,
                # The text is the message itself: its lines are the alert's own (values
                # spanning lines come indented), not values for the one-line filter.
                "Alert (no webhook configured):\n" + alert.redacted().as_text(),
            )
        except Exception:  # pragma: no cover - logging itself failed; nothing left to tell
            return False
        return False


class NotifierSink:
    """Send alerts through any Prefect `NotificationBlock` as plain text; never raise.

    For Prefect's own `DiscordWebhook` (apprise) and the like. Delivery failures,
    which such blocks swallow by default, are logged at ERROR.
    """

    def __init__(self, block: NotificationBlock) -> None:
        self.block = block

    def __repr__(self) -> str:
        return f"NotifierSink({type(self.block).__name__})"

    def send(self, alert: Alert) -> bool:
        """Post the alert's text through the block's `notify`; whether it was delivered."""
        try:
            with self.block.raise_on_failure():
                shown = alert.redacted()
                body = fit(shown.as_text(), CONTENT_LIMIT - 200)
                result: Any = self.block.notify(body, shown.headline)
                if inspect.iscoroutine(result):
                    from prefect.utilities.asyncutils import run_coro_as_sync

                    run_coro_as_sync(result)
        except Exception as exc:
            kit_logger.error(
                "Alert not delivered through %s: %s",
                type(self.block).__name__,
                redact(describe(exc)),
            )
            return False
        return True


def _load_block(name: str) -> NotificationBlock:
    from prefect.blocks.abstract import NotificationBlock

    # A bare name is looked up as the kit's block type, then as Prefect's Discord block.
    slugs = (DiscordAlerts.get_block_type_slug(), _PREFECT_DISCORD_SLUG)
    candidates: Sequence[str] = (name,) if "/" in name else [f"{s}/{name}" for s in slugs]
    for candidate in candidates:
        try:
            block: Any = load_block(candidate)
        except ValueError:  # no such block document
            continue
        if not isinstance(block, NotificationBlock):
            raise InvalidOptionError(
                f"block {candidate!r} is a {type(block).__name__}, not a notification block"
            )
        return block
    raise ConfigError(
        f"no notification block named {name!r} (looked for {', '.join(candidates)}): "
        "save one with DiscordAlerts(webhook_url=...).save(name), or register the kit's "
        "block type with `prefect block register -m ff_prefect_kit.alerts` and create one."
    )


def check_alerts_option(alerts: object) -> None:
    """Reject an unusable `alerts` option where it is given, without network access.

    A block name is only loaded when an alert is due (the API may not be up yet);
    `None` is checked by resolving the default now, so a malformed
    `DISCORD_WEBHOOK_URL` fails where the flow is defined.

    Raises:
        InvalidOptionError: `alerts` is of a kind that cannot carry alerts.
        ConfigError: `alerts` is None and `DISCORD_WEBHOOK_URL` is malformed.
    """
    if alerts is None:
        resolve_sink(None)
        return
    if isinstance(alerts, str):
        if not alerts.strip():
            raise InvalidOptionError("alerts must name a block, got an empty string")
        return
    if isinstance(alerts, AlertSink) or _is_notification_block(alerts):
        return
    raise InvalidOptionError(
        "alerts must be a block name, a Prefect NotificationBlock, an AlertSink or None, "
        f"got {alerts!r}"
    )


def _is_notification_block(value: object) -> bool:
    from prefect.blocks.abstract import NotificationBlock

    return isinstance(value, NotificationBlock)


Fallback: TypeAlias = Literal["raise", "log", "default"]


def resolve_sink(
    alerts: AlertTarget, *, fallback: Fallback = "raise", settings: KitSettings | None = None
) -> AlertSink:
    """The sink that `alerts` names: the one place an alert's destination is chosen.

    Args:
        alerts: A block name (loaded now), a `DiscordAlerts` or other Prefect
            `NotificationBlock`, an `AlertSink`, or `None` for the default:
            `DISCORD_WEBHOOK_URL` if set, else the logs.
        fallback: When `alerts` cannot be used: `"raise"` the error; `"log"` write
            alerts to the log, after logging why (an alert is never lost to a
            setting changed after the flow was defined); `"default"` try the default
            destination, then the log (when the API that stores blocks is gone).
        settings: The settings the default is read from; by default the environment
            and `.env`.

    Returns:
        A sink whose `send` never raises.

    Raises:
        ConfigError: The webhook URL is malformed, or no block has that name (only
            with `fallback="raise"`).
        InvalidOptionError: `alerts` cannot carry alerts (only with `fallback="raise"`).
    """
    if fallback == "raise":
        return _chosen(alerts, settings)
    candidates: list[AlertTarget] = [alerts]
    if fallback == "default" and alerts is not None:
        candidates.append(None)
    for position, candidate in enumerate(candidates, start=1):
        try:
            return _chosen(candidate, settings)
        except Exception as exc:
            instead = "the log" if position == len(candidates) else "the default destination"
            kit_logger.error(
                "Alert destination unusable, writing the alert to %s: %s", instead, exc
            )
    return LogSink()


def _chosen(alerts: AlertTarget, settings: KitSettings | None) -> AlertSink:
    if alerts is None:
        settings = settings or KitSettings()
        if settings.discord_webhook_url is None:
            return LogSink()
        return DiscordClient(settings.discord_webhook_url, username=settings.alert_username)
    check_alerts_option(alerts)
    block = _load_block(alerts) if isinstance(alerts, str) else alerts
    if isinstance(block, DiscordAlerts):
        return block.client()
    if (client := _prefect_discord_client(block)) is not None:
        return client
    if _is_notification_block(block):
        return NotifierSink(block)  # type: ignore[arg-type]
    assert isinstance(block, AlertSink)
    return block


def _prefect_discord_client(block: object) -> DiscordClient | None:
    """The kit's client for a Prefect `DiscordWebhook` block's webhook, else `None`.

    Prefect's block posts through apprise, as plain text, with no rate-limit handling;
    the same webhook through the kit's client gets the kit's message (embed, limits,
    mentions off, bounded retries) and goes where `mock_discord_webhook()` sees it.
    """
    from prefect.blocks.notifications import DiscordWebhook

    if not isinstance(block, DiscordWebhook):
        return None
    webhook_id = block.webhook_id.get_secret_value()
    token = block.webhook_token.get_secret_value()
    return DiscordClient(
        f"https://discord.com/api/webhooks/{webhook_id}/{token}",
        username=block.botname or KitSettings().alert_username,
        avatar_url=block.avatar_url,
    )


def send_alert(
    message: str,
    severity: Severity = Severity.INFO,
    *,
    title: str | None = None,
    fields: Sequence[tuple[str, str]] = (),
    url: str | None = None,
    alerts: AlertTarget = None,
) -> None:
    """Send an alert from your own code, e.g. `send_alert("Weekly marts rebuilt")`.

    Delivery never raises: a failure is logged at ERROR.

    Args:
        message: The text; its first line is the title unless `title` is given.
        severity: How bad it is; sets the emoji and colour.
        title: A title, when `message` should all go in the body.
        fields: Named facts shown in order.
        url: A link to show.
        alerts: Where to send it; by default where monitored flows send theirs.

    Raises:
        ConfigError: The webhook URL is malformed, or no block has that name.
        InvalidOptionError: `alerts` cannot carry alerts.
    """
    if title is None:
        title, _, message = message.partition("\n")
    sink = resolve_sink(alerts)
    sink.send(
        Alert(
            severity=severity,
            title=title,
            description=message.strip(),
            fields=tuple((str(k), str(v)) for k, v in fields),
            url=url,
        )
    )
