"""No known secret reaches an alert, the console fallback or a kit log line."""

from __future__ import annotations

import json
import logging
import os
import re
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ff_prefect_kit import monitored_flow
from ff_prefect_kit._logging import kit_logger
from ff_prefect_kit._secrets import _USERINFO, redact, redact_data
from ff_prefect_kit.alerts import LogSink
from ff_prefect_kit.testing import DiscordWebhookMock, mock_discord_webhook

API_KEY = "pnu_canaryApiKey0123456789abcdefghij"
AUTH_STRING = "admin:canary-auth-string-0123"

pytestmark = pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")


def _forms(discord: DiscordWebhookMock) -> dict[str, str]:
    return {
        "the webhook URL": discord.webhook_url,
        "its bare token": discord.token,
        "the URL-encoded URL": quote(discord.webhook_url, safe=""),
        "the form-encoded URL": quote_plus(discord.webhook_url),
        "the Prefect API key": API_KEY,
        "a self-hosted server's credential": AUTH_STRING,
    }


@pytest.mark.parametrize(
    "form",
    [
        "the webhook URL",
        "its bare token",
        "the URL-encoded URL",
        "the form-encoded URL",
        "the Prefect API key",
        "a self-hosted server's credential",
    ],
)
def test_a_secret_in_an_exception_never_reaches_discord(
    form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error message holding a secret, in any form, is redacted from every alert field."""
    monkeypatch.setenv("PREFECT_API_KEY", API_KEY)
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", AUTH_STRING)
    with mock_discord_webhook() as discord:
        secret = _forms(discord)[form]

        @monitored_flow(name="leaks-a-secret")
        def leaks() -> None:
            raise RuntimeError(f"could not post to {secret} today")

        assert leaks(return_state=True).is_failed()
    [message] = discord.messages
    assert "<redacted> today" in message.text
    for value in _forms(discord).values():
        assert value not in message.text


def test_the_console_fallback_shows_no_secret(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With no webhook, the alert written to the log has the API key hidden."""
    monkeypatch.setenv("PREFECT_API_KEY", API_KEY)

    @monitored_flow(name="leaks-to-the-log", alerts=LogSink())
    def leaks() -> None:
        raise RuntimeError(f"key was {API_KEY}")

    with caplog.at_level(logging.INFO):
        assert leaks(return_state=True).is_failed()
    assert "key was <redacted>" in caplog.text
    assert API_KEY not in caplog.text


def test_a_kit_log_line_shows_no_secret(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A value logged by the kit that holds a known secret is redacted."""
    monkeypatch.setenv("PREFECT_API_KEY", API_KEY)
    with caplog.at_level(logging.INFO, logger="ff_prefect_kit"):
        kit_logger.info("Wrote %s rows to %s", 3, f"/data/{API_KEY}/x.parquet")
    assert "/data/<redacted>/x.parquet" in caplog.text
    assert API_KEY not in caplog.text


# --- every form of a known secret, and nothing else -----------------------------------

QUOTED_KEY = "pnu_Qz7'Kv\\9mXr2Lt8Wq4Np6Hs3"
DSN_PASSWORD = "Mk3'Yw\\7Bz9Q@e5Ux2"


@pytest.fixture
def known(monkeypatch: pytest.MonkeyPatch) -> None:
    """An API key with a quote and a backslash, an auth string and a DSN, all known."""
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    monkeypatch.setenv("PREFECT_API_KEY", QUOTED_KEY)
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", AUTH_STRING)
    monkeypatch.setenv("FF_WAREHOUSE_DSN", f"postgresql://analyst:{DSN_PASSWORD}@db:5432/marts")


def _pydantic_cut(value: str) -> str:
    from pydantic import BaseModel, ValidationError

    class Model(BaseModel):
        points: int

    try:
        Model(points=value)  # type: ignore[arg-type]
    except ValidationError as exc:
        return str(exc)
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"key={QUOTED_KEY}", QUOTED_KEY),
        (repr(f"key={QUOTED_KEY}"), QUOTED_KEY),
        (repr([repr(QUOTED_KEY)]), QUOTED_KEY),
        (json.dumps({"key": QUOTED_KEY}), QUOTED_KEY),
        (quote(QUOTED_KEY, safe=""), QUOTED_KEY),
        (quote_plus(QUOTED_KEY), QUOTED_KEY),
        (f"key={QUOTED_KEY[:16]}...", QUOTED_KEY[:16]),
        (f"key={QUOTED_KEY[:9]}", QUOTED_KEY[:9]),
        (f"tail ...{QUOTED_KEY[-12:]}'", QUOTED_KEY[-12:]),
        (_pydantic_cut(QUOTED_KEY + "-" + "x" * 60), QUOTED_KEY[:20]),
        (f"auth {AUTH_STRING}", AUTH_STRING.split(":", 1)[1]),
        (f"dsn postgresql://analyst:{DSN_PASSWORD}@db:5432/marts", DSN_PASSWORD),
        (quote(f"postgresql://analyst:{DSN_PASSWORD}@db:5432/marts", safe=""), "Yw%5C7Bz9Q"),
        (f"password alone: {DSN_PASSWORD}", DSN_PASSWORD),
        ("unknown dsn mysql://root:hunter2-secret@10.0.0.5/db", "hunter2-secret"),
        (quote("mysql://root:hunter2-secret@10.0.0.5/db", safe=""), "hunter2-secret"),
        ("x" * 20_000 + "9.mysql://root:hunter2-secret@db", "hunter2-secret"),
        ("9s3://root:hunter2-secret@db", "hunter2-secret"),
        (
            "POST https%3A%2F%2Fdiscord.com%2Fapi%2Fwebhooks%2F123456%2FunknownToken99",
            "unknownToken",
        ),
    ],
    ids=[
        "raw",
        "repr",
        "repr-of-repr",
        "json",
        "url-encoded",
        "form-encoded",
        "cut-with-dots",
        "cut-at-the-end",
        "end-after-dots",
        "pydantic-cut",
        "auth-string",
        "known-dsn",
        "known-dsn-url-encoded",
        "dsn-password-alone",
        "unknown-dsn",
        "unknown-dsn-url-encoded",
        "unknown-dsn-ending-a-long-word",
        "unknown-dsn-scheme-after-a-digit",
        "unknown-webhook-url-encoded",
    ],
)
@pytest.mark.usefixtures("known")
def test_every_form_of_a_secret_is_hidden(text: str, secret: str) -> None:
    """Raw, escaped, encoded, cut by a value's end or a mark: none of it stays."""
    hidden = redact(text)
    assert secret not in hidden
    assert "<redacted>" in hidden


@pytest.mark.parametrize(
    "text",
    [
        "see https://... for details",
        "postgresql://analyst@db:5432/marts",
        "http://localhost:8080/health ok",
        f"the key starts {QUOTED_KEY[:7]}...",  # 7 characters: too few to hide
        f"{QUOTED_KEY[:12]} is followed by more text",  # not where a value was cut
        f"x{QUOTED_KEY[:12]}...",  # inside a longer word: not where a value starts
        "Waiting for the flow run...",
    ],
)
@pytest.mark.usefixtures("known")
def test_text_that_only_looks_like_a_secret_is_left_alone(text: str) -> None:
    """No false positives: public URL starts, short or uncut prefixes, ordinary dots."""
    assert redact(text) == text


# Pieces of the secrets (7 characters at most), marks of a cut, and any text, mixed.
_PIECES = [s[i : i + n] for s in (QUOTED_KEY, AUTH_STRING) for n in (3, 7) for i in range(len(s))]
_TEXTS = st.lists(
    st.one_of(st.text(max_size=12), st.sampled_from(_PIECES), st.just("..."), st.just("…")),
    max_size=12,
).map("".join)


def _holds_a_secret(text: str) -> bool:
    return any(
        secret[i : i + 8] in text
        for secret in (QUOTED_KEY, AUTH_STRING)
        for i in range(len(secret) - 7)
    )


@given(_TEXTS)
def test_text_without_8_characters_of_a_secret_is_unchanged(text: str) -> None:
    """Text mixing pieces of secrets, shorter than 8, with cut marks comes back as it was."""
    assume(not _holds_a_secret(text) and "://" not in text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FF_ENV_FILE", os.devnull)
        patch.setenv("PREFECT_API_KEY", QUOTED_KEY)
        patch.setenv("PREFECT_API_AUTH_STRING", AUTH_STRING)
        assert redact(text) == text


# How a URL's password was found before the scheme was matched from the start of its run
# (tried from every letter, which cost a scan to the end of each long word).
_USERINFO_FROM_ANY_LETTER = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@'\"]*:)([^\s/]+)@")
_URL_TEXTS = st.lists(
    st.one_of(
        st.sampled_from(["://", ":", "@", "/", " ", "a", "Z", "9", "+", ".", "-", "pw", "%3A"]),
        st.text(alphabet="ab1.:/@ ", max_size=6),
    ),
    max_size=16,
).map("".join)


@given(_URL_TEXTS)
def test_url_passwords_are_found_as_by_a_scan_from_every_letter(text: str) -> None:
    """Matching a URL's scheme from the start of its run hides exactly the same passwords."""
    hidden = r"\g<1><redacted>@"
    assert _USERINFO.sub(hidden, text) == _USERINFO_FROM_ANY_LETTER.sub(hidden, text)


@pytest.mark.usefixtures("known")
def test_redact_data_hides_secrets_in_rows() -> None:
    """`redact_data` redacts every text in a table's rows and keeps everything else."""
    rows = [{"column": "note", "min": QUOTED_KEY, "nulls": 0}, ("x", [QUOTED_KEY])]
    assert redact_data(rows) == [
        {"column": "note", "min": "<redacted>", "nulls": 0},
        ("x", ["<redacted>"]),
    ]
