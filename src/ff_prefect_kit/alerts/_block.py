"""`DiscordAlerts`: the kit's Discord client as a Prefect notification block."""

from __future__ import annotations

from typing import Any

from prefect.blocks.abstract import NotificationBlock
from pydantic import ConfigDict, Field, SecretStr, field_validator

from ff_prefect_kit._internals import async_dispatch, notification_raise_requested
from ff_prefect_kit._internals import register_block_type as _register_block_type
from ff_prefect_kit._settings import DEFAULT_BLOCK_NAME
from ff_prefect_kit.alerts._client import DiscordClient
from ff_prefect_kit.alerts._redaction import validate_webhook_url

__all__ = ["DEFAULT_BLOCK_NAME", "DiscordAlerts", "register_blocks"]


class DiscordAlerts(NotificationBlock):
    """Send notifications and alerts to a Discord webhook through the kit's client.

    Unlike Prefect's apprise-based `DiscordWebhook`, messages stay within Discord's
    limits, never ping anyone, honour rate limits and are delivered with bounded
    retries. Save it once (`DiscordAlerts(webhook_url=...).save("ff-analytics-alerts")`)
    and load it anywhere with `DiscordAlerts.load("ff-analytics-alerts")`.
    """

    _block_type_name = "FF Discord Alerts"
    _block_type_slug = "ff-discord-alerts"
    _description = "Discord webhook alerts within Discord's limits, with bounded retries."

    # A rejected URL must not be echoed: it holds the webhook's token.
    model_config = ConfigDict(hide_input_in_errors=True)

    webhook_url: SecretStr = Field(
        default=...,
        title="Webhook URL",
        description="https://discord.com/api/webhooks/<id>/<token>",
    )
    username: str = Field(default="FF Analytics Bot", description="The poster's name.")
    avatar_url: str | None = Field(default=None, description="The poster's avatar.")
    deadline_seconds: float = Field(
        default=30.0, gt=0, description="How long one delivery may take, retries included."
    )

    @field_validator("webhook_url")
    @classmethod
    def _is_a_discord_webhook(cls, value: SecretStr) -> SecretStr:
        return validate_webhook_url(value, name="DiscordAlerts.webhook_url")

    def client(self, **options: Any) -> DiscordClient:
        """The client this block sends through; `options` go to `DiscordClient`."""
        options.setdefault("deadline", self.deadline_seconds)
        return DiscordClient(
            self.webhook_url,
            username=self.username,
            avatar_url=self.avatar_url,
            **options,
        )

    async def anotify(self, body: str, subject: str | None = None) -> None:
        """Post `body` (and `subject` as its title) from async code; see `notify`."""
        from prefect.utilities.asyncutils import run_sync_in_worker_thread

        await run_sync_in_worker_thread(self._notify, body, subject)

    @async_dispatch(anotify)
    def notify(self, body: str, subject: str | None = None) -> None:
        """Post `body` (and `subject` as its title) to the channel.

        Failures are logged and not raised, unless inside `raise_on_failure()`.
        From async code, `await block.notify(...)` works too.

        Raises:
            prefect.blocks.abstract.NotificationError: Delivery failed inside
                `raise_on_failure()`.
        """
        self._notify(body, subject)

    def _notify(self, body: str, subject: str | None) -> None:
        from prefect.blocks.abstract import NotificationError

        delivered = self.client().send_text(body, subject)
        if not delivered and notification_raise_requested(self):
            raise NotificationError(log="Discord did not confirm the message; see the run log.")


def register_blocks() -> list[str]:
    """Register the kit's block types with the current Prefect API.

    Returns:
        The slugs of the registered block types.
    """
    _register_block_type(DiscordAlerts)
    return [DiscordAlerts.get_block_type_slug()]
