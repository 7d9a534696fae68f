"""`mock_discord_webhook()`: a fake Discord webhook for tests, usable without pytest.

Inside the block `DISCORD_WEBHOOK_URL` points at a fake webhook that respx intercepts.
Every message posted to it is recorded and parsed; scripted answers (a 429, a 404,
a 500, a timeout) let a test exercise delivery. Loopback traffic passes through, so
a real Prefect test API keeps working. On leaving the block, a message that broke
Discord's limits or allowed a mention fails the test.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from ff_prefect_kit._context import environment
from ff_prefect_kit.alerts._model import Severity
from ff_prefect_kit.alerts._payload import payload_problems
from ff_prefect_kit.alerts._redaction import WEBHOOK_URL_PATTERN
from ff_prefect_kit.alerts._throttle import reset_throttles

if TYPE_CHECKING:
    import httpx

__all__ = ["CapturedMessage", "DiscordWebhookMock", "mock_discord_webhook"]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
FAKE_WEBHOOK_ID = "100000000000000001"
FAKE_WEBHOOK_TOKEN = "fake-token-for-tests-0123456789"
FAKE_WEBHOOK_URL = f"https://discord.com/api/webhooks/{FAKE_WEBHOOK_ID}/{FAKE_WEBHOOK_TOKEN}"
_DISCORD_WEBHOOKS = rf"^{WEBHOOK_URL_PATTERN}"

Scripted: TypeAlias = "int | httpx.Response | BaseException | type[BaseException]"


@dataclass(frozen=True)
class CapturedMessage:
    """One message posted to the fake webhook, and how it was answered.

    Attributes:
        payload: The JSON body as sent.
        status: The HTTP status answered, or `None` when a transport error was raised.
    """

    payload: dict[str, Any]
    status: int | None

    @property
    def delivered(self) -> bool:
        """Whether the webhook confirmed it (a 2xx answer)."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def content(self) -> str:
        """The message text above the embed, `<emoji> <title>`."""
        return str(self.payload.get("content") or "")

    @property
    def severity(self) -> Severity | None:
        """The severity its emoji stands for, if any."""
        for severity in Severity:
            if self.content.startswith(severity.emoji):
                return severity
        return None

    @property
    def emoji(self) -> str | None:
        """The emoji the message starts with, if it is a severity's."""
        return self.severity.emoji if self.severity else None

    @property
    def embed(self) -> dict[str, Any]:
        """The first embed, or an empty dict."""
        embeds = self.payload.get("embeds") or [{}]
        return dict(embeds[0])

    @property
    def title(self) -> str:
        """The embed's title."""
        return str(self.embed.get("title", ""))

    @property
    def description(self) -> str:
        """The embed's description."""
        return str(self.embed.get("description", ""))

    @property
    def fields(self) -> dict[str, str]:
        """The embed's fields, name to value."""
        return {f["name"]: f["value"] for f in self.embed.get("fields", [])}

    @property
    def text(self) -> str:
        """Everything a reader sees, in one string (for `in` checks)."""
        return json.dumps(self.payload, ensure_ascii=False)


