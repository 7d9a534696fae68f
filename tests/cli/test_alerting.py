"""`ff-prefect-kit blocks register` and `ff-prefect-kit alert test`."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ff_prefect_kit.alerts import DiscordAlerts, Severity
from ff_prefect_kit.cli import main
from ff_prefect_kit.testing import DiscordWebhookMock, mock_discord_webhook

OTHER_WEBHOOK = "https://discord.com/api/webhooks/123456789012345678/an-other-secret-token"


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FF_ENV_FILE", "/dev/null")
    monkeypatch.delenv("DISCORD_WEBHOOK_URL", raising=False)
    monkeypatch.chdir(tmp_path)


def _block_name() -> str:
    return f"alerts-{uuid.uuid4().hex[:8]}"


def test_without_a_webhook_the_test_alert_is_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No webhook configured: the alert is printed with how to send it, exit 0."""
    assert main(["alert", "test"]) == 0
    out = capsys.readouterr().out
    assert f"{Severity.INFO.emoji} Test alert from ff-prefect-kit" in out
    assert "Set DISCORD_WEBHOOK_URL" in out


def test_without_a_webhook_the_test_alert_says_where_it_went(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No webhook: the printed alert says none is configured, never that it reached a channel."""
    assert main(["alert", "test"]) == 0
    out = capsys.readouterr().out
    assert "no webhook is configured, so alerts go to the log and the console" in out
    assert "No webhook is configured: the alert went to the console, not to Discord." in out
    assert "reach this channel" not in out


def test_an_unknown_block_without_an_api_creates_no_prefect_database(tmp_path: Path) -> None:
    """`alert test --block nope`, no PREFECT_API_URL, a new home: exit 2, no prefect.db made."""
    home = tmp_path / "home"
    home.mkdir()
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_", "FF_", "DISCORD_"))
    }
    done = subprocess.run(
        [sys.executable, "-m", "ff_prefect_kit", "alert", "test", "--block", "nope"],
        cwd=tmp_path,
        env={**environment, "HOME": str(home), "FF_ENV_FILE": os.devnull},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(
        "error: no notification block named 'nope': PREFECT_API_URL is not set, and "
        "Prefect's local database"
    )
    assert "ff-prefect-kit blocks register --name nope" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (home / ".prefect" / "prefect.db").exists()


def test_the_test_alert_reaches_the_webhook_with_its_severity(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With DISCORD_WEBHOOK_URL set, one alert of the chosen severity is confirmed."""
    with mock_discord_webhook() as discord:
        assert main(["alert", "test", "--severity", "critical"]) == 0
    assert [m.content for m in discord.messages] == [
        "🚨 Test alert from ff-prefect-kit: alerts reach this channel."
    ]
    out = capsys.readouterr().out
    assert "Discord confirmed the test alert" in out
    assert discord.token not in out


def test_an_unconfirmed_test_alert_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A webhook Discord no longer knows (404) makes the command exit 1."""
    with mock_discord_webhook(responses=[DiscordWebhookMock.unknown_webhook()]) as discord:
        assert main(["alert", "test"]) == 1
    captured = capsys.readouterr()
    assert "did not confirm" in captured.out
    assert discord.token not in captured.out + captured.err


def test_a_malformed_webhook_is_one_line_without_the_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A DISCORD_WEBHOOK_URL that is not a webhook: exit 2, one line, value hidden."""
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", "https://example.com/hook/sup3r-secret-value")
    assert main(["alert", "test"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: DISCORD_WEBHOOK_URL is not a Discord webhook URL")
    assert len(err.strip().splitlines()) == 1
    assert "sup3r-secret-value" not in err


def test_a_block_behind_a_dead_api_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--block` with PREFECT_API_URL at a dead address: exit 2 naming the URL."""
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    assert main(["alert", "test", "--block", "nowhere"]) == 2
    err = capsys.readouterr().err
    assert "PREFECT_API_URL=http://127.0.0.1:9/api is not reachable" in err


def test_register_needs_the_webhook_variable(capsys: pytest.CaptureFixture[str]) -> None:
    """`blocks register` without DISCORD_WEBHOOK_URL exits 2 naming the variable."""
    assert main(["blocks", "register"]) == 2
    assert capsys.readouterr().err.startswith("error: DISCORD_WEBHOOK_URL is not set")


def test_register_refuses_a_padded_name(capsys: pytest.CaptureFixture[str]) -> None:
    """A block name with surrounding spaces is refused before anything is saved."""
    with mock_discord_webhook():
        assert main(["blocks", "register", "--name", " alerts"]) == 2
    assert "--name" in capsys.readouterr().err


@pytest.mark.usefixtures("prefect_test_harness")
def test_register_saves_the_webhook_as_a_block() -> None:
    """The saved block loads back with DISCORD_WEBHOOK_URL as its webhook."""
    name = _block_name()
    with mock_discord_webhook() as discord:
        assert main(["blocks", "register", "--name", name]) == 0
    block = DiscordAlerts.load(name)
    assert block.webhook_url.get_secret_value() == discord.webhook_url


@pytest.mark.usefixtures("prefect_test_harness")
def test_register_twice_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """Running `blocks register` again reports the block as already saved, exit 0."""
    name = _block_name()
    with mock_discord_webhook() as discord:
        assert main(["blocks", "register", "--name", name]) == 0
        assert main(["blocks", "register", "--name", name]) == 0
    out = capsys.readouterr().out
    assert "already holds DISCORD_WEBHOOK_URL" in out
    assert discord.token not in out


@pytest.mark.usefixtures("prefect_test_harness")
def test_register_keeps_a_block_with_another_webhook(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A block of that name with another webhook is kept unless --overwrite is given."""
    name = _block_name()
    DiscordAlerts(webhook_url=OTHER_WEBHOOK).save(name)
    with mock_discord_webhook():
        assert main(["blocks", "register", "--name", name]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert DiscordAlerts.load(name).webhook_url.get_secret_value() == OTHER_WEBHOOK


@pytest.mark.usefixtures("prefect_test_harness")
def test_register_overwrite_replaces_the_webhook() -> None:
    """With --overwrite the block takes DISCORD_WEBHOOK_URL."""
    name = _block_name()
    DiscordAlerts(webhook_url=OTHER_WEBHOOK).save(name)
    with mock_discord_webhook() as discord:
        assert main(["blocks", "register", "--name", name, "--overwrite"]) == 0
    assert DiscordAlerts.load(name).webhook_url.get_secret_value() == discord.webhook_url


@pytest.mark.usefixtures("prefect_test_harness")
def test_the_test_alert_goes_through_a_named_block() -> None:
    """`alert test --block NAME` posts to that block's webhook."""
    name = _block_name()
    with mock_discord_webhook() as discord:
        DiscordAlerts(webhook_url=discord.webhook_url, username="Block Bot").save(name)
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv("DISCORD_WEBHOOK_URL")
            assert main(["alert", "test", "--block", name]) == 0
    assert [m.payload["username"] for m in discord.messages] == ["Block Bot"]


@pytest.mark.usefixtures("prefect_test_harness")
def test_an_unknown_block_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`alert test --block` with no such block exits 2 naming it."""
    assert main(["alert", "test", "--block", "no-such-block"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no notification block named 'no-such-block'")
    assert len(err.strip().splitlines()) == 1
