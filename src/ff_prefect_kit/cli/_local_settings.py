"""`init`: the `.env` a project needs to run flows on Prefect's local API, kept out of git.

The two Prefect settings are defined here and nowhere else: `init` writes them into a
project's `.env`, `embedded_defaults` gives them to the kit's own commands, and the
repository's `.env.example` ends with `LOCAL_SETTINGS_TEXT` word for word (a test checks;
`.env.example` is not in the wheel, so `init` cannot read it).

`init` never overwrites: a key `.env` already sets is left as it is (a commented-out line
does not set it), the missing ones are appended, and nothing else in the file changes.
Running it again changes nothing.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Annotated

import typer

from ff_prefect_kit._settings import LOCAL_API_STARTUP_SECONDS
from ff_prefect_kit.cli._output import console, run_command

__all__ = ["LOCAL_SETTINGS", "LOCAL_SETTINGS_TEXT", "init", "local_settings_text"]

LOCAL_SETTINGS: tuple[tuple[str, str], ...] = (
    # The first start on a new Prefect home migrates a fresh database: on a slow or busy
    # machine, or without compiled bytecode, that takes longer than Prefect's 20 s.
    ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(LOCAL_API_STARTUP_SECONDS)),
    # Offline, the ephemeral server's telemetry cannot be sent and logs an error.
    ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
)
"""The Prefect settings for local runs on the ephemeral API: (variable, value)."""

_COMMENT = """\
# Running flows locally on Prefect's ephemeral API (no PREFECT_API_URL), `python my_flow.py`:
# Prefect reads these from .env too. The first start migrates a fresh database and can take
# longer than Prefect's 20 s on a slow machine; an offline machine cannot send Prefect's
# server telemetry and would log an error for it. `ff-prefect-kit init` writes these lines.
"""


def local_settings_text(names: tuple[str, ...] | None = None) -> str:
    """The `.env` lines for the local settings `names` (default all), with their comment."""
    chosen = [(n, v) for n, v in LOCAL_SETTINGS if names is None or n in names]
    return _COMMENT + "".join(f"{name}={value}\n" for name, value in chosen)


LOCAL_SETTINGS_TEXT = local_settings_text()
"""What `.env.example` ends with, and what `init` writes into a new `.env`."""

_KEY = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=", re.MULTILINE)
_IGNORED = ".env"


def init(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Option("--dir", help="The project folder (default: the current one).")
    ] = Path("."),
) -> int:
    """Write the project's .env for local runs, and keep .env out of git.

    Adds PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=180 and
    PREFECT_SERVER_ANALYTICS_ENABLED=false to .env (creating it), so that the first
    `python my_flow.py` on a new machine starts Prefect's local API in time and stays
    quiet offline. A key .env already sets is left as it is; nothing else in .env is
    changed. Adds .env to .gitignore (creating it). Running it again changes nothing.
    """

    def run() -> int:
        _check_directory(directory)
        env_file, gitignore = directory / ".env", directory / ".gitignore"
        # Both files are read, and found usable, before either is written.
        env_text, ignore_text = _read_text(env_file), _read_text(gitignore)
        added, kept = _add_settings(env_file, env_text)
        ignore_note = _ignore_env(gitignore, ignore_text)
        out = console()
        shown = _shown(env_file)
        if added:
            verb = "created with" if env_text is None else "added"
            out.print(f"✔ {shown}: {verb} {', '.join(added)}", markup=False)
        if kept:
            out.print(f"✔ {shown} already sets {', '.join(kept)} (kept as set)", markup=False)
        out.print(f"✔ {_shown(gitignore)}: {ignore_note}", markup=False)
        out.print("Next:", markup=False)
        out.print(
            "  ff-prefect-kit new-flow weekly_points   a flow, its tasks and its test",
            markup=False,
        )
        out.print("  ff-prefect-kit doctor                   check this setup", markup=False)
        out.print(
            f"  Put DISCORD_WEBHOOK_URL=... in {shown} to get alerts in Discord "
            "(without it they are printed).",
            markup=False,
        )
        return 0

    return run_command(ctx, run)


def _shown(path: Path) -> str:
    return path.name if path.parent.resolve() == Path.cwd().resolve() else str(path)


def _check_directory(directory: Path) -> None:
    from ff_prefect_kit._errors import InvalidOptionError

    if not directory.is_dir():
        raise InvalidOptionError(
            f"--dir {str(directory)!r} is not an existing folder: create it first, or pass "
            "the project folder"
        )


def _read_text(path: Path) -> str | None:
    """The text of `path`, `None` when it does not exist; a clear error when unusable."""
    from ff_prefect_kit._errors import ConfigError

    if not os.path.lexists(path):
        return None
    if not path.is_file():
        raise ConfigError(f"{path} is not a file: move it away, then run init again")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}): save it as UTF-8, "
            "then run init again"
        ) from None


def _append(path: Path, existing: str | None, text: str) -> None:
    """Append `text` to `path` on a line of its own; a new file is readable by its owner only."""
    if existing is None:
        # .env holds secrets once a webhook or an API key is added to it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        return
    separator = "" if existing == "" or existing.endswith("\n") else "\n"
    with path.open("a", encoding="utf-8") as file:
        file.write(separator + ("\n" if existing.strip() else "") + text)


def _add_settings(env_file: Path, existing: str | None) -> tuple[list[str], list[str]]:
    """Append the local settings `env_file` (now `existing`) lacks; return (added, kept)."""
    present = {key.upper() for key in _KEY.findall(existing or "")}
    kept = [name for name, _ in LOCAL_SETTINGS if name in present]
    missing = tuple(name for name, _ in LOCAL_SETTINGS if name not in present)
    if missing:
        _append(env_file, existing, local_settings_text(missing))
    return [f"{n}={v}" for n, v in LOCAL_SETTINGS if n in missing], kept


def _ignores_env(gitignore: str) -> bool:
    """Whether these .gitignore lines ignore the file `.env` beside them (the last match wins)."""
    ignored = False
    for raw in gitignore.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:] if negated else line
        pattern = pattern.removeprefix("**/").removeprefix("/")
        if "/" in pattern:  # a folder pattern, or one below a folder: not this file
            continue
        if fnmatch.fnmatchcase(_IGNORED, pattern):
            ignored = not negated
    return ignored


def _ignore_env(gitignore: Path, existing: str | None) -> str:
    """Add `.env` to `gitignore` (now `existing`) unless it ignores it; say what was done."""
    if existing is not None and _ignores_env(existing):
        return "already ignores .env"
    separator = "" if not existing or existing.endswith("\n") else "\n"
    if existing is None:
        gitignore.write_text(f"{_IGNORED}\n", encoding="utf-8")
        return "created, ignoring .env"
    with gitignore.open("a", encoding="utf-8") as file:
        file.write(f"{separator}{_IGNORED}\n")
    return "added .env"
