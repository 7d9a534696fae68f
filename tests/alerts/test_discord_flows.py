"""Discord alerts from real monitored flows, against a fake webhook (respx)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.logging.handlers import APILogHandler
from tests.conftest import FakeTime

from ff_prefect_kit import Severity, analytics_task, monitored_flow
from ff_prefect_kit.alerts import AlertThrottle, DiscordClient
from ff_prefect_kit.testing import DiscordWebhookMock, mock_discord_webhook

pytestmark = pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")


def _client(discord: DiscordWebhookMock, time: FakeTime, **options: Any) -> DiscordClient:
    return DiscordClient(discord.webhook_url, sleep=time.sleep, clock=time.clock, **options)


def test_rate_limited_twice_then_delivered_once() -> None:
    """429, 429, then 204: one message in the channel, after the delays Discord asked for."""
    time = FakeTime()
    limited: list[Any] = [
        DiscordWebhookMock.rate_limited(1.5),
        DiscordWebhookMock.rate_limited(2, header_only=True),
        204,
    ]
    with mock_discord_webhook(responses=limited) as discord:

        @monitored_flow(alerts=_client(discord, time))
        def nightly() -> None:
            raise ValueError("bad input file")

        assert nightly(return_state=True).is_failed()
    assert [r.status for r in discord.requests] == [429, 429, 204]
    assert len(discord.messages) == 1
    assert time.sleeps == [1.5, 2.0]


def test_unknown_webhook_is_tried_once_and_the_flow_stays_failed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """404 Unknown Webhook: one attempt, ERROR logged, the run Failed (not Crashed)."""
    with mock_discord_webhook(responses=[DiscordWebhookMock.unknown_webhook()]) as discord:

        @monitored_flow
        def nightly() -> None:
            raise ValueError("bad input file")

        with caplog.at_level(logging.ERROR, logger="ff_prefect_kit"):
            state = nightly(return_state=True)
    assert state.is_failed()
    assert not state.is_crashed()
    assert len(discord.requests) == 1
    assert "HTTP 404 Unknown Webhook (code 10015)" in caplog.text


@pytest.mark.parametrize(
    "answer", [500, httpx.ConnectTimeout], ids=["500-forever", "connect-timeout"]
)
def test_broken_webhook_gets_bounded_attempts_in_bounded_time(
    answer: object, caplog: pytest.LogCaptureFixture
) -> None:
    """A webhook that always fails is tried max_attempts times within the deadline, logged."""
    time = FakeTime()
    with mock_discord_webhook(responses=[answer] * 20) as discord:  # type: ignore[list-item]

        @monitored_flow(alerts=_client(discord, time, max_attempts=4, deadline=30.0))
        def nightly() -> None:
            raise ValueError("bad input file")

        with caplog.at_level(logging.ERROR, logger="ff_prefect_kit"):
            assert nightly(return_state=True).is_failed()
    assert len(discord.requests) == 4
    assert discord.messages == []
    assert time.now <= 30.0
    assert "Discord alert not delivered" in caplog.text


def test_huge_mention_laden_error_sends_one_safe_message() -> None:
    """A 20 KB error with @everyone: one message, within every limit, mentions off."""
    with mock_discord_webhook() as discord:

        @monitored_flow
        def nightly() -> None:
            raise ValueError("@everyone " + "x" * 20_000)

        nightly(return_state=True)
    [message] = discord.messages
    assert message.payload["allowed_mentions"] == {"parse": []}
    assert discord.problems() == []
    assert "@everyone" in message.fields["Error"]


def test_failed_task_gives_one_critical_message_naming_it() -> None:
    """A task failing after its retries: one 🚨 message naming the task, not two."""

    @analytics_task(retries=1)
    def load_mart() -> None:
        raise ConnectionError("warehouse down")

    with mock_discord_webhook() as discord:

        @monitored_flow
        def nightly() -> None:
            load_mart()

        nightly(return_state=True)
    [message] = discord.messages
    assert message.severity is Severity.CRITICAL
    assert message.content == "🚨 nightly failed"
    assert message.fields["Failed task"].startswith("load_mart")


def test_token_appears_in_no_log_record_or_run_log(caplog: pytest.LogCaptureFixture) -> None:
    """With httpx INFO logging on and a failed delivery, no record nor run log has the token."""
    with mock_discord_webhook(responses=[DiscordWebhookMock.unknown_webhook()]) as discord:

        @monitored_flow
        def nightly() -> None:
            raise ValueError("bad input file")

        with caplog.at_level(logging.DEBUG):
            state = nightly(return_state=True)
    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        run_logs = client.read_logs(
            log_filter=LogFilter(
                flow_run_id=LogFilterFlowRunId(any_=[state.state_details.flow_run_id])
            )
        )
    texts = [r.getMessage() for r in caplog.records] + [str(r.exc_info) for r in caplog.records]
    texts += [log.message for log in run_logs]
    assert any("/webhooks/" in t for t in texts)  # the webhook was logged, redacted
    assert [t for t in texts if discord.token in t] == []
    assert discord.token not in discord.requests[0].text


def test_a_flow_that_keeps_failing_alerts_once_per_window() -> None:
    """Three failures in the window give one message; the next one counts the other two."""
    now = [datetime(2026, 9, 14, 12, 0, tzinfo=UTC)]
    throttle = AlertThrottle(timedelta(minutes=10), clock=lambda: now[0])
    with mock_discord_webhook() as discord:

        @monitored_flow(alert_window=throttle)
        def nightly() -> None:
            raise ValueError("still broken")

        for _ in range(3):
            nightly(return_state=True)
            now[0] += timedelta(minutes=1)
        assert len(discord.messages) == 1
        now[0] += timedelta(minutes=10)
        nightly(return_state=True)
    assert len(discord.messages) == 2
    assert discord.messages[1].fields["Also failed"].startswith("and 2 more failures since")


def test_alert_window_none_sends_every_failure() -> None:
    """alert_window=None turns throttling off."""
    with mock_discord_webhook() as discord:

        @monitored_flow(alert_window=None)
        def nightly() -> None:
            raise ValueError("still broken")

        nightly(return_state=True)
        nightly(return_state=True)
    assert len(discord.messages) == 2


@monitored_flow(name="fails-in-every-test")
def _fails_in_every_test() -> None:
    raise ValueError("boom")


def test_each_webhook_mock_starts_with_quiet_alert_windows() -> None:
    """A module-level flow's alert is not held back by an earlier test's alert."""
    for _ in range(2):
        with mock_discord_webhook() as webhook:
            _fails_in_every_test(return_state=True)
        assert len(webhook.messages) == 1
