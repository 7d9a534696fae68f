"""Checks of Discord: `DISCORD_WEBHOOK_URL` is a webhook URL, and (`--send-test`) takes an alert."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ff_prefect_kit.cli._doctor._result import CheckResult, describe, fail, ok, skip, warn

if TYPE_CHECKING:
    from ff_prefect_kit._settings import KitSettings

__all__ = ["check_webhook"]


def check_webhook(settings: KitSettings | None, send_test: bool) -> list[CheckResult]:
    from ff_prefect_kit._errors import ConfigError
    from ff_prefect_kit._secrets import redact
    from ff_prefect_kit.alerts import validate_webhook_url

    name, sent = "Discord webhook", "Discord test alert"
    if settings is None:
        results = [skip(name, "the settings could not be read")]
        return [*results, skip(sent, "the settings could not be read")] if send_test else results
    if settings.discord_webhook_url is None:
        warning = warn(
            name,
            "DISCORD_WEBHOOK_URL is not set: alerts are written to the run logs and the console",
            "set DISCORD_WEBHOOK_URL in .env to get alerts in Discord",
        )
        if not send_test:
            return [warning]
        return [
            warning,
            fail(
                sent,
                "not sent: DISCORD_WEBHOOK_URL is not set",
                "set DISCORD_WEBHOOK_URL in the environment or .env, then run again",
            ),
        ]
    try:
        url = validate_webhook_url(settings.discord_webhook_url)
    except ConfigError as exc:
        failure = fail(
            name,
            describe(exc).removeprefix("ConfigError: ").partition(". ")[0],
            "copy the webhook's URL from the Discord channel's Integrations > Webhooks "
            "settings into DISCORD_WEBHOOK_URL (in the environment or .env)",
        )
        return [failure, skip(sent, "the webhook URL is malformed")] if send_test else [failure]
    results = [ok(name, f"configured ({redact(url.get_secret_value())})")]
    if send_test:
        results.append(_send_test(url.get_secret_value(), settings.alert_username))
    return results


class _Collect(logging.Handler):
    """Keep the messages the Discord client logs, to name the failure in the report."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _send_test(url: str, username: str) -> CheckResult:
    import socket

    from ff_prefect_kit._secrets import redact
    from ff_prefect_kit.alerts import Alert, DiscordClient, Severity, build_payload

    name = "Discord test alert"
    # A logger of the check's own: not registered with logging, so nothing is printed
    # twice and nothing else sees the client's messages.
    logger = logging.Logger("ff_prefect_kit.doctor")
    collected = _Collect()
    logger.addHandler(collected)
    client = DiscordClient(url, username=username, logger=logger)
    alert = Alert(
        severity=Severity.INFO,
        title="Test alert from ff-prefect-kit doctor",
        description="Alerts from this machine reach this channel.",
        fields=(("Host", socket.gethostname()), ("Sent by", "ff-prefect-kit doctor --send-test")),
    )
    payload = build_payload(alert.redacted(), username=client.username)
    if client.deliver(payload):
        return ok(name, f"Discord confirmed the test alert ({client.redacted_url})")
    reason = redact(collected.messages[-1]) if collected.messages else "no answer"
    return fail(
        name,
        f"Discord did not confirm the test alert: {reason}",
        "a 401 or 404 means the webhook was deleted or its URL mistyped: create a new one "
        "in the channel's Integrations > Webhooks and put its URL in DISCORD_WEBHOOK_URL",
    )
