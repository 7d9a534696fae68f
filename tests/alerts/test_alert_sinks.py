"""Where alerts go: resolve_sink's choices, send_alert, and any NotificationBlock."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from prefect.blocks.abstract import NotificationBlock
from pydantic import PrivateAttr
from tests.conftest import RecordingSink

from ff_prefect_kit import (
    ConfigError,
    DiscordAlerts,
    InvalidOptionError,
    Severity,
    monitored_flow,
    send_alert,
)
from ff_prefect_kit.alerts import Alert, DiscordClient, LogSink, NotifierSink
from ff_prefect_kit.alerts._sinks import resolve_sink
from ff_prefect_kit.testing import mock_discord_webhook

TOKEN = "tok-for-sink-tests"
URL = f"https://discord.com/api/webhooks/123456789012345678/{TOKEN}"


class NoteBlock(NotificationBlock):
    """A notification block that keeps what it is asked to send."""

    _block_type_slug = "kit-test-note-block"
    fail: bool = False
    _sent: list[tuple[str | None, str]] = PrivateAttr(default_factory=list)

    def notify(self, body: str, subject: str | None = None) -> None:  # type: ignore[override]
        self._sent.append((subject, body))
        if self.fail:
            raise RuntimeError(f"could not reach {URL}")


def test_default_is_the_log_without_a_webhook(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With no DISCORD_WEBHOOK_URL, alerts go to the logs."""
    monkeypatch.delenv("DISCORD_WEBHOOK_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    assert isinstance(resolve_sink(None), LogSink)


def test_default_is_discord_when_the_webhook_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """With DISCORD_WEBHOOK_URL set, alerts go to that webhook as the settings' user."""
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", URL)
    monkeypatch.setenv("FF_ALERT_USERNAME", "Waiver Wire Bot")
    sink = resolve_sink(None)
    assert isinstance(sink, DiscordClient)
    assert sink.username == "Waiver Wire Bot"


def test_malformed_webhook_fails_where_the_flow_is_defined(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A malformed DISCORD_WEBHOOK_URL raises ConfigError at decoration, token not echoed."""
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", f"https://example.com/hooks/{TOKEN}")
    with pytest.raises(ConfigError, match="DISCORD_WEBHOOK_URL") as caught:

        @monitored_flow
        def nightly() -> None:
            return None

    assert TOKEN not in str(caught.value)


def test_a_sink_is_used_as_it_is(sink: RecordingSink) -> None:
    """An AlertSink is its own destination."""
    assert resolve_sink(sink) is sink


def test_discord_alerts_block_sends_through_the_kit_client() -> None:
    """A DiscordAlerts block resolves to a DiscordClient with its settings."""
    resolved = resolve_sink(DiscordAlerts(webhook_url=URL, username="Bot"))
    assert isinstance(resolved, DiscordClient)
    assert resolved.username == "Bot"


def test_any_notification_block_gets_the_alert_text() -> None:
    """A Prefect NotificationBlock is sent the alert's text, headline as subject."""
    block = NoteBlock()
    resolve_sink(block).send(Alert(Severity.FAILURE, "x failed"))
    [(subject, body)] = block._sent
    assert subject == "⚠️ x failed"
    assert body.startswith("⚠️ x failed")


def test_failing_notification_block_logs_without_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A block that raises is logged at ERROR with the webhook token redacted."""
    with caplog.at_level(logging.ERROR, logger="ff_prefect_kit"):
        NotifierSink(NoteBlock(fail=True)).send(Alert(Severity.FAILURE, "x failed"))
    assert "Alert not delivered through NoteBlock" in caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.parametrize("bad", [42, "", object()])
def test_unusable_alerts_option_is_rejected(bad: object) -> None:
    """monitored_flow rejects an `alerts` that names nothing usable."""
    with pytest.raises(InvalidOptionError):
        monitored_flow(alerts=bad)  # type: ignore[call-overload]


def test_send_alert_posts_to_the_default_webhook() -> None:
    """send_alert("...") posts an INFO message to DISCORD_WEBHOOK_URL; first line is the title."""
    with mock_discord_webhook() as discord:
        send_alert("Weekly marts rebuilt\n12 marts, 3.1 s")
    [message] = discord.messages
    assert message.severity is Severity.INFO
    assert message.content == f"{Severity.INFO.emoji} Weekly marts rebuilt"
    assert message.description == "12 marts, 3.1 s"


def test_send_alert_takes_severity_fields_and_a_sink(sink: RecordingSink) -> None:
    """send_alert honours severity, fields and an explicit destination."""
    send_alert("Schema drift", Severity.VALIDATION, fields=[("Mart", "mrt_x")], alerts=sink)
    [alert] = sink.alerts
    assert (alert.headline, alert.fields) == ("🔴 Schema drift", (("Mart", "mrt_x"),))


def test_send_alert_never_raises_on_delivery_failure() -> None:
    """A webhook answering 500 makes send_alert log, not raise."""
    client = DiscordClient(
        URL, transport=httpx.MockTransport(lambda r: httpx.Response(500)), sleep=lambda s: None
    )
    send_alert("hello", alerts=client)
