"""DiscordClient delivery: retries, give-ups, bounds, and a token that never leaks."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest
from tests.conftest import FakeTime

from ff_prefect_kit import ConfigError, Severity
from ff_prefect_kit.alerts import Alert, DiscordClient, redact, validate_webhook_url
from ff_prefect_kit.alerts._redaction import install_redaction

TOKEN = "s3cr3t-T0ken_value"
URL = f"https://discord.com/api/webhooks/123456789012345678/{TOKEN}"
ALERT = Alert(Severity.FAILURE, "nightly failed", "boom")


Answer = Callable[[httpx.Request], httpx.Response]


def _client(
    answers: list[Answer | httpx.Response], time: FakeTime, **options: object
) -> tuple[DiscordClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0) if answers else httpx.Response(200, json={"id": "1"})
        return answer(request) if callable(answer) else answer

    client = DiscordClient(
        URL,
        transport=httpx.MockTransport(handler),
        sleep=time.sleep,
        clock=time.clock,
        **options,  # type: ignore[arg-type]
    )
    return client, seen


def test_posts_with_wait_true() -> None:
    """The message is posted to the webhook with `?wait=true`."""
    client, seen = _client([], FakeTime())
    assert client.deliver({"content": "hi"}) is True
    assert seen[0].method == "POST"
    assert seen[0].url.params["wait"] == "true"


def test_429_twice_then_204_is_delivered_once_after_the_asked_delays() -> None:
    """Two 429s (JSON `retry_after`, then the header only) are waited out, then it lands."""
    time = FakeTime()
    answers: list[Answer | httpx.Response] = [
        httpx.Response(429, json={"message": "rate limited", "retry_after": 1.5}),
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(204),
    ]
    client, seen = _client(answers, time)
    assert client.deliver({"content": "hi"}) is True
    assert len(seen) == 3
    assert time.sleeps == [1.5, 2.0]


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(404, json={"message": "Unknown Webhook", "code": 10015}),
        httpx.Response(401, json={"message": "Invalid Webhook Token", "code": 50027}),
    ],
)
def test_deleted_webhook_is_tried_once(
    response: httpx.Response, caplog: pytest.LogCaptureFixture
) -> None:
    """404 (10015) or 401 stops at once, logging status and Discord's message at ERROR."""
    time = FakeTime()
    client, seen = _client([response], time)
    with caplog.at_level(logging.ERROR, logger="ff_prefect_kit"):
        assert client.deliver({"content": "hi"}) is False
    assert len(seen) == 1
    assert time.sleeps == []
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert f"HTTP {response.status_code}" in record.getMessage()
    assert response.json()["message"] in record.getMessage()


def test_500_forever_gives_up_after_bounded_attempts(caplog: pytest.LogCaptureFixture) -> None:
    """A webhook that always answers 500 is tried `max_attempts` times with backoff."""
    time = FakeTime()
    client, seen = _client([httpx.Response(500)] * 50, time, max_attempts=4, backoff=0.5)
    with caplog.at_level(logging.ERROR, logger="ff_prefect_kit"):
        assert client.deliver({"content": "hi"}) is False
    assert len(seen) == 4
    assert time.sleeps == [0.5, 1.0, 2.0]
    assert "after 4 attempt(s): HTTP 500" in caplog.text


def test_connect_timeouts_are_bounded_by_the_deadline(caplog: pytest.LogCaptureFixture) -> None:
    """Requests that hang until their timeout stop within the 30 s deadline, logged."""
    time = FakeTime()

    def hang(request: httpx.Request) -> httpx.Response:
        time.now += request.extensions["timeout"]["connect"]  # as a real timeout would
        raise httpx.ConnectTimeout("timed out", request=request)

    client, seen = _client([hang] * 50, time, max_attempts=50)
    with caplog.at_level(logging.ERROR, logger="ff_prefect_kit"):
        assert client.deliver({"content": "hi"}) is False
    assert time.now <= 30.0
    assert 1 < len(seen) < 50
    assert "ConnectTimeout" in caplog.text


def test_retry_after_past_the_deadline_is_not_waited() -> None:
    """A 429 asking for longer than the deadline leaves gives up instead of waiting."""
    time = FakeTime()
    client, seen = _client([httpx.Response(429, json={"retry_after": 3600})], time)
    assert client.deliver({"content": "hi"}) is False
    assert (len(seen), time.sleeps) == (1, [])


def test_send_never_raises_even_when_the_transport_explodes() -> None:
    """An unexpected error in delivery is logged, not raised."""

    def explode(request: httpx.Request) -> httpx.Response:
        raise RuntimeError(f"broken while posting to {request.url}")

    client, _ = _client([explode], FakeTime())
    client.send(ALERT)


def test_send_posts_the_rendered_alert() -> None:
    """`send` posts content, one embed, no mentions, and the username."""
    client, seen = _client([], FakeTime(), username="FF Analytics Bot")
    client.send(ALERT)
    body = json.loads(seen[0].content)
    assert body["content"] == "⚠️ nightly failed"
    assert body["username"] == "FF Analytics Bot"
    assert body["allowed_mentions"] == {"parse": []}
    assert len(body["embeds"]) == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://discord.com/api/webhooks/123456789012345678/abc_DEF-123",
        "https://discordapp.com/api/webhooks/123456789012345678/abc",
        "https://ptb.discord.com/api/webhooks/123456789012345678/abc",
        "https://canary.discord.com/api/v10/webhooks/123456789012345678/abc",
    ],
)
def test_discord_webhook_urls_are_accepted(url: str) -> None:
    """Every form of a Discord webhook URL is valid."""
    assert validate_webhook_url(url).get_secret_value() == url


@pytest.mark.parametrize(
    "url",
    [
        f"http://discord.com/api/webhooks/123456789012345678/{TOKEN}",
        f"https://discord.com.evil.example/api/webhooks/123456789012345678/{TOKEN}",
        f"https://hooks.slack.com/services/{TOKEN}",
        f"https://discord.com/api/webhooks/not-an-id/{TOKEN}",
        TOKEN,
    ],
)
def test_malformed_url_is_a_config_error_without_the_token(url: str) -> None:
    """A URL that is not a Discord webhook raises ConfigError naming the variable, not the token."""
    with pytest.raises(ConfigError, match="DISCORD_WEBHOOK_URL") as caught:
        DiscordClient(url)
    assert TOKEN not in str(caught.value)


def test_repr_hides_the_token() -> None:
    """The client's repr shows the webhook with its token redacted."""
    assert TOKEN not in repr(DiscordClient(URL))
    assert "123456789012345678" in repr(DiscordClient(URL))


def test_redact_hides_every_token_in_text() -> None:
    """`redact` replaces the token of each webhook URL in a text."""
    text = f"POST {URL}?wait=true then {URL}"
    assert TOKEN not in redact(text)


def test_httpx_request_log_never_shows_the_token(caplog: pytest.LogCaptureFixture) -> None:
    """With httpx INFO logging on, the request line it logs has the token redacted."""
    client, _ = _client([httpx.Response(204)], FakeTime())
    with caplog.at_level(logging.INFO, logger="httpx"):
        client.send(ALERT)
    assert any("/webhooks/123456789012345678/" in r.getMessage() for r in caplog.records)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_redaction_filter_is_installed_once() -> None:
    """Installing the filter again does not stack filters on httpx's logger."""
    install_redaction()
    install_redaction()
    assert len(logging.getLogger("httpx").filters) == 1
