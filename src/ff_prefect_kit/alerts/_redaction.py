"""Webhook URLs and their tokens: recognised, checked, and hidden wherever text goes out."""

from __future__ import annotations

import logging
import re

from pydantic import SecretStr

from ff_prefect_kit import _config
from ff_prefect_kit._errors import ConfigError
from ff_prefect_kit._secrets import WEBHOOK_URL_PATTERN, redact

__all__ = [
    "WEBHOOK_URL_PATTERN",
    "install_redaction",
    "redact",
    "validate_webhook_url",
]

_WEBHOOK_URL = re.compile(rf"^{WEBHOOK_URL_PATTERN}/?$")


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


class _RedactTokens(logging.Filter):
    """Rewrite a record whose message holds a webhook URL or a known secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        hidden = redact(message)
        if hidden != message:
            record.msg = hidden
            record.args = None
        return True


def install_redaction(*names: str) -> None:
    """Hide webhook tokens in the records of httpx's loggers (idempotent).

    httpx logs every request's URL at INFO on the `httpx` logger; the URL of a
    webhook holds its secret token.
    """
    with _config.state.lock:
        for name in names or ("httpx", "httpcore"):
            logger = logging.getLogger(name)
            if not any(isinstance(f, _RedactTokens) for f in logger.filters):
                logger.addFilter(_RedactTokens())
