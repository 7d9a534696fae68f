"""DiscordAlerts: a Prefect NotificationBlock over the kit's client, saved and loaded."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.blocks.abstract import NotificationError
from prefect.blocks.core import Block
from prefect.blocks.notifications import DiscordWebhook
from prefect.utilities.importtools import load_script_as_module
from pydantic import ValidationError

from ff_prefect_kit import DiscordAlerts, monitored_flow
from ff_prefect_kit.alerts import DEFAULT_BLOCK_NAME, register_blocks
from ff_prefect_kit.testing import DiscordWebhookMock, HarnessHandle, mock_discord_webhook

TOKEN = "block-test-token"
URL = f"https://discord.com/api/webhooks/123456789012345678/{TOKEN}"
BLOCKS_FILE = Path(__file__).parents[2] / "blocks" / "discord_webhook.py"


def test_webhook_url_is_secret() -> None:
    """The block's repr and JSON never show the token."""
    block = DiscordAlerts(webhook_url=URL)
    assert TOKEN not in repr(block)
    assert TOKEN not in block.model_dump_json()


def test_malformed_webhook_url_is_rejected_without_echo() -> None:
    """A URL that is not a Discord webhook fails validation; the error hides the value."""
    with pytest.raises(ValidationError, match="not a Discord webhook URL") as caught:
        DiscordAlerts(webhook_url=f"https://example.com/{TOKEN}")
    assert TOKEN not in str(caught.value)


def test_notify_posts_body_and_subject_through_the_kit_client() -> None:
    """`.notify(body, subject)` posts one message: subject as title, body as text."""
    with mock_discord_webhook() as discord:
        DiscordAlerts(webhook_url=discord.webhook_url).notify("Test alert", "Hello")
    [message] = discord.messages
    assert (message.title, message.description) == ("Hello", "Test alert")
    assert message.payload["username"] == "FF Analytics Bot"


def test_notify_can_be_awaited_from_async_code() -> None:
    """`await block.notify(...)` (as Prefect's automations call it) posts the message."""

    async def notify_from_async(block: DiscordAlerts) -> None:
        await block.notify("from async")  # type: ignore[misc]

    with mock_discord_webhook() as discord:
        asyncio.run(notify_from_async(DiscordAlerts(webhook_url=discord.webhook_url)))
    assert [m.title for m in discord.messages] == ["from async"]


def test_notify_raises_only_inside_raise_on_failure() -> None:
    """A failed delivery is silent by default and a NotificationError when asked."""
    with mock_discord_webhook(
        responses=[DiscordWebhookMock.unknown_webhook(), DiscordWebhookMock.unknown_webhook()]
    ) as discord:
        block = DiscordAlerts(webhook_url=discord.webhook_url)
        block.notify("lost")
        with pytest.raises(NotificationError), block.raise_on_failure():
            block.notify("lost again")


def test_blocks_file_defines_the_block_for_prefect_block_register() -> None:
    """`prefect block register --file blocks/discord_webhook.py` finds DiscordAlerts."""
    module = load_script_as_module(str(BLOCKS_FILE))
    assert Block.is_block_class(module.DiscordAlerts)
    assert module.DiscordAlerts.get_block_type_slug() == "ff-discord-alerts"


@pytest.mark.usefixtures("prefect_test_harness")
class TestOnARealAPI:
    """Registering, saving and loading blocks through a Prefect API."""

    def test_register_blocks_registers_the_block_type(self) -> None:
        """register_blocks() returns the registered slugs."""
        assert register_blocks() == ["ff-discord-alerts"]

    def test_saved_block_loads_by_name(self) -> None:
        """DiscordAlerts.load(name) gives back the saved webhook."""
        DiscordAlerts(webhook_url=URL, username="Bot").save("kit-load-test", overwrite=True)
        loaded = DiscordAlerts.load("kit-load-test")
        assert isinstance(loaded, DiscordAlerts)
        assert loaded.webhook_url.get_secret_value() == URL
        assert loaded.username == "Bot"

    def test_flow_alerts_through_a_block_named_by_string(self) -> None:
        """monitored_flow(alerts="<block name>") loads the block when it alerts."""
        with mock_discord_webhook() as discord:
            DiscordAlerts(webhook_url=discord.webhook_url).save("kit-flow-test", overwrite=True)

            @monitored_flow(alerts="kit-flow-test")
            def nightly() -> None:
                raise ValueError("bad input file")

            assert nightly(return_state=True).is_failed()
        [message] = discord.messages
        assert message.content == "⚠️ nightly failed"

    # apprise, under Prefect's block, imports the deprecated imghdr: not the kit's warning.
    @pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")
    def test_prefect_discord_webhook_block_alerts_through_the_kits_client(self) -> None:
        """A Prefect DiscordWebhook saved as ff-analytics-alerts gets the kit's alert."""
        with mock_discord_webhook() as discord:
            DiscordWebhook(webhook_id=discord.webhook_id, webhook_token=discord.token).save(
                DEFAULT_BLOCK_NAME, overwrite=True
            )

            @monitored_flow(alerts=DEFAULT_BLOCK_NAME)
            def nightly() -> None:
                raise ValueError("bad input file")

            assert nightly(return_state=True).is_failed()
        [message] = discord.messages
        assert message.content == "⚠️ nightly failed"
        assert message.fields["Error"] == "ValueError: bad input file"

    def test_block_type_registers_from_the_installed_module(
        self, prefect_test_harness: HarnessHandle
    ) -> None:
        """`prefect block register -m ff_prefect_kit.alerts` works without the repo's blocks/."""
        done = subprocess.run(
            [sys.executable, "-m", "prefect", "block", "register", "-m", "ff_prefect_kit.alerts"],
            env={**os.environ, "PREFECT_API_URL": prefect_test_harness.api_url},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "FF Discord Alerts" in done.stdout

    def test_missing_block_still_logs_the_alert(self, caplog: pytest.LogCaptureFixture) -> None:
        """An unknown block name: the flow stays Failed and the alert text reaches the log."""

        @monitored_flow(alerts="no-such-block-anywhere")
        def nightly() -> None:
            raise ValueError("bad input file")

        state = nightly(return_state=True)
        assert state.is_failed()
        assert "no notification block named 'no-such-block-anywhere'" in caplog.text
        assert "⚠️ nightly failed" in caplog.text
