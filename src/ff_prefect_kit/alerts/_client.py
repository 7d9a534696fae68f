"""A Discord webhook client on httpx: payloads within Discord's limits, bounded delivery.

The client is an `AlertSink`: `send(alert)` renders the alert as one message with one
embed, cut to fit every documented limit, mentions suppressed, and posts it with
`?wait=true`. Rate limits (429) are honoured, 5xx and timeouts retried with backoff,
a deleted webhook (404, 401) is never retried, and the whole delivery is bounded in
time. A failed delivery is logged at ERROR with the token redacted; nothing raises.

httpx's timeouts bound each read, not a request: a server that trickles its answer a
byte at a time, or a name lookup that hangs, would hold a request for ever. So the
answer is read in chunks against the delivery's deadline, and the delivery runs in a
thread of its own that the caller stops waiting for once the deadline (and a moment's
grace) has passed: the caller never waits longer, whatever the network does.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from ff_prefect_kit._logging import kit_logger
from ff_prefect_kit.alerts._model import Alert, Severity
from ff_prefect_kit.alerts._payload import build_payload
from ff_prefect_kit.alerts._redaction import install_redaction, redact, validate_webhook_url

if TYPE_CHECKING:
    import httpx

__all__ = ["DiscordClient"]

# How long the caller waits past the deadline for the delivery thread to report.
_GRACE = 1.0
# The most of an answer that is read: Discord's are a few hundred bytes.
_MOST_READ = 64 * 1024


class _DeadlinePassed(Exception):
    """The answer was still arriving when the delivery's deadline passed."""


