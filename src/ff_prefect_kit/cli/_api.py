"""The Prefect API a command talks to, and a quick check that it answers."""

from __future__ import annotations

import os
import re
from typing import Any

from ff_prefect_kit._errors import ConfigError

__all__ = ["api_client", "check_prefect_api", "prefect_value", "reachable_api", "shown_url"]

_USERINFO = re.compile(r"(^|//)[^/@\s]*@")


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


def shown_url(url: str) -> str:
    """`url` as it may be printed: no user:password, no query string, no known secret."""
    from ff_prefect_kit._secrets import redact

    return redact(_USERINFO.sub(r"\1", url.split("?", 1)[0]))


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


def check_prefect_api(url: str | None, timeout: float = 5.0) -> None:
    """Fail fast, in one line, when `PREFECT_API_URL` names an API that does not answer.

    Raises:
        ConfigError: The API is unreachable or unhealthy; names the URL (without its
            credentials) and the fix.
    """
    if not url:
        return
    import httpx

    from ff_prefect_kit._secrets import redact

    try:
        with api_client(url, timeout) as client:
            client.get(f"{url.rstrip('/')}/health").raise_for_status()
    except httpx.HTTPError as exc:
        problem = _USERINFO.sub(r"\1", redact(f"{type(exc).__name__}: {exc}"))
        raise ConfigError(
            f"PREFECT_API_URL={shown_url(url)} is not reachable ({problem}); start "
            "that server, or unset PREFECT_API_URL to use Prefect's local ephemeral API"
        ) from None


def reachable_api() -> str:
    """The API a command talks to, for its output, once a configured one has answered.

    Raises:
        ConfigError: `PREFECT_API_URL` is set and does not answer.
    """
    url = prefect_value("PREFECT_API_URL")
    check_prefect_api(url)
    return shown_url(url) if url else "the local ephemeral API (PREFECT_API_URL is not set)"
