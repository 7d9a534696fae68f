"""The Prefect API a command talks to, and a quick check that it answers.

Every request here has one total deadline, from connecting to the last byte of the body:
an API that sends its headers and then trickles its body cannot hold a command up
(`fetch`). A URL is only ever printed through `shown_url`, which drops its whole userinfo.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any

from ff_prefect_kit._errors import ConfigError

__all__ = [
    "Answer",
    "api_client",
    "check_prefect_api",
    "fetch",
    "prefect_value",
    "reachable_api",
    "shown_url",
    "url_problem",
]

_USERINFO = re.compile(r"(^|//)[^/@\s]*@")
# Characters that end a URL's authority: in a password they must be percent-encoded.
_AUTHORITY_END = re.compile(r"[/?#]")


def prefect_value(variable: str) -> str | None:
    """A Prefect setting as a fresh Prefect process would see it.

    Prefect reads its environment variables once, when it is imported; an explicit
    environment variable wins over everything else Prefect reads, so it is taken first,
    then what the current settings hold (a profile, `.env`, or a test harness's API).
    """
    import prefect.settings

    if value := os.environ.get(variable, "").strip():
        return value
    found: Any = getattr(prefect.settings, variable).value()
    if found is None:
        return None
    if hasattr(found, "get_secret_value"):
        found = found.get_secret_value()
    return str(found).strip() or None


def _userinfo(url: str) -> tuple[str, str, str] | None:
    """`url` split as (`scheme://`, userinfo, the rest), or `None` when it has no userinfo.

    The userinfo runs to the URL's last `@`, wherever it stands: a password holding an
    unencoded `/`, `?`, `#` or `@` is still taken whole. (A URL whose path or query holds
    an `@` is shown shorter than it is: never a password in full.)
    """
    scheme, slashes, rest = url.partition("//")
    if not slashes:
        scheme, rest = "", url
    else:
        scheme += slashes
    info, at, host = rest.rpartition("@")
    return (scheme, info, host) if at else None


def shown_url(url: str) -> str:
    """`url` as it may be printed: no userinfo at all, no query string, no known secret."""
    from ff_prefect_kit._secrets import redact

    parts = _userinfo(url)
    if parts is not None:
        url = parts[0] + parts[2]
    return redact(re.split(r"[?#]", url, maxsplit=1)[0])


def url_problem(url: str) -> str | None:
    """Why Prefect's client cannot use `url` as an API URL, or `None`; never shows a secret."""
    from urllib.parse import urlsplit

    parts = _userinfo(url)
    if parts is not None and _AUTHORITY_END.search(parts[1]):
        return (
            "its password (or user name) holds a '/', '?' or '#', which ends the host part: "
            "percent-encode them (%2F, %3F, %23; '@' is %40)"
        )
    try:
        split = urlsplit(url)
        split.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "its port is not a number"
    if split.scheme not in ("http", "https"):
        return "it does not start with http:// or https://"
    if not split.hostname:
        return "it names no host"
    return None


def _scrubbed(text: str, url: str) -> str:
    """`text` (an error naming `url`) without `url`'s userinfo in any form, redacted."""
    from ff_prefect_kit._secrets import redact

    parts = _userinfo(url)
    if parts is not None:
        text = text.replace(url, shown_url(url))
        if parts[1]:
            text = text.replace(parts[1], "")
    return _USERINFO.sub(r"\1", redact(text))


def api_client(url: str, timeout: float) -> Any:
    """An `httpx.Client` for the API at `url` that trusts what Prefect's client trusts."""
    import ssl

    import httpx

    verify: bool | ssl.SSLContext = True
    if url.startswith("https:"):
        # The same trust as Prefect's own client: its CA file, or no check when asked.
        insecure = prefect_value("PREFECT_API_TLS_INSECURE_SKIP_VERIFY")
        cert_file = prefect_value("PREFECT_API_SSL_CERT_FILE")
        if insecure and insecure.lower() in ("1", "true", "yes", "on"):
            verify = False
        elif cert_file:
            verify = ssl.create_default_context(cafile=cert_file)
    return httpx.Client(timeout=timeout, verify=verify)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read in full: its status and its body."""

    status_code: int
    body: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


def fetch(client: Any, method: str, url: str, *, timeout: float, **kwargs: Any) -> Answer:
    """Send one request and read its whole answer within about `timeout` seconds in all.

    Each wait (connect, each read) is bounded by what is left of `timeout`, and the body
    is read chunk by chunk against the same monotonic deadline, so a server trickling
    its body is cut off. Slow as it may be, it ends within twice `timeout` at worst.

    Raises:
        httpx.TimeoutException: The deadline passed before the whole answer arrived.
        httpx.HTTPError: The request failed.
    """
    import httpx

    deadline = time.monotonic() + timeout
    with client.stream(method, url, timeout=timeout, **kwargs) as response:
        body = bytearray()
        for chunk in response.iter_raw():
            body += chunk
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout(
                    f"the answer was not complete within {timeout:g} s", request=response.request
                )
        return Answer(response.status_code, bytes(body))


def check_prefect_api(url: str | None, timeout: float = 5.0) -> None:
    """Fail fast, in one line, when `PREFECT_API_URL` names an API that does not answer.

    Raises:
        ConfigError: The URL is unusable, or the API is unreachable or unhealthy (its
            whole answer not in within about `timeout` seconds); names the URL (without
            its userinfo) and the fix.
    """
    if not url:
        return
    import httpx

    if problem := url_problem(url):
        raise ConfigError(
            f"PREFECT_API_URL={shown_url(url)} is not a URL the client can use: {problem}"
        )
    try:
        with api_client(url, timeout) as client:
            answer = fetch(client, "GET", f"{url.rstrip('/')}/health", timeout=timeout)
    except httpx.HTTPError as exc:
        why = _scrubbed(f"{type(exc).__name__}: {exc}", url)
        raise ConfigError(
            f"PREFECT_API_URL={shown_url(url)} is not reachable ({why}); start "
            "that server, or unset PREFECT_API_URL to use Prefect's local ephemeral API"
        ) from None
    if not answer.is_success:
        raise ConfigError(
            f"PREFECT_API_URL={shown_url(url)} is not reachable (its /health answered HTTP "
            f"{answer.status_code}); check that it is the API's URL, ending in /api, or "
            "unset PREFECT_API_URL to use Prefect's local ephemeral API"
        )


def reachable_api() -> str:
    """The API a command talks to, for its output, once a configured one has answered.

    Raises:
        ConfigError: `PREFECT_API_URL` is set and does not answer.
    """
    url = prefect_value("PREFECT_API_URL")
    check_prefect_api(url)
    return shown_url(url) if url else "the local ephemeral API (PREFECT_API_URL is not set)"
