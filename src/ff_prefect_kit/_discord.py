"""A Discord webhook client on httpx: payloads within Discord's limits, bounded delivery.

The client is an `AlertSink`: `send(alert)` renders the alert as one message with one
embed, cut to fit every documented limit, mentions suppressed, and posts it with
`?wait=true`. Rate limits (429) are honoured, 5xx and timeouts retried with backoff,
a deleted webhook (404, 401) is never retried, and the whole delivery is bounded in
time. A failed delivery is logged at ERROR with the token redacted; nothing raises.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from ff_prefect_kit._alerts import Alert, Severity
from ff_prefect_kit._errors import ConfigError
from ff_prefect_kit._logging import kit_logger

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DiscordClient",
    "build_payload",
    "payload_problems",
    "redact",
    "validate_webhook_url",
]

# Discord's documented limits for a webhook message and its embeds.
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
EMBEDS_TOTAL_LIMIT = 6000
EMBED_COUNT_LIMIT = 10
USERNAME_LIMIT = 80

TRUNCATION_MARKER = "… [truncated]"

_WEBHOOK_URL = re.compile(
    r"^https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com"
    r"/api(?:/v\d+)?/webhooks/(?P<id>\d{5,25})/(?P<token>[A-Za-z0-9_\-]{1,200})/?$"
)
_TOKEN_IN_TEXT = re.compile(r"(/webhooks/\d+/)[A-Za-z0-9_\-]+")
_REDACTED = "<redacted>"


def redact(text: str) -> str:
    """Replace every webhook token in `text` by a placeholder."""
    return _TOKEN_IN_TEXT.sub(rf"\g<1>{_REDACTED}", text)


def validate_webhook_url(url: str | SecretStr, *, name: str = "DISCORD_WEBHOOK_URL") -> SecretStr:
    """Check that `url` is a Discord webhook URL.

    Args:
        url: The URL, plain or secret.
        name: What set it, for the error message.

    Returns:
        The URL as a `SecretStr`.

    Raises:
        ConfigError: It is not `https://discord.com/api/webhooks/<id>/<token>` (or the
            discordapp.com, ptb. or canary. forms). The token is never echoed.
    """
    raw = url.get_secret_value() if isinstance(url, SecretStr) else str(url)
    if not _WEBHOOK_URL.match(raw.strip()):
        raise ConfigError(
            f"{name} is not a Discord webhook URL (value hidden): expected "
            "https://discord.com/api/webhooks/<id>/<token>. Copy it from the channel's "
            "Integrations > Webhooks settings into the environment or .env."
        )
    return SecretStr(raw.strip())


# --- payload ---------------------------------------------------------------------------


def _length(text: str) -> int:
    # Discord counts UTF-16 code units (it is JavaScript); never fewer than code points.
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int) -> str:
    """Cut `text` to `limit` Discord characters, ending with a visible marker."""
    if _length(text) <= limit:
        return text
    room = max(limit - _length(TRUNCATION_MARKER), 0)
    cut = text[:room]
    while (over := _length(cut) - room) > 0:
        # A code point is one or two units: dropping half the excess never cuts too much.
        cut = cut[: len(cut) - (over + 1) // 2]
    return (cut + TRUNCATION_MARKER) if limit >= _length(TRUNCATION_MARKER) else cut


def _embed_size(embed: Mapping[str, Any]) -> int:
    size = _length(embed.get("title", "")) + _length(embed.get("description", ""))
    for item in embed.get("fields", []):
        size += _length(item["name"]) + _length(item["value"])
    size += _length(embed.get("footer", {}).get("text", ""))
    size += _length(embed.get("author", {}).get("name", ""))
    return size


def _shrink_to_total(embed: dict[str, Any]) -> None:
    """Cut the longest texts of an embed until it fits the 6000-character total."""
    floor = _length(TRUNCATION_MARKER) + 1
    while (excess := _embed_size(embed) - EMBEDS_TOTAL_LIMIT) > 0:
        slots: list[tuple[int, int, str]] = []
        if embed.get("description"):
            slots.append((_length(embed["description"]), -1, "description"))
        for i, item in enumerate(embed["fields"]):
            slots.extend([(_length(item["value"]), i, "value"), (_length(item["name"]), i, "name")])
        size, index, key = max(slots, default=(0, -1, ""))
        if size <= floor:
            if not embed["fields"]:
                return
            embed["fields"].pop()  # nothing left to cut: drop the last fact
            continue
        target = max(size - excess, floor)
        if index < 0:
            embed["description"] = fit(embed["description"], target)
        else:
            embed["fields"][index][key] = fit(embed["fields"][index][key], target)


def build_payload(
    alert: Alert, *, username: str | None = None, avatar_url: str | None = None
) -> dict[str, Any]:
    """Render an alert as a Discord webhook message within every Discord limit.

    Args:
        alert: The alert.
        username: The name the message is posted under.
        avatar_url: The avatar the message is posted with.

    Returns:
        The JSON body: content `<emoji> <title>`, one embed, no mentions allowed.
    """
    embed: dict[str, Any] = {
        "title": fit(alert.title or alert.severity.value, TITLE_LIMIT),
        "color": alert.severity.colour,
        "timestamp": alert.timestamp.isoformat(),
    }
    if alert.description:
        embed["description"] = fit(alert.description, DESCRIPTION_LIMIT)
    if alert.url and alert.url.startswith(("https://", "http://")):
        embed["url"] = alert.url
    fields = list(alert.fields)
    if len(fields) > FIELD_COUNT_LIMIT:
        hidden = len(fields) - (FIELD_COUNT_LIMIT - 1)
        fields = [*fields[: FIELD_COUNT_LIMIT - 1], ("More", f"{hidden} more fields not shown")]
    embed["fields"] = [
        {
            "name": fit(name or "-", FIELD_NAME_LIMIT),
            # Discord rejects an empty field value.
            "value": fit(value or "-", FIELD_VALUE_LIMIT),
            "inline": False,
        }
        for name, value in fields
    ]
    _shrink_to_total(embed)
    payload: dict[str, Any] = {
        "content": fit(alert.headline, CONTENT_LIMIT),
        "embeds": [embed],
        # An exception text that says @everyone or <@&role> must ping nobody.
        "allowed_mentions": {"parse": []},
    }
    if username:
        payload["username"] = fit(username, USERNAME_LIMIT)
    if avatar_url:
        payload["avatar_url"] = avatar_url
    return payload


def payload_problems(payload: Mapping[str, Any]) -> list[str]:
    """Every way `payload` breaks Discord's limits or lets a mention through.

    Args:
        payload: A webhook message body.

    Returns:
        One sentence per problem; empty when the payload is fine.
    """
    problems = []

    def check(what: str, text: str, limit: int) -> None:
        if _length(text) > limit:
            problems.append(f"{what} is {_length(text)} characters (limit {limit})")

    check("content", payload.get("content") or "", CONTENT_LIMIT)
    embeds = payload.get("embeds") or []
    if len(embeds) > EMBED_COUNT_LIMIT:
        problems.append(f"{len(embeds)} embeds (limit {EMBED_COUNT_LIMIT})")
    for n, embed in enumerate(embeds, 1):
        check(f"embed {n} title", embed.get("title", ""), TITLE_LIMIT)
        check(f"embed {n} description", embed.get("description", ""), DESCRIPTION_LIMIT)
        fields = embed.get("fields", [])
        if len(fields) > FIELD_COUNT_LIMIT:
            problems.append(f"embed {n} has {len(fields)} fields (limit {FIELD_COUNT_LIMIT})")
        for m, item in enumerate(fields, 1):
            check(f"embed {n} field {m} name", item.get("name", ""), FIELD_NAME_LIMIT)
            check(f"embed {n} field {m} value", item.get("value", ""), FIELD_VALUE_LIMIT)
            if not item.get("value"):
                problems.append(f"embed {n} field {m} has an empty value")
    total = sum(_embed_size(e) for e in embeds)
    if total > EMBEDS_TOTAL_LIMIT:
        problems.append(f"embeds total {total} characters (limit {EMBEDS_TOTAL_LIMIT})")
    if payload.get("allowed_mentions") != {"parse": []}:
        problems.append('allowed_mentions is not {"parse": []}: mentions would ping')
    return problems


# --- token redaction in other libraries' logs -------------------------------------------


class _RedactTokens(logging.Filter):
    """Rewrite a record whose message holds a webhook URL so the token is hidden."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        if "/webhooks/" in message:
            record.msg = redact(message)
            record.args = None
        return True


