"""Canary secrets set for a whole demo run appear nowhere: output, logs, or any file written."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from urllib.parse import quote

import pytest

from ff_prefect_kit.cli._demo import DemoOptions, run_demo

CANARY_TOKEN = "canaryWebhookToken0123456789abcdef"
CANARY_WEBHOOK = f"https://discord.com/api/webhooks/123456789012345678/{CANARY_TOKEN}"
CANARY_KEY = "pnu_canaryPrefectKey0123456789abcdef"


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
    leaks = [
        f"{canary[:12]}... in {where}"
        for where, text in texts.items()
        for canary in canaries
        if canary in text
    ]
    assert leaks == []
