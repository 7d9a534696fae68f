"""The secrets the kit knows of, and hiding them in any text that leaves the process.

Known secrets: the Discord webhook URL (`DISCORD_WEBHOOK_URL`, and its bare token), the
Prefect API key (`PREFECT_API_KEY`, or Prefect's setting), a self-hosted server's
credential (`PREFECT_API_AUTH_STRING`, and its password), every secret setting of
`KitSettings` (from the environment or `.env`), and the password of every URL with one
in its userinfo (`scheme://user:password@host`) held by an environment variable (a DSN).

Each is hidden in every form it takes in text: as it is; URL-encoded (`quote`,
`quote_plus`); escaped as `repr()` and JSON write it, once or nested twice (a quote or a
backslash in the secret); and, for the secret part of each (a token, a key, a password,
never the public start of a URL), a start of 8 characters or more cut where a shown value
ends (followed by `...` or `…`, or ending the text) and an end of 8 or more shown after
such a mark: how Pydantic, Prefect and the kit shorten long values.

Any webhook token in a Discord webhook URL, and any password in a URL's userinfo, is
hidden as well, known or not (as written, or URL-encoded once).

Out of reach: a secret encoded otherwise (base64, hex, encrypted), split over lines or
values, or shorter than 8 characters.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from ff_prefect_kit._config import state

__all__ = ["REDACTED", "WEBHOOK_URL_PATTERN", "known_secrets", "redact", "redact_data"]

REDACTED = "<redacted>"

_TOKEN_CHARS = r"[A-Za-z0-9_\-]"
WEBHOOK_URL_PATTERN = (
    r"https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com"
    rf"/api(?:/v\d+)?/webhooks/\d{{5,25}}/{_TOKEN_CHARS}{{1,200}}"
)
"""A Discord webhook URL (without a query): `https://discord.com/api/webhooks/<id>/<token>`."""

# A webhook's token wherever it stands, in a full URL or a bare path, as written or
# URL-encoded once.
_TOKEN = re.compile(rf"(/webhooks/\d+/)({_TOKEN_CHARS}+)")
_TOKEN_ENCODED = re.compile(rf"(%2[Ff]webhooks%2[Ff]\d+%2[Ff])({_TOKEN_CHARS}+)")
# The password of a URL's userinfo: `scheme://user:password@host`. It runs to the last
# `@` before a space or a `/`, so a password holding an `@` is hidden whole. The scheme
# is matched from the start of its run of scheme characters only: tried from every letter
# of a long word, it would scan to the word's end each time (a 20 KB word cost 0.8 s).
_SCHEME = r"(?<![A-Za-z0-9+.\-])[0-9+.\-]*[A-Za-z][A-Za-z0-9+.\-]*"
_USERINFO = re.compile(rf"({_SCHEME}://[^\s:/?#@'\"]*:)([^\s/]+)@")
_USERINFO_ENCODED = re.compile(rf"({_SCHEME}%3[Aa]%2[Ff]%2[Ff][^\s%/:@]*%3[Aa])(\S+?)(%40)")
_VARIABLES = (
    "DISCORD_WEBHOOK_URL",
    "PREFECT_API_KEY",
    "PREFECT_API_AUTH_STRING",
    # An object store's credentials (data/_object_store.py), read by obstore itself.
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)
# Shorter values are not hidden: replacing every "abc" in a message would garble it.
_SHORTEST = 8
# How a shortened value shows that it was cut: Pydantic and Prefect write "...", the kit "…".
_CUT_MARKS = ("...", "…")
_CUT_MARK = re.compile(r"\.\.\.|…")


def _settings_file() -> Path:
    return Path(os.environ.get("FF_ENV_FILE") or ".env")


def _prefect_setting(name: str) -> str | None:
    prefect = sys.modules.get("prefect.settings")
    if prefect is None:
        return None
    try:
        value = getattr(prefect, name).value()
        value = value.get_secret_value() if hasattr(value, "get_secret_value") else value
    except Exception:  # a broken Prefect setting is not ours to report here
        return None
    return str(value) if value else None


def _urls_with_passwords() -> tuple[str, ...]:
    """Every environment value holding a URL with a password (a DSN), sorted."""
    return tuple(sorted(value for value in os.environ.values() if "://" in value and "@" in value))


def _cache_key() -> tuple[Any, ...]:
    file = _settings_file()
    try:
        stamp: Any = file.stat().st_mtime_ns
    except OSError:
        stamp = None
    return (
        *(os.environ.get(name) for name in _VARIABLES),
        str(file),
        stamp,
        _prefect_setting("PREFECT_API_KEY"),
        _prefect_setting("PREFECT_API_AUTH_STRING"),
        _urls_with_passwords(),
    )


def _python_escaped(text: str, quote_char: str) -> str:
    """`text` as `repr()` writes it between `quote_char` quotes."""
    out = []
    for char in text:
        if char in ("\\", quote_char):
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        else:
            out.append(repr(char)[1:-1])
    return "".join(out)


def _escapes(text: str) -> set[str]:
    return {
        _python_escaped(text, "'"),
        _python_escaped(text, '"'),
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
    }


def _forms(secret: str) -> set[str]:
    """Every form `secret` takes in text: encoded, escaped, escaped inside an escape."""
    once = _escapes(secret)
    twice = set().union(*(_escapes(form) for form in once))
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)} | once | twice
    return {form for form in forms if len(form) >= _SHORTEST}


def _url_password(value: str) -> str | None:
    match = _USERINFO.search(value)
    return match.group(2) if match else None


def _secret_parts(value: str) -> set[str]:
    """What is secret in `value`: a webhook's token or a URL's password, else all of it."""
    parts = set()
    if match := _TOKEN.search(value):
        parts.add(match.group(2))
    if password := _url_password(value):
        parts.add(password)
    if not parts and "://" not in value:
        parts.add(value)
    return parts


def _settings_secrets() -> list[str]:
    from pydantic import SecretStr

    from ff_prefect_kit._settings import KitSettings

    try:
        settings = KitSettings()
    except Exception:  # malformed settings: the environment's raw values still count
        return []
    return [
        value.get_secret_value()
        for name in type(settings).model_fields
        if isinstance(value := getattr(settings, name), SecretStr)
    ]


@dataclass(frozen=True)
class KnownSecrets:
    """The known secrets of this process, ready to be looked for in text.

    Attributes:
        forms: Every form of every secret, longest first.
        parts: Every form of the secret parts, whose cut starts and ends are hidden too.
    """

    forms: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()
    whole: re.Pattern[str] | None = None
    heads: re.Pattern[str] | None = None
    by_head: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _prepare(whole: set[str], parts: set[str]) -> KnownSecrets:
    forms = tuple(sorted(set().union(*(_forms(s) for s in whole | parts)), key=len, reverse=True))
    part_forms = tuple(sorted(set().union(*(_forms(s) for s in parts)), key=len, reverse=True))
    by_head: dict[str, list[str]] = {}
    for form in part_forms:
        by_head.setdefault(form[:_SHORTEST], []).append(form)
    return KnownSecrets(
        forms=forms,
        parts=part_forms,
        whole=re.compile("|".join(map(re.escape, forms))) if forms else None,
        # A lookahead finds every start, even of overlapping heads.
        heads=(
            re.compile("(?=(" + "|".join(map(re.escape, sorted(by_head))) + "))")
            if by_head
            else None
        ),
        by_head={head: tuple(found) for head, found in by_head.items()},
    )


def _known() -> KnownSecrets:
    key = _cache_key()
    with state.lock:
        if state.secrets_key == key and isinstance(state.secrets_matcher, KnownSecrets):
            return state.secrets_matcher
    variables = [value.strip() for value in key[: len(_VARIABLES)] if value]
    api_key, auth_string, urls = key[-3:]
    whole: set[str] = set()
    parts: set[str] = set()
    for value in [*variables, api_key, auth_string, *_settings_secrets()]:
        if value and value.strip():
            whole.add(value.strip())
            parts |= _secret_parts(value.strip())
    for value in [auth_string, os.environ.get("PREFECT_API_AUTH_STRING")]:
        if value and ":" in value:  # user:password; the user alone is no secret
            parts.discard(value.strip())
            parts.add(value.strip().split(":", 1)[1])
    for value in urls:
        for match in _USERINFO.finditer(value):
            parts.add(match.group(2))
    parts = {part for part in parts if len(part) >= _SHORTEST}
    known = _prepare({w for w in whole if len(w) >= _SHORTEST}, parts)
    with state.lock:
        state.secrets_key, state.secrets, state.secrets_matcher = key, known.forms, known
    return known


def known_secrets() -> tuple[str, ...]:
    """Every known secret, in every form it may appear in, longest first."""
    return _known().forms


def _common_prefix(text: str, start: int, form: str) -> int:
    length = 0
    limit = min(len(form), len(text) - start)
    while length < limit and text[start + length] == form[length]:
        length += 1
    return length


def _cut_here(text: str, end: int) -> bool:
    return end == len(text) or text.startswith(_CUT_MARKS, end)


def _cut_spans(text: str, known: KnownSecrets) -> list[tuple[int, int]]:
    """Where a secret part shows cut: its start before a cut mark, its end after one."""
    spans = []
    if known.heads is not None:
        for match in known.heads.finditer(text):
            start = match.start()
            if start and text[start - 1].isalnum():
                continue  # inside a longer word: not where a value starts
            longest = 0
            for form in known.by_head[match.group(1)]:
                length = _common_prefix(text, start, form)
                if _SHORTEST <= length < len(form) and _cut_here(text, start + length):
                    longest = max(longest, length)
            if longest:
                spans.append((start, start + longest))
    for mark in _CUT_MARK.finditer(text):
        begin = mark.end()
        window = text[begin : begin + _SHORTEST]
        if len(window) < _SHORTEST:
            continue
        longest = 0
        for form in known.parts:
            at = form.find(window, 1)  # the earliest match is the longest end
            while at != -1:
                end = begin + len(form) - at
                if text.startswith(form[at:], begin) and (
                    end == len(text) or not text[end].isalnum()
                ):
                    longest = max(longest, len(form) - at)
                    break
                at = form.find(window, at + 1)
        if longest:
            spans.append((begin, begin + longest))
    return spans


def _hide(text: str, spans: list[tuple[int, int]]) -> str:
    pieces = []
    position = 0
    for start, end in sorted(spans):
        if end <= position:
            continue
        pieces.append(text[position : max(start, position)])
        pieces.append(REDACTED)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def redact(text: str) -> str:
    """`text` with every webhook token, URL password and known secret replaced by `<redacted>`.

    Args:
        text: Any text about to leave the process (an alert, a log line, a state message).

    Returns:
        The text, each secret in any of its forms (see the module's docstring) hidden.
    """
    if not text:
        return text
    text = _TOKEN.sub(rf"\g<1>{REDACTED}", text)
    text = _TOKEN_ENCODED.sub(rf"\g<1>{REDACTED}", text)
    known = _known()
    if known.whole is not None:
        text = known.whole.sub(REDACTED, text)
    # After the known forms: a known password holding an `@` is hidden whole first.
    if "://" in text:
        text = _USERINFO.sub(rf"\g<1>{REDACTED}@", text)
    if "%3" in text:
        text = _USERINFO_ENCODED.sub(rf"\g<1>{REDACTED}\g<3>", text)
    if known.parts and (spans := _cut_spans(text, known)):
        text = _hide(text, spans)
    return text


def redact_data(value: Any) -> Any:
    """`value` with `redact` applied to every text in it: strings in lists, tuples and dicts.

    For the content of artifacts (a table's rows) and other structured text.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_data(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_data(item) for item in value)
    return value
