"""Alerts seen locally: with FF_ALERT_ALLOW_LOOPBACK=1, a receiver on this machine gets them."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from tests.alerts._servers import Receiver

from ff_prefect_kit import ConfigError, Severity, monitored_flow, send_alert
from ff_prefect_kit.alerts import validate_webhook_url


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A real loopback webhook, named by DISCORD_WEBHOOK_URL, loopback allowed."""
    server = Receiver()
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    monkeypatch.setenv("FF_ALERT_ALLOW_LOOPBACK", "1")
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", f"http://127.0.0.1:{server.port}/alerts")
    yield server
    server.close()


def test_send_alert_posts_to_a_loopback_receiver(receiver: Receiver) -> None:
    """`send_alert` reaches the receiver on this machine, as Discord would get it."""
    send_alert("Weekly marts rebuilt\n12 marts in 3.1 s")
    [(path, body)] = receiver.posts
    assert path == "/alerts?wait=true"
    assert body["content"] == f"{Severity.INFO.emoji} Weekly marts rebuilt"
    assert body["embeds"][0]["description"] == "12 marts in 3.1 s"


@pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")
def test_a_failing_flow_alerts_a_loopback_receiver(receiver: Receiver) -> None:
    """A monitored flow defined with the loopback webhook set sends its alert there."""

    @monitored_flow(name="seen-locally")
    def nightly() -> None:
        raise ValueError("bad input file")

    assert nightly(return_state=True).is_failed()
    [(_, body)] = receiver.posts
    assert body["content"] == "⚠️ seen-locally failed"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765/alerts",
        "http://localhost:8765/",
        "http://[::1]:8765/hook",
        "http://127.0.0.1:8765",
    ],
)
def test_loopback_urls_are_accepted_when_allowed(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each form of a loopback receiver's URL is a webhook URL with the setting on."""
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    monkeypatch.setenv("FF_ALERT_ALLOW_LOOPBACK", "1")
    assert validate_webhook_url(url).get_secret_value() == url


def test_a_loopback_url_without_the_setting_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without FF_ALERT_ALLOW_LOOPBACK, a loopback URL is refused, saying how to allow it."""
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    monkeypatch.delenv("FF_ALERT_ALLOW_LOOPBACK", raising=False)
    with pytest.raises(ConfigError, match="FF_ALERT_ALLOW_LOOPBACK=1"):
        validate_webhook_url("http://127.0.0.1:8765/alerts")


@pytest.mark.parametrize(
    "url",
    [
        "http://192.168.1.20:8765/alerts",
        "http://localhost.example.com:8765/alerts",
        "http://localhost:8765@example.com/alerts",
        "http://127.0.0.2:8765/alerts",
        "https://example.com/alerts",
        "http://127.0.0.1/alerts",
        "ftp://127.0.0.1:8765/alerts",
    ],
)
def test_no_other_host_is_accepted_with_the_setting_on(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The setting opens the loopback address only: every other host is still refused."""
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    monkeypatch.setenv("FF_ALERT_ALLOW_LOOPBACK", "1")
    with pytest.raises(ConfigError, match="not a Discord webhook URL"):
        validate_webhook_url(url)
