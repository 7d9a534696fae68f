"""No known secret reaches an alert, the console fallback or a kit log line."""

from __future__ import annotations

import logging
from urllib.parse import quote, quote_plus

import pytest

from ff_prefect_kit import monitored_flow
from ff_prefect_kit._logging import kit_logger
from ff_prefect_kit.alerts import LogSink
from ff_prefect_kit.testing import DiscordWebhookMock, mock_discord_webhook

API_KEY = "pnu_canaryApiKey0123456789abcdefghij"
AUTH_STRING = "admin:canary-auth-string-0123"

pytestmark = pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")


def _forms(discord: DiscordWebhookMock) -> dict[str, str]:
    return {
        "the webhook URL": discord.webhook_url,
        "its bare token": discord.token,
        "the URL-encoded URL": quote(discord.webhook_url, safe=""),
        "the form-encoded URL": quote_plus(discord.webhook_url),
        "the Prefect API key": API_KEY,
        "a self-hosted server's credential": AUTH_STRING,
    }


@pytest.mark.parametrize(
    "form",
    [
        "the webhook URL",
        "its bare token",
        "the URL-encoded URL",
        "the form-encoded URL",
        "the Prefect API key",
        "a self-hosted server's credential",
    ],
)
def test_a_secret_in_an_exception_never_reaches_discord(
    form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error message holding a secret, in any form, is redacted from every alert field."""
    monkeypatch.setenv("PREFECT_API_KEY", API_KEY)
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", AUTH_STRING)
    with mock_discord_webhook() as discord:
        secret = _forms(discord)[form]

        @monitored_flow(name="leaks-a-secret")
        def leaks() -> None:
            raise RuntimeError(f"could not post to {secret} today")

        assert leaks(return_state=True).is_failed()
    [message] = discord.messages
    assert "<redacted> today" in message.text
    for value in _forms(discord).values():
        assert value not in message.text


def test_the_console_fallback_shows_no_secret(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With no webhook, the alert written to the log has the API key hidden."""
    monkeypatch.setenv("PREFECT_API_KEY", API_KEY)

    @monitored_flow(name="leaks-to-the-log", alerts=LogSink())
    def leaks() -> None:
        raise RuntimeError(f"key was {API_KEY}")

    with caplog.at_level(logging.INFO):
        assert leaks(return_state=True).is_failed()
    assert "key was <redacted>" in caplog.text
    assert API_KEY not in caplog.text


def test_a_kit_log_line_shows_no_secret(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A value logged by the kit that holds a known secret is redacted."""
    monkeypatch.setenv("PREFECT_API_KEY", API_KEY)
    with caplog.at_level(logging.INFO, logger="ff_prefect_kit"):
        kit_logger.info("Wrote %s rows to %s", 3, f"/data/{API_KEY}/x.parquet")
    assert "/data/<redacted>/x.parquet" in caplog.text
    assert API_KEY not in caplog.text