_redaction_lock = threading.Lock()


def install_redaction(*names: str) -> None:
    """Hide webhook tokens in the records of httpx's loggers (idempotent).

    httpx logs every request's URL at INFO on the `httpx` logger; the URL of a
    webhook holds its secret token.
    """
    with _redaction_lock:
        for name in names or ("httpx", "httpcore"):
            logger = logging.getLogger(name)
            if not any(isinstance(f, _RedactTokens) for f in logger.filters):
                logger.addFilter(_RedactTokens())


# --- delivery ---------------------------------------------------------------------------


def _retry_after(response: httpx.Response) -> float | None:
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


def _discord_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except Exception:
        return redact(response.text[:200])
    if isinstance(body, dict) and "message" in body:
        code = f" (code {body['code']})" if "code" in body else ""
        return redact(f"{body['message']}{code}")
    return redact(str(body)[:200])


class DiscordClient:
    """Send alerts to one Discord webhook; an `AlertSink` that never raises.

    Args:
        webhook_url: `https://discord.com/api/webhooks/<id>/<token>`.
        username: The name messages are posted under.
        avatar_url: The avatar messages are posted with.
        client: The `httpx.Client` to post with (the test seam); one is made if not given.
        transport: A transport for the client that is made, e.g. `httpx.MockTransport`.
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
        client: httpx.Client | None = None,
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
        self._client = client
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

    def send(self, alert: Alert) -> None:
        """Deliver one alert; a failure is logged, never raised."""
        try:
            payload = build_payload(alert, username=self.username, avatar_url=self.avatar_url)
        except Exception:
            self._logger.exception("Could not render the Discord alert %r", alert.title)
            return
        self.deliver(payload)

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
            build_payload(alert, username=self.username, avatar_url=self.avatar_url)
        )

    def deliver(self, payload: Mapping[str, Any]) -> bool:
        """Post a payload with bounded retries; log, never raise, on failure.

        Returns:
            Whether Discord confirmed the message.
        """
        try:
            return self._deliver(payload)
        except Exception as exc:  # the alert path must never break a flow
            self._logger.error(
                "Discord alert not delivered to %s: %s", self.redacted_url, redact(repr(exc))
            )
            return False

    def _deliver(self, payload: Mapping[str, Any]) -> bool:
        import httpx

        started = self._clock()
        owned = self._client is None
        client = self._client or httpx.Client(transport=self._transport)
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
                    response = client.post(
                        self._url.get_secret_value(),
                        params={"wait": "true"},
                        json=payload,
                        timeout=min(self.request_timeout, left),
                    )
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
            if owned:
                client.close()
        self._logger.error(
            "Discord alert not delivered to %s after %d attempt(s): %s",
            self.redacted_url,
            attempt,
            last,
        )
        return False
