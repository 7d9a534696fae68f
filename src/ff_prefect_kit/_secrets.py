"""The secrets the kit knows of, and hiding them in any text that leaves the process.

Known secrets: the Discord webhook URL (`DISCORD_WEBHOOK_URL`, and its bare token), the
Prefect API key (`PREFECT_API_KEY`, or Prefect's setting), a self-hosted server's
credential (`PREFECT_API_AUTH_STRING`), and every secret setting of
`KitSettings` (from the environment or `.env`), each also in its URL-encoded forms.
Any webhook token in a Discord webhook URL is hidden as well, known or not.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from ff_prefect_kit._config import state

__all__ = ["REDACTED", "WEBHOOK_URL_PATTERN", "known_secrets", "redact"]

REDACTED = "<redacted>"

_TOKEN_CHARS = r"[A-Za-z0-9_\-]"
WEBHOOK_URL_PATTERN = (
    r"https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com"
    rf"/api(?:/v\d+)?/webhooks/\d{{5,25}}/{_TOKEN_CHARS}{{1,200}}"
)
"""A Discord webhook URL (without a query): `https://discord.com/api/webhooks/<id>/<token>`."""

# A webhook's token wherever it stands, in a full URL or a bare path.
_TOKEN = re.compile(rf"(/webhooks/\d+/)({_TOKEN_CHARS}+)")
_VARIABLES = ("DISCORD_WEBHOOK_URL", "PREFECT_API_KEY", "PREFECT_API_AUTH_STRING")
# Shorter values are not hidden: replacing every "abc" in a message would garble it.
_SHORTEST = 8


def _settings_file() -> Path:
    return Path(os.environ.get("FF_ENV_FILE") or ".env")


def _cache_key() -> tuple[Any, ...]:
    file = _settings_file()
    try:
        stamp: Any = file.stat().st_mtime_ns
    except OSError:
        stamp = None
    prefect = sys.modules.get("prefect.settings")
    api_key = None
    if prefect is not None:
        try:
            value = prefect.PREFECT_API_KEY.value()
            api_key = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        except Exception:  # a broken Prefect setting is not ours to report here
            api_key = None
    return (*(os.environ.get(name) for name in _VARIABLES), str(file), stamp, api_key)


def _forms(secret: str) -> set[str]:
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    if match := _TOKEN.search(secret):
        token = match.group(2)
        forms |= {token, quote(token, safe="")}
    return {form for form in forms if len(form) >= _SHORTEST}


def _settings_secrets() -> list[str]:
    from pydantic import SecretStr

    from ff_prefect_kit._settings import KitSettings

    try:
        settings = KitSettings()
    except Exception:  # malformed settings: the environment's raw values still count
        return []
    return [
        value.get_secret_value()
        for name in type(settings).model_fields
        if isinstance(value := getattr(settings, name), SecretStr)
    ]


def known_secrets() -> tuple[str, ...]:
    """Every known secret, in every form it may appear in, longest first."""
    key = _cache_key()
    with state.lock:
        if state.secrets_key == key:
            return state.secrets
    raw = [value for value in key[: len(_VARIABLES)] if value]
    if key[-1]:
        raw.append(key[-1])
    raw += _settings_secrets()
    forms = set().union(*(_forms(secret.strip()) for secret in raw)) if raw else set()
    secrets = tuple(sorted(forms, key=len, reverse=True))
    with state.lock:
        state.secrets_key, state.secrets = key, secrets
    return secrets


def redact(text: str) -> str:
    """`text` with every webhook token and every known secret replaced by `<redacted>`."""
    text = _TOKEN.sub(rf"\g<1>{REDACTED}", text)
    for secret in known_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text
