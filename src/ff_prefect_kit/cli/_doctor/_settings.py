"""The check that the kit's settings (the environment and `.env`) parse."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ff_prefect_kit.cli._doctor._result import CheckResult, describe, fail, ok

if TYPE_CHECKING:
    from ff_prefect_kit._settings import KitSettings

__all__ = ["load_settings", "settings_file"]


def settings_file() -> Path:
    """The `.env` file the settings are read from."""
    return Path(os.environ.get("FF_ENV_FILE") or ".env")


def load_settings(load: Callable[[], KitSettings]) -> tuple[KitSettings | None, CheckResult]:
    """The settings `load` reads (`None` when they do not parse), and the check's result."""
    from ff_prefect_kit._errors import ConfigError

    name = "Settings"
    file = settings_file()
    try:
        if file.is_file():
            file.read_bytes().decode("utf-8")
        settings = load()
    except UnicodeDecodeError as exc:
        return None, fail(
            name,
            f"{file} is not UTF-8 text ({exc.reason} at byte {exc.start})",
            f"save {file} as UTF-8, one NAME=value a line",
        )
    except ConfigError as exc:
        return None, fail(
            name,
            describe(exc).removeprefix("ConfigError: "),
            "correct the variable named above in the environment or in .env",
        )
    except OSError as exc:
        return None, fail(name, f"cannot read {file}: {describe(exc)}", f"check {file}")
    source = f"the environment and {file}" if file.is_file() else "the environment (no .env)"
    return settings, ok(name, f"read from {source}")
