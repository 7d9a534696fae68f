"""Rendering an alert as a Discord message that Discord never rejects."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ff_prefect_kit import Severity
from ff_prefect_kit.alerts import Alert, build_payload, payload_problems
from ff_prefect_kit.alerts._payload import (
    CONTENT_LIMIT,
    EMBEDS_TOTAL_LIMIT,
    FIELD_VALUE_LIMIT,
    TITLE_LIMIT,
    TRUNCATION_MARKER,
    fit,
)

WHEN = datetime(2026, 9, 14, 12, 0, tzinfo=UTC)
MENTIONS = "@everyone @here <@&123456789012345678> <@123>"


def _alert(**changes: object) -> Alert:
    values: dict[str, object] = {
        "severity": Severity.FAILURE,
        "title": "player-valuation failed",
        "description": "",
        "fields": (("Flow run", "witty-otter"),),
        "url": None,
        "timestamp": WHEN,
    }
    values.update(changes)
    return Alert(**values)  # type: ignore[arg-type]


def test_content_is_emoji_and_title() -> None:
    """The message text is `<emoji> <title>`."""
    assert build_payload(_alert())["content"] == "⚠️ player-valuation failed"


@pytest.mark.parametrize("severity", list(Severity))
def test_severity_sets_the_embed_colour(severity: Severity) -> None:
    """The embed's colour is the severity's."""
    payload = build_payload(_alert(severity=severity))
    assert payload["embeds"][0]["color"] == severity.colour
    assert payload["content"].startswith(severity.emoji)


def test_embed_carries_fields_timestamp_and_link() -> None:
    """Fields keep their order; the timestamp and the run's link are set."""
    url = "https://app.prefect.cloud/runs/flow-run/1"
    embed = build_payload(_alert(fields=(("A", "1"), ("B", "2")), url=url))["embeds"][0]
    assert [(f["name"], f["value"]) for f in embed["fields"]] == [("A", "1"), ("B", "2")]
    assert embed["timestamp"] == WHEN.isoformat()
    assert embed["url"] == url


@pytest.mark.parametrize("url", [None, "None/flow-runs/flow-run/1", ""])
def test_no_link_without_a_real_url(url: str | None) -> None:
    """An ephemeral run (no UI URL, or Prefect's "None/..." string) shows no link."""
    assert "url" not in build_payload(_alert(url=url))["embeds"][0]


def test_username_comes_from_the_caller() -> None:
    """The poster's name is the one given (the settings' `FF Analytics Bot`)."""
    assert build_payload(_alert(), username="FF Analytics Bot")["username"] == "FF Analytics Bot"


def test_mentions_are_never_allowed() -> None:
    """Every payload sends `allowed_mentions: {"parse": []}`."""
    payload = build_payload(_alert(description=MENTIONS, title=MENTIONS))
    assert payload["allowed_mentions"] == {"parse": []}


def test_empty_field_value_is_replaced() -> None:
    """Discord rejects an empty field value, so one is never sent."""
    embed = build_payload(_alert(fields=(("Error", ""),)))["embeds"][0]
    assert embed["fields"][0]["value"] == "-"


def test_long_text_is_cut_with_a_visible_marker() -> None:
    """A 20 KB description is cut to the limit and ends with the truncation marker."""
    payload = build_payload(_alert(description="x" * 20_000))
    description = payload["embeds"][0]["description"]
    assert description.endswith(TRUNCATION_MARKER)
    assert payload_problems(payload) == []


def test_more_than_25_fields_are_summarised() -> None:
    """Beyond 25 fields, the last says how many more were left out."""
    fields = tuple((f"f{i}", "v") for i in range(40))
    embed = build_payload(_alert(fields=fields))["embeds"][0]
    assert len(embed["fields"]) == 25
    assert embed["fields"][-1]["value"] == "16 more fields not shown"


def test_total_embed_size_fits_6000() -> None:
    """Many long fields are cut until the embed totals at most 6000 characters."""
    fields = tuple((f"name {i}" * 40, "v" * 5000) for i in range(25))
    payload = build_payload(_alert(fields=fields, description="d" * 9000))
    assert payload_problems(payload) == []


def test_fit_counts_utf16_units() -> None:
    """Astral characters (emoji) count twice, as Discord counts them; none is split."""
    cut = fit("🏈" * 3000, TITLE_LIMIT)
    assert len(cut.encode("utf-16-le")) // 2 <= TITLE_LIMIT
    assert cut.endswith(TRUNCATION_MARKER)
    assert set(cut.removesuffix(TRUNCATION_MARKER)) == {"🏈"}


@given(
    title=st.text(max_size=3000),
    description=st.text(max_size=9000) | st.just(MENTIONS * 400),
    fields=st.lists(st.tuples(st.text(max_size=400), st.text(max_size=2000)), max_size=40).map(
        tuple
    ),
    severity=st.sampled_from(list(Severity)),
)
def test_any_alert_renders_within_every_limit(
    title: str, description: str, fields: tuple[tuple[str, str], ...], severity: Severity
) -> None:
    """Whatever the text (long, unicode, mention-laden), the payload breaks no limit."""
    payload = build_payload(
        _alert(title=title, description=description, fields=fields, severity=severity)
    )
    assert payload_problems(payload) == []
    assert len(payload["content"]) <= CONTENT_LIMIT


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"content": "x" * 2001, "allowed_mentions": {"parse": []}}, "content is 2001"),
        ({"content": "hi"}, "allowed_mentions is not"),
        (
            {
                "embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}],
                "allowed_mentions": {"parse": []},
            },
            f"embed 1 field 1 value is 1025 characters (limit {FIELD_VALUE_LIMIT})",
        ),
        (
            {
                "embeds": [{"description": "d" * 4000}, {"description": "d" * 4000}],
                "allowed_mentions": {"parse": []},
            },
            f"embeds total 8000 characters (limit {EMBEDS_TOTAL_LIMIT})",
        ),
        ({"embeds": [{}] * 11, "allowed_mentions": {"parse": []}}, "11 embeds (limit 10)"),
    ],
)
def test_payload_problems_names_each_broken_limit(payload: dict[str, object], problem: str) -> None:
    """The limit checker reports what a hand-made payload breaks."""
    assert any(problem in p for p in payload_problems(payload))
