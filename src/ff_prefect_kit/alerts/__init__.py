"""Alerts people trust: the alert model, severities, throttle, Discord payload and client, sinks.

Monitored flows send their alerts through here; `send_alert` sends your own. The
`DiscordAlerts` block holds a webhook in the Prefect API; with no webhook configured
alerts go to the run's logs and the console (`LogSink`).
"""

from ff_prefect_kit._exports import publish as _publish
from ff_prefect_kit.alerts._block import DEFAULT_BLOCK_NAME, DiscordAlerts, register_blocks
from ff_prefect_kit.alerts._client import DiscordClient
from ff_prefect_kit.alerts._model import Alert, AlertSink, Severity
from ff_prefect_kit.alerts._payload import build_payload, payload_problems
from ff_prefect_kit.alerts._redaction import redact, validate_webhook_url
from ff_prefect_kit.alerts._sinks import LogSink, NotifierSink, send_alert
from ff_prefect_kit.alerts._throttle import AlertThrottle, reset_throttles

__all__ = [
    "DEFAULT_BLOCK_NAME",
    "Alert",
    "AlertSink",
    "AlertThrottle",
    "DiscordAlerts",
    "DiscordClient",
    "LogSink",
    "NotifierSink",
    "Severity",
    "build_payload",
    "payload_problems",
    "redact",
    "register_blocks",
    "reset_throttles",
    "send_alert",
    "validate_webhook_url",
]

_publish(globals(), __all__)