class _Answer:
    """What the webhook answered: the status, the headers, and the start of the body."""

    def __init__(self, status_code: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.body = body

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8", "replace"))

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def _retry_after(response: _Answer) -> float | None:
    with contextlib.suppress(Exception):  # not JSON: fall back to the header
        body = response.json()
        value = body.get("retry_after") if isinstance(body, dict) else None
        if value is not None:
            return max(float(value), 0.0)
    header = response.headers.get("Retry-After")
    try:
        return max(float(header), 0.0) if header is not None else None
    except ValueError:
        return None


def _discord_message(response: _Answer) -> str:
    try:
        body = response.json()
    except Exception:
        return redact(response.text)[:200]
    if isinstance(body, dict) and "message" in body:
        code = f" (code {body['code']})" if "code" in body else ""
        return redact(f"{body['message']}{code}")
    return redact(str(body))[:200]


class DiscordClient:
    """Send alerts to one Discord webhook; an `AlertSink` that never raises.

    Args:
        webhook_url: `https://discord.com/api/webhooks/<id>/<token>`.
        username: The name messages are posted under.
        avatar_url: The avatar messages are posted with.
        transport: The transport to post through (the test seam), e.g.
            `httpx.MockTransport`; httpx's default when not given.
        max_attempts: Attempts per message, the first included.
        deadline: Seconds the whole delivery may take, waits included.
        request_timeout: Seconds one request may take (cut to what the deadline leaves).
        backoff: First wait after a 5xx or a timeout; doubles each time.
        sleep: How to wait (injectable, so tests never sleep).
        clock: A monotonic clock in seconds (injectable).
        logger: Where failed deliveries are logged.

    Raises:
        ConfigError: `webhook_url` is not a Discord webhook URL.
    """

    def __init__(
        self,
        webhook_url: str | SecretStr,
        *,
        username: str | None = None,
        avatar_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        max_attempts: int = 5,
        deadline: float = 30.0,
        request_timeout: float = 10.0,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
    ) -> None:
        self._url = validate_webhook_url(webhook_url)
        self.username = username
        self.avatar_url = avatar_url
        self._transport = transport
        self.max_attempts = max(int(max_attempts), 1)
        self.deadline = float(deadline)
        self.request_timeout = float(request_timeout)
        self.backoff = float(backoff)
        self._sleep = sleep
        self._clock = clock
        self._logger = logger or kit_logger
        install_redaction()

    def __repr__(self) -> str:
        return f"DiscordClient(webhook_url={self.redacted_url!r}, username={self.username!r})"

    @property
    def redacted_url(self) -> str:
        """The webhook URL with its token hidden, for logs."""
        return redact(self._url.get_secret_value())

    def send(self, alert: Alert) -> bool:
        """Deliver one alert; a failure is logged, never raised. Whether Discord confirmed it."""
        try:
            payload = build_payload(
                alert.redacted(), username=self.username, avatar_url=self.avatar_url
            )
        except Exception:
            self._logger.exception("Could not render the Discord alert %r", alert.title)
            return False
        return self.deliver(payload)

    def send_text(self, body: str, subject: str | None = None) -> bool:
        """Deliver a plain message: `subject` as the title, `body` as the text.

        Returns:
            Whether Discord confirmed the message.
        """
        title, _, rest = body.partition("\n")
        alert = (
            Alert(Severity.INFO, subject, body)
            if subject
            else Alert(Severity.INFO, title, rest.strip())
        )
        return self.deliver(
            build_payload(alert.redacted(), username=self.username, avatar_url=self.avatar_url)
        )

    def deliver(self, payload: Mapping[str, Any]) -> bool:
        """Post a payload with bounded retries; log, never raise, on failure.

        The whole delivery (connecting, sending, reading the answer, every retry and
        wait) ends by the deadline: past it (and a second's grace) the caller stops
        waiting for the delivery's thread, logs the alert as not delivered and goes on.

        Returns:
            Whether Discord confirmed the message.
        """
        outcome: list[bool] = []
        finished = threading.Event()

        def run() -> None:
            try:
                outcome.append(self._deliver_logged(payload))
            finally:
                finished.set()

        # A copy of the caller's context: the run's log bridge still sees the run.
        context = contextvars.copy_context()
        worker = threading.Thread(
            target=context.run, args=(run,), name="ff-prefect-kit-alert", daemon=True
        )
        try:
            worker.start()
        except RuntimeError:  # no thread to be had (interpreter shutting down)
            return self._deliver_logged(payload)
        if finished.wait(max(self.deadline, 0.0) + _GRACE):
            return bool(outcome and outcome[0])
        self._logger.error(
            "Discord alert not delivered to %s: no answer within the %g s deadline; "
            "the delivery was abandoned",
            self.redacted_url,
            self.deadline,
        )
        return False

    def _deliver_logged(self, payload: Mapping[str, Any]) -> bool:
        try:
            return self._deliver(payload)
        except Exception as exc:  # the alert path must never break a flow
            self._logger.error(
                "Discord alert not delivered to %s: %s", self.redacted_url, redact(repr(exc))
            )
            return False

    def _post(
        self, client: httpx.Client, payload: Mapping[str, Any], started: float, timeout: float
    ) -> _Answer:
        """One request; its answer read in chunks, each checked against the deadline."""
        with client.stream(
            "POST",
            self._url.get_secret_value(),
            params={"wait": "true"},
            json=payload,
            timeout=timeout,
        ) as response:
            if response.is_success:  # stored: what the body says changes nothing
                return _Answer(response.status_code, response.headers, b"")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= _MOST_READ:
                    break
                if self._clock() - started >= self.deadline:
                    raise _DeadlinePassed(
                        f"HTTP {response.status_code}, its body still arriving after "
                        f"{self.deadline:g} s"
                    )
            return _Answer(response.status_code, response.headers, bytes(body[:_MOST_READ]))

    def _deliver(self, payload: Mapping[str, Any]) -> bool:
        import httpx

        started = self._clock()
        client = httpx.Client(transport=self._transport)
        last = "no attempt made"
        attempt = 0
        try:
            while attempt < self.max_attempts:
                attempt += 1
                left = self.deadline - (self._clock() - started)
                if left <= 0:
                    last = f"{last}; gave up after {self.deadline:g} s"
                    break
                wait: float | None
                try:
                    response = self._post(
                        client, payload, started, timeout=min(self.request_timeout, left)
                    )
                except _DeadlinePassed as exc:
                    last = f"{exc}; gave up after {self.deadline:g} s"
                    break
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {redact(str(exc)) or 'no detail'}"
                    wait = self.backoff * 2 ** (attempt - 1)
                else:
                    if response.is_success:
                        return True
                    status = response.status_code
                    last = f"HTTP {status} {_discord_message(response)}"
                    if status == 429:
                        asked = _retry_after(response)
                        wait = self.backoff if asked is None else asked
                    elif status >= 500:
                        wait = self.backoff * 2 ** (attempt - 1)
                    else:
                        # 404 (code 10015, Unknown Webhook) or 401: the webhook is gone
                        # and Discord asks clients not to use it again. 400: retrying
                        # the same body cannot help.
                        break
                if attempt >= self.max_attempts:
                    break
                left = self.deadline - (self._clock() - started)
                if not math.isfinite(wait) or wait >= left:
                    last = f"{last}; the next try (in {wait:g} s) would pass the deadline"
                    break
                self._sleep(wait)
        finally:
            client.close()
        self._logger.error(
            "Discord alert not delivered to %s after %d attempt(s): %s",
            self.redacted_url,
            attempt,
            last,
        )
        return False
