"""A Discord webhook message for an alert, within every documented Discord limit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ff_prefect_kit.alerts._model import Alert, escape_controls

__all__ = [
    "CONTENT_LIMIT",
    "TRUNCATION_MARKER",
    "build_payload",
    "fit",
    "payload_problems",
]

# Discord's documented limits for a webhook message and its embeds.
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
EMBEDS_TOTAL_LIMIT = 6000
EMBED_COUNT_LIMIT = 10
USERNAME_LIMIT = 80

TRUNCATION_MARKER = "… [truncated]"


def _length(text: str) -> int:
    # Discord counts UTF-16 code units (it is JavaScript); never fewer than code points.
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int) -> str:
    """Cut `text` to `limit` Discord characters, ending with a visible marker."""
    if _length(text) <= limit:
        return text
    room = max(limit - _length(TRUNCATION_MARKER), 0)
    cut = text[:room]
    while (over := _length(cut) - room) > 0:
        # A code point is one or two units: dropping half the excess never cuts too much.
        cut = cut[: len(cut) - (over + 1) // 2]
    return (cut + TRUNCATION_MARKER) if limit >= _length(TRUNCATION_MARKER) else cut


def _embed_size(embed: Mapping[str, Any]) -> int:
    size = _length(embed.get("title", "")) + _length(embed.get("description", ""))
    for item in embed.get("fields", []):
        size += _length(item["name"]) + _length(item["value"])
    size += _length(embed.get("footer", {}).get("text", ""))
    size += _length(embed.get("author", {}).get("name", ""))
    return size


def _shrink_to_total(embed: dict[str, Any]) -> None:
    """Cut the longest texts of an embed until it fits the 6000-character total."""
    floor = _length(TRUNCATION_MARKER) + 1
    while (excess := _embed_size(embed) - EMBEDS_TOTAL_LIMIT) > 0:
        slots: list[tuple[int, int, str]] = []
        if embed.get("description"):
            slots.append((_length(embed["description"]), -1, "description"))
        for i, item in enumerate(embed["fields"]):
            slots.extend([(_length(item["value"]), i, "value"), (_length(item["name"]), i, "name")])
        size, index, key = max(slots, default=(0, -1, ""))
        if size <= floor:
            if not embed["fields"]:
                return
            embed["fields"].pop()  # nothing left to cut: drop the last fact
            continue
        target = max(size - excess, floor)
        if index < 0:
            embed["description"] = fit(embed["description"], target)
        else:
            embed["fields"][index][key] = fit(embed["fields"][index][key], target)


def build_payload(
    alert: Alert, *, username: str | None = None, avatar_url: str | None = None
) -> dict[str, Any]:
    """Render an alert as a Discord webhook message within every Discord limit.

    Args:
        alert: The alert.
        username: The name the message is posted under.
        avatar_url: The avatar the message is posted with.

    Returns:
        The JSON body: content `<emoji> <title>`, one embed, no mentions allowed.
    """
    # Control characters written out first (an ANSI escape reaches no one raw), then cut.
    alert = replace(
        alert,
        title=escape_controls(alert.title),
        description=escape_controls(alert.description),
        fields=tuple((escape_controls(n), escape_controls(v)) for n, v in alert.fields),
    )
    embed: dict[str, Any] = {
        "title": fit(alert.title or alert.severity.value, TITLE_LIMIT),
        "color": alert.severity.colour,
        "timestamp": alert.timestamp.isoformat(),
    }
    if alert.description:
        embed["description"] = fit(alert.description, DESCRIPTION_LIMIT)
    if alert.url and alert.url.startswith(("https://", "http://")):
        embed["url"] = alert.url
    fields = list(alert.fields)
    if len(fields) > FIELD_COUNT_LIMIT:
        hidden = len(fields) - (FIELD_COUNT_LIMIT - 1)
        fields = [*fields[: FIELD_COUNT_LIMIT - 1], ("More", f"{hidden} more fields not shown")]
    embed["fields"] = [
        {
            "name": fit(name or "-", FIELD_NAME_LIMIT),
            # Discord rejects an empty field value.
            "value": fit(value or "-", FIELD_VALUE_LIMIT),
            "inline": False,
        }
        for name, value in fields
    ]
    _shrink_to_total(embed)
    payload: dict[str, Any] = {
        "content": fit(alert.headline, CONTENT_LIMIT),
        "embeds": [embed],
        # An exception text that says @everyone or <@&role> must ping nobody.
        "allowed_mentions": {"parse": []},
    }
    if username:
        payload["username"] = fit(escape_controls(username), USERNAME_LIMIT)
    if avatar_url:
        payload["avatar_url"] = avatar_url
    return payload


def payload_problems(payload: Mapping[str, Any]) -> list[str]:
    """Every way `payload` breaks Discord's limits or lets a mention through.

    Args:
        payload: A webhook message body.

    Returns:
        One sentence per problem; empty when the payload is fine.
    """
    problems = []

    def check(what: str, text: str, limit: int) -> None:
        if _length(text) > limit:
            problems.append(f"{what} is {_length(text)} characters (limit {limit})")

    check("content", payload.get("content") or "", CONTENT_LIMIT)
    embeds = payload.get("embeds") or []
    if len(embeds) > EMBED_COUNT_LIMIT:
        problems.append(f"{len(embeds)} embeds (limit {EMBED_COUNT_LIMIT})")
    for n, embed in enumerate(embeds, 1):
        check(f"embed {n} title", embed.get("title", ""), TITLE_LIMIT)
        check(f"embed {n} description", embed.get("description", ""), DESCRIPTION_LIMIT)
        fields = embed.get("fields", [])
        if len(fields) > FIELD_COUNT_LIMIT:
            problems.append(f"embed {n} has {len(fields)} fields (limit {FIELD_COUNT_LIMIT})")
        for m, item in enumerate(fields, 1):
            check(f"embed {n} field {m} name", item.get("name", ""), FIELD_NAME_LIMIT)
            check(f"embed {n} field {m} value", item.get("value", ""), FIELD_VALUE_LIMIT)
            if not item.get("value"):
                problems.append(f"embed {n} field {m} has an empty value")
    total = sum(_embed_size(e) for e in embeds)
    if total > EMBEDS_TOTAL_LIMIT:
        problems.append(f"embeds total {total} characters (limit {EMBEDS_TOTAL_LIMIT})")
    if payload.get("allowed_mentions") != {"parse": []}:
        problems.append('allowed_mentions is not {"parse": []}: mentions would ping')
    return problems
