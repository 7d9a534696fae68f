"""Canary secrets appear nowhere: not in the demo's output, logs or files, nor the CLI's."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from urllib.parse import quote

import pytest

from ff_prefect_kit import monitored_flow
from ff_prefect_kit.cli import main
from ff_prefect_kit.cli._demo import DemoOptions, run_demo
from ff_prefect_kit.testing import mock_discord_webhook

CANARY_TOKEN = "canaryWebhookToken0123456789abcdef"
CANARY_WEBHOOK = f"https://discord.com/api/webhooks/123456789012345678/{CANARY_TOKEN}"
CANARY_KEY = "pnu_canaryPrefectKey0123456789abcdef"


def _leaks(texts: dict[str, str], canaries: set[str]) -> list[str]:
    """Each canary found, and where: its first characters only, never the whole secret."""
    return [
        f"{canary[:12]}... in {where}"
        for where, text in texts.items()
        for canary in canaries
        if canary in text
    ]


@pytest.mark.usefixtures("prefect_test_harness")
def test_no_canary_secret_leaves_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The webhook URL, its token and the API key, in any encoding, are in no output or file."""
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", CANARY_WEBHOOK)
    monkeypatch.setenv("PREFECT_API_KEY", CANARY_KEY)
    out = io.StringIO()
    with caplog.at_level(logging.DEBUG):
        status = run_demo(DemoOptions(workdir=tmp_path, seasons=1, players=30, seed=9), out=out)
    assert status == 0, out.getvalue()
    canaries = {CANARY_TOKEN, CANARY_KEY, quote(CANARY_WEBHOOK, safe="")}
    texts = {"the demo's output": out.getvalue(), "the log records": caplog.text}
    texts.update(
        {
            str(path.relative_to(tmp_path)): path.read_bytes().decode("utf-8", "replace")
            for path in tmp_path.rglob("*")
            if path.is_file()
        }
    )
    assert _leaks(texts, canaries) == []


CANARY_AUTH = "admin:canaryAuthString0123456789"


@pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")
def test_no_canary_secret_leaves_the_command_line_or_a_failing_flow(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """doctor, blocks register, alert test and a flow failing with a secret: no canary anywhere."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    monkeypatch.setenv("PREFECT_API_KEY", CANARY_KEY)
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", CANARY_AUTH)
    with caplog.at_level(logging.DEBUG), mock_discord_webhook() as discord:
        statuses = [
            main(["doctor", "--send-test"]),
            main(["blocks", "register", "--name", "canary-alerts"]),
            main(["alert", "test", "--severity", "critical"]),
            main(["alert", "test", "--block", "canary-alerts"]),
        ]

        @monitored_flow(name="leaks-everything")
        def leaks() -> None:
            raise RuntimeError(f"{discord.webhook_url} {CANARY_KEY} {CANARY_AUTH}")

        assert leaks(return_state=True).is_failed()
        monkeypatch.setenv("DISCORD_WEBHOOK_URL", f"https://example.com/{discord.token}")
        statuses.append(main(["doctor"]))
        statuses.append(main(["alert", "test"]))
    assert statuses == [0, 0, 0, 0, 1, 2]
    captured = capsys.readouterr()
    canaries = {discord.token, CANARY_KEY, CANARY_AUTH, quote(CANARY_KEY, safe="")}
    texts = {
        "stdout": captured.out,
        "stderr": captured.err,
        "the log records": caplog.text,
        "the Discord messages": "\n".join(str(r.payload) for r in discord.requests),
    }
    assert _leaks(texts, canaries) == []
    assert len(discord.messages) == 4
