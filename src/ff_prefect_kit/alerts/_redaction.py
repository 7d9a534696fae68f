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
# A receiver on this machine: plain HTTP to the loopback address, a port, any path.
_LOOPBACK_URL = re.compile(r"^http://(?:127\.0\.0\.1|localhost|\[::1\]):\d{1,5}(?:/[^\s#]*)?$")


def _loopback_allowed() -> bool:
    from ff_prefect_kit._settings import KitSettings

    try:
        return KitSettings().alert_allow_loopback
    except ConfigError:  # settings that do not load allow nothing more
        return False


def validate_webhook_url(url: str | SecretStr, *, name: str = "DISCORD_WEBHOOK_URL") -> SecretStr:
    """Check that `url` is a Discord webhook URL.

    With `FF_ALERT_ALLOW_LOOPBACK=1`, a receiver on this machine is accepted too:
    `http://127.0.0.1:<port>/...`, `http://localhost:<port>/...` or `http://[::1]:<port>/...`,
    to see alerts locally (docs/alerting.md). No other host ever is.

    Args:
        url: The URL, plain or secret.
        name: What set it, for the error message.

    Returns:
        The URL as a `SecretStr`.

    Raises:
        ConfigError: It is not `https://discord.com/api/webhooks/<id>/<token>` (or the
            discordapp.com, ptb. or canary. forms), nor an allowed loopback receiver.
            The token is never echoed.
    """
    raw = (url.get_secret_value() if isinstance(url, SecretStr) else str(url)).strip()
    if _WEBHOOK_URL.match(raw):
        return SecretStr(raw)
    loopback = _LOOPBACK_URL.match(raw) is not None
    if loopback and _loopback_allowed():
        return SecretStr(raw)
    hint = (
        " A receiver on this machine is accepted with FF_ALERT_ALLOW_LOOPBACK=1."
        if loopback
        else ""
    )
    raise ConfigError(
        f"{name} is not a Discord webhook URL (value hidden): expected "
        "https://discord.com/api/webhooks/<id>/<token>. Copy it from the channel's "
        f"Integrations > Webhooks settings into the environment or .env.{hint}"
    )


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
