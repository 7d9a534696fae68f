"""Register the kit's Discord block type and, when a webhook is configured, save it.

    prefect block register --file blocks/discord_webhook.py   # the block type only
    prefect block register -m ff_prefect_kit.alerts           # the same, from an installed kit
    uv run python blocks/discord_webhook.py                   # type + "ff-analytics-alerts"

`prefect block register` imports this file and registers every block class it finds
(`DiscordAlerts`). Running it as a script also saves a block document named
`ff-analytics-alerts` from `DISCORD_WEBHOOK_URL` (environment or `.env`), so that
`DiscordAlerts.load("ff-analytics-alerts")` and `monitored_flow(alerts="ff-analytics-alerts")`
work everywhere the Prefect API is reachable.
"""

from __future__ import annotations

from ff_prefect_kit import DiscordAlerts, KitSettings
from ff_prefect_kit.alerts import DEFAULT_BLOCK_NAME, register_blocks

__all__ = ["DiscordAlerts"]


def main() -> None:
    """Register the block type, then save the webhook from the settings as a block."""
    slugs = register_blocks()
    print(f"Registered block type(s): {', '.join(slugs)}")
    settings = KitSettings()
    url = settings.require("discord_webhook_url")
    DiscordAlerts(webhook_url=url, username=settings.alert_username).save(
        DEFAULT_BLOCK_NAME, overwrite=True
    )
    print(f"Saved block {DiscordAlerts.get_block_type_slug()}/{DEFAULT_BLOCK_NAME}")


if __name__ == "__main__":
    main()
