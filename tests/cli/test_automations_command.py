"""`ff-prefect-kit automations install`: its input checks, before any server is touched.

What it installs on a real server, and the alerts those automations send, are in
`tests/testing/test_automations_on_a_server.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ff_prefect_kit.cli import main


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FF_ENV_FILE", "/dev/null")
    monkeypatch.delenv("DISCORD_WEBHOOK_URL", raising=False)
    monkeypatch.chdir(tmp_path)


def test_an_unreachable_api_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """PREFECT_API_URL at a dead address: exit 2, one line naming the URL, no traceback."""
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv(
        "DISCORD_WEBHOOK_URL", "https://discord.com/api/webhooks/123456789012345678/tok-secret"
    )
    assert main(["automations", "install"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: PREFECT_API_URL=http://127.0.0.1:9/api is not reachable")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert "tok-secret" not in err


def test_a_window_under_ten_seconds_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """`--crash-grace 5` is refused before anything is saved, naming Prefect's minimum."""
    assert main(["automations", "install", "--block", "x", "--crash-grace", "5"]) == 2
    assert "--crash-grace must be at least 10 s" in capsys.readouterr().err


def test_a_negative_limit_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """`--running-limit -1` exits 2 naming the option."""
    assert main(["automations", "install", "--running-limit", "-1"]) == 2
    assert "--running-limit must be 0 (none) or more" in capsys.readouterr().err


def test_without_block_the_webhook_variable_is_needed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --block and no DISCORD_WEBHOOK_URL: exit 2 naming the variable."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert main(["automations", "install"]) == 2
    assert capsys.readouterr().err.startswith("error: DISCORD_WEBHOOK_URL is not set")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("option", ["--running-limit", "--heartbeat-timeout", "--crash-grace"])
def test_a_window_that_is_not_a_number_is_one_line_naming_it(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--running-limit nan` (or inf): exit 2, one line naming the option and the value."""
    assert main(["automations", "install", "--block", "x", option, value]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {option} must be a number of ")
    assert f"got {value}" in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_the_local_ephemeral_api_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No PREFECT_API_URL: exit 2 saying to point it at a server or Cloud; nothing installed."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv(
        "DISCORD_WEBHOOK_URL", "https://discord.com/api/webhooks/123456789012345678/tok-secret"
    )
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert main(["automations", "install"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: PREFECT_API_URL is not set: automations on Prefect's local ")
    assert "point PREFECT_API_URL at a Prefect server (`prefect server start`) or at " in err
    assert "Prefect Cloud" in err
    assert len(err.strip().splitlines()) == 1
    assert "tok-secret" not in err
