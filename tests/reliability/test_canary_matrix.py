"""No secret in anything Prefect keeps: every kind, encoding and exception shape, read back.

Each case is a monitored flow whose four tasks each raise an exception of one shape
holding one secret in one encoding; the flow then raises the shape with all four. What
the harness's API kept (the task runs' and the flow run's state messages, the run's
logs) and every post to Discord is searched for any 8 characters of the secret's secret
part, in any of the forms it takes in text: 5 kinds x 4 encodings x 5 shapes, 4 sinks
each. The fifth sink, the artifacts the kit writes, has its own test at the end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import polars as pl
import pytest
from pydantic import BaseModel, ValidationError

from ff_prefect_kit import analytics_task, monitored_flow, write_parquet
from ff_prefect_kit.testing import DiscordWebhookMock, HarnessHandle, mock_discord_webhook

pytestmark = pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")

# Each with a quote and a backslash where the kind allows them: repr() then escapes them.
API_KEY = "pnu_Qz7'Kv\\9mXr2Lt8Wq4Np6Hs3"
AUTH_PASSWORD = 'Vb5"Jn\\2Pc8Rd4Tf6Gh1'
AUTH_STRING = f"admin:{AUTH_PASSWORD}"
DSN_PASSWORD = "Mk3'Yw\\7Bz9Qe5Ux2Jp"
DSN = f"postgresql://analyst:{DSN_PASSWORD}@db.example:5432/marts"
SHORTEST = 8

KINDS = ["webhook URL", "webhook token", "PREFECT_API_KEY", "PREFECT_API_AUTH_STRING", "DSN"]
ENCODINGS = ["raw", "repr", "url-encoded", "cut"]
SHAPES = ["plain", "chained", "group", "repr-raising", "validation"]
SINKS = ["task state messages", "flow state message", "run logs", "alert payloads", "artifacts"]


def _secret(kind: str, discord: DiscordWebhookMock) -> tuple[str, str]:
    """What the error shows for `kind`, and its secret part (what must never be seen)."""
    return {
        "webhook URL": (discord.webhook_url, discord.token),
        "webhook token": (discord.token, discord.token),
        "PREFECT_API_KEY": (API_KEY, API_KEY),
        "PREFECT_API_AUTH_STRING": (AUTH_STRING, AUTH_PASSWORD),
        "DSN": (DSN, DSN_PASSWORD),
    }[kind]


def _encoded(shown: str, part: str, encoding: str) -> str:
    if encoding == "repr":
        return repr(shown)
    if encoding == "url-encoded":
        return quote(shown, safe="")
    if encoding == "cut":  # 12 characters of the secret part, then the mark of a cut
        return shown[: shown.index(part) + 12] + "..."
    return shown


class _UnprintableRepr(Exception):
    def __repr__(self) -> str:
        raise AttributeError("no repr")


class _Inputs(BaseModel):
    a: int
    b: int = 0
    c: int = 0
    d: int = 0


def _invalid(*values: str) -> ValidationError:
    # The last value also given whole and padded: Pydantic then shows its start and end.
    fields = dict(zip("abcd", values, strict=False))
    try:
        _Inputs(**fields)  # type: ignore[arg-type]
    except ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


def _raise(shape: str, texts: list[str]) -> None:
    text = " | ".join(texts)
    if shape == "plain":
        raise RuntimeError(f"could not load the mart: {text}")
    if shape == "chained":
        raise RuntimeError(f"could not load the mart ({text})") from ConnectionError(text)
    if shape == "group":
        raise ExceptionGroup(f"loads failed: {text}", [ValueError(t) for t in texts])
    if shape == "repr-raising":
        raise _UnprintableRepr(f"could not load the mart: {text}")
    raise _invalid(*texts)


def _forms(part: str) -> set[str]:
    escaped = {repr(part)[1:-1], json.dumps(part)[1:-1], part.replace("\\", "\\\\")}
    twice = {repr(form)[1:-1] for form in escaped}
    return {part, quote(part, safe=""), quote_plus(part)} | escaped | twice


def _leaks(part: str, texts: dict[str, str]) -> list[str]:
    """Each sink holding 8 characters of the secret part, in any form: where, and which."""
    windows = {f[i : i + SHORTEST] for f in _forms(part) for i in range(len(f) - SHORTEST + 1)}
    return [
        f"{where}: {window!r}"
        for where, text in texts.items()
        for window in sorted(windows)
        if window in text
    ]


def _sinks(record: Any, discord: DiscordWebhookMock) -> dict[str, str]:
    return {
        "task state messages": "\n".join(t.message for t in record.tasks),
        "flow state message": record.flow_run.state.message or "",
        "run logs": "\n".join(record.logs),
        "alert payloads": "\n".join(
            json.dumps(r.payload, ensure_ascii=False) for r in discord.requests
        ),
    }


@pytest.fixture
def canaries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every kind of known secret set, as a deployment would have it."""
    monkeypatch.setenv("PREFECT_API_KEY", API_KEY)
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", AUTH_STRING)
    monkeypatch.setenv("FF_CANARY_WAREHOUSE_DSN", DSN)


