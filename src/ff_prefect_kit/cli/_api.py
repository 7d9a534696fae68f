"""The Prefect API a command talks to, and a quick check that it answers."""

from __future__ import annotations

import os
from typing import Any

from ff_prefect_kit._errors import ConfigError

__all__ = ["check_prefect_api", "prefect_value", "reachable_api"]


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


def check_prefect_api(url: str | None, timeout: float = 5.0) -> None:
    """Fail fast, in one line, when `PREFECT_API_URL` names an API that does not answer.

    Raises:
        ConfigError: The API is unreachable or unhealthy; names the URL and the fix.
    """
    if not url:
        return
    import httpx

    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise ConfigError(
            f"PREFECT_API_URL={url} is not reachable ({type(exc).__name__}: {exc}); start "
            "that server, or unset PREFECT_API_URL to use Prefect's local ephemeral API"
        ) from None


def reachable_api() -> str:
    """The API a command talks to, for its output, once a configured one has answered.

    Raises:
        ConfigError: `PREFECT_API_URL` is set and does not answer.
    """
    url = prefect_value("PREFECT_API_URL")
    check_prefect_api(url)
    return url or "the local ephemeral API (PREFECT_API_URL is not set)"