@dataclass
class DiscordWebhookMock:
    """What `mock_discord_webhook()` yields: the fake webhook and what was posted to it.

    Attributes:
        webhook_url: The fake webhook's URL (also in `DISCORD_WEBHOOK_URL`).
        webhook_id: Its id (for a Prefect `DiscordWebhook` block).
        token: Its token, to check that it leaked nowhere.
        requests: Every post, in order, retries included.
    """

    webhook_url: str = FAKE_WEBHOOK_URL
    webhook_id: str = FAKE_WEBHOOK_ID
    token: str = FAKE_WEBHOOK_TOKEN
    requests: list[CapturedMessage] = field(default_factory=list)
    _script: list[Scripted] = field(default_factory=list, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def messages(self) -> list[CapturedMessage]:
        """The posts the webhook confirmed: what people in the channel saw."""
        return [r for r in self.requests if r.delivered]

    def respond(self, *responses: Scripted) -> None:
        """Script the answers to the next posts, after any already scripted."""
        with self._lock:
            self._script.extend(responses)

    @staticmethod
    def rate_limited(retry_after: float = 0.5, *, header_only: bool = False) -> httpx.Response:
        """A 429 as Discord sends it, asking to retry after `retry_after` seconds."""
        import httpx

        headers = {"Retry-After": f"{retry_after:g}"}
        if header_only:
            return httpx.Response(429, headers=headers, text="rate limited")
        body = {"message": "You are being rate limited.", "retry_after": retry_after}
        return httpx.Response(429, headers=headers, json={**body, "global": False})

    @staticmethod
    def unknown_webhook() -> httpx.Response:
        """A 404 for a deleted webhook (Discord's code 10015)."""
        import httpx

        return httpx.Response(404, json={"message": "Unknown Webhook", "code": 10015})

    def problems(self) -> list[str]:
        """Each way a posted message broke Discord's limits or allowed a mention."""
        found: list[str] = []
        for n, request in enumerate(self.requests, 1):
            found.extend(f"message {n}: {p}" for p in payload_problems(request.payload))
        return found

    def _answer(self, request: httpx.Request) -> httpx.Response:
        import httpx

        try:
            payload = json.loads(request.content or b"{}")
        except ValueError:
            payload = {"unparsable body": request.content.decode("utf-8", "replace")}
        with self._lock:
            scripted = self._script.pop(0) if self._script else 200
        if isinstance(scripted, type) and issubclass(scripted, BaseException):
            scripted = (
                scripted("scripted by mock_discord_webhook", request=request)
                if issubclass(scripted, httpx.RequestError)
                else scripted()
            )
        if isinstance(scripted, BaseException):
            self.requests.append(CapturedMessage(payload, None))
            raise scripted
        if isinstance(scripted, int):
            scripted = (
                httpx.Response(scripted, json={"id": "1", "content": payload.get("content")})
                if scripted < 300
                else httpx.Response(scripted, json={"message": f"scripted {scripted}"})
            )
        self.requests.append(CapturedMessage(payload, scripted.status_code))
        return scripted


@contextmanager
def mock_discord_webhook(
    *,
    responses: Sequence[Scripted] = (),
    passthrough: Sequence[str] = LOOPBACK_HOSTS,
    check_limits: bool = True,
) -> Iterator[DiscordWebhookMock]:
    """Point `DISCORD_WEBHOOK_URL` at a fake webhook and record what is posted.

    Inside the block, alert windows start quiet: `FF_ALERT_STATE_FILE` points at a new
    file (shared with the subprocesses the block starts), removed on exit.

    Args:
        responses: Scripted answers to the first posts, in order: a status code, an
            `httpx.Response`, or an exception (e.g. `httpx.ConnectTimeout`). Once
            they are used up the webhook answers 200.
        passthrough: Hosts whose traffic goes to the real network (loopback, where a
            test Prefect API listens). Any other unmatched request fails.
        check_limits: Fail on exit when a posted message broke Discord's limits or
            allowed mentions.

    Yields:
        The capture: `.messages`, `.requests`, `.respond(...)`, `.token`.

    Raises:
        AssertionError: On exit, a posted message broke Discord's limits or allowed
            mentions (only when the block itself raised nothing).
    """
    import respx

    capture = DiscordWebhookMock()
    capture.respond(*responses)
    router = respx.mock(assert_all_called=False, assert_all_mocked=True)
    # Each block starts and ends with quiet alert windows: one test's alert never
    # holds back another's. A shared throttle keeps them in the Prefect API (a test
    # server's), never in a state file that a developer's environment or .env may name.
    reset_throttles()
    try:
        with (
            environment({"DISCORD_WEBHOOK_URL": capture.webhook_url, "FF_ALERT_STATE_FILE": ""}),
            router,
        ):
            if passthrough:
                router.route(host__in=tuple(passthrough)).pass_through()
            router.post(url__regex=_DISCORD_WEBHOOKS).mock(side_effect=capture._answer)
            yield capture
    finally:
        reset_throttles()
    if check_limits and (problems := capture.problems()):
        raise AssertionError(
            "mock_discord_webhook: a message would be rejected by Discord or ping people:\n"
            + "\n".join(f"  {p}" for p in problems)
        )