def _flow(shape: str, texts: list[str]) -> Callable[..., Any]:
    def make(n: int) -> Any:
        @analytics_task(name=f"load-{n}", retries=0)
        def load() -> None:
            _raise(shape, [texts[n]])

        return load

    loads = [make(n) for n in range(len(texts))]

    @monitored_flow(name=f"canary-{shape}")
    def nightly() -> None:
        futures = [load.submit() for load in loads]
        for future in futures:
            future.wait()
        _raise(shape, texts)

    return nightly


@pytest.mark.usefixtures("canaries")
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", KINDS)
def test_no_secret_reaches_what_prefect_keeps_of_a_failure(
    kind: str, shape: str, prefect_test_harness: HarnessHandle
) -> None:
    """One kind of secret, in its 4 encodings, raised in one shape: 0 leaks in 4 sinks."""
    with mock_discord_webhook() as discord:
        shown, part = _secret(kind, discord)
        texts = [_encoded(shown, part, encoding) for encoding in ENCODINGS]
        if shape == "validation":  # Pydantic cuts a long input itself
            texts[ENCODINGS.index("cut")] = shown + "-" + "x" * 60
        state = _flow(shape, texts)(return_state=True)
        assert state.is_failed()
        record = prefect_test_harness.run_record(state, expected_tasks=len(texts))
    assert sorted(t.task_name for t in record.tasks if t.state == "FAILED") == [
        f"load-{n}" for n in range(len(ENCODINGS))
    ]
    assert len(discord.messages) == 1
    assert _leaks(part, _sinks(record, discord)) == []


# The kit's Parquet table artifact shows each column's min and max: the data itself.
@pytest.mark.usefixtures("canaries")
@pytest.mark.parametrize("kind", KINDS)
def test_no_secret_reaches_an_artifact_the_kit_writes(
    kind: str, tmp_path: Path, prefect_test_harness: HarnessHandle
) -> None:
    """Data holding a secret in its 4 encodings, written by write_parquet: its artifact hides it."""
    with mock_discord_webhook() as discord:
        shown, part = _secret(kind, discord)
        notes = [_encoded(shown, part, encoding) for encoding in ENCODINGS]

        @monitored_flow(name="canary-artifact")
        def nightly() -> None:
            write_parquet(pl.DataFrame({"note": notes}), tmp_path / "notes.parquet", root=tmp_path)

        state = nightly(return_state=True)
        assert state.is_completed()
        record = prefect_test_harness.run_record(state, expected_tasks=1)
    assert record.artifacts
    artifacts = [
        a.model_dump(mode="json", exclude={"id", "created", "updated"}) for a in record.artifacts
    ]
    assert _leaks(part, {"artifacts": json.dumps(artifacts, ensure_ascii=False)}) == []
