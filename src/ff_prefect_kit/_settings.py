"""Settings read from the environment and from a `.env` file in the working directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ff_prefect_kit._errors import ConfigError

__all__ = ["AUTOMATION_BLOCK_NAME", "DEFAULT_BLOCK_NAME", "KitSettings"]

DEFAULT_BLOCK_NAME = "ff-analytics-alerts"
"""The name the kit's setup saves the Discord block under, and flows load it by."""

AUTOMATION_BLOCK_NAME = "ff-analytics-automation-alerts"
"""The name of the webhook block `automations install` saves from DISCORD_WEBHOOK_URL."""

LOCAL_API_STARTUP_SECONDS = 180
"""Seconds a first run waits for Prefect's local API when nobody set its start-up timeout.

A new Prefect home's first start migrates its database: 30 to 55 s on a slow machine
without compiled bytecode, against Prefect's 20 s. `init` writes the same figure to `.env`.
"""

_WHERE = "set it in the environment or in a .env file in the working directory (see .env.example)"


def _optional(variable: str, field: str) -> Any:
    # Both the variable's name and the field's name are accepted, so code can
    # say KitSettings(duckdb_path=...) while the environment says FF_DUCKDB_PATH.
    return Field(default=None, validation_alias=AliasChoices(variable, field))


class KitSettings(BaseSettings):
    """The kit's configuration, from the environment and `.env`.

    Secrets are `SecretStr`: they never appear in a repr, a log line or an error.
    A value that a feature needs but that is missing raises `ConfigError` through
    `require()`, naming the variable and where to set it.
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
        hide_input_in_errors=True,
        populate_by_name=True,
        frozen=True,
    )

    prefect_api_url: str | None = _optional("PREFECT_API_URL", "prefect_api_url")
    discord_webhook_url: SecretStr | None = _optional("DISCORD_WEBHOOK_URL", "discord_webhook_url")
    data_dir: Path = Field(
        default=Path("data"), validation_alias=AliasChoices("FF_DATA_DIR", "data_dir")
    )
    # Outputs in a bucket instead (docs/object-storage.md): `s3://bucket/prefix`.
    analytics_url: str | None = _optional("FF_ANALYTICS_URL", "analytics_url")
    duckdb_path: Path | None = _optional("FF_DUCKDB_PATH", "duckdb_path")
    dbt_project_dir: Path | None = _optional("FF_DBT_PROJECT_DIR", "dbt_project_dir")
    alert_state_file: Path | None = _optional("FF_ALERT_STATE_FILE", "alert_state_file")
    alert_username: str = Field(
        default="FF Analytics Bot",
        validation_alias=AliasChoices("FF_ALERT_USERNAME", "alert_username"),
    )
    # On a laptop: alerts to a receiver on this machine (docs/alerting.md), never elsewhere.
    alert_allow_loopback: bool = Field(
        default=False,
        validation_alias=AliasChoices("FF_ALERT_ALLOW_LOOPBACK", "alert_allow_loopback"),
    )

    @field_validator("analytics_url")
    @classmethod
    def _an_s3_url(cls, value: str | None) -> str | None:
        if value is not None and value[:5].lower() != "s3://":
            raise ValueError(
                "must be an s3:// URL, e.g. s3://ff-analytics/outputs (for a local folder, "
                "set FF_DATA_DIR instead)"
            )
        return value

    def __init__(self, **values: Any) -> None:
        # FF_ENV_FILE names another dotenv file, or os.devnull for none: a test suite
        # must not pick up a developer's real webhook from ./.env.
        values.setdefault("_env_file", os.environ.get("FF_ENV_FILE") or ".env")
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(_describe(exc)) from None
        except UnicodeDecodeError:
            raise ConfigError(
                f"{values['_env_file']} is not UTF-8 text: save it as UTF-8, or point "
                "FF_ENV_FILE at another file"
            ) from None

    @property
    def analytics_dir(self) -> Path:
        """The local root under which analytics Parquet outputs are written."""
        return self.data_dir / "analytics"

    @property
    def analytics_root(self) -> str | Path:
        """Where outputs go: `FF_ANALYTICS_URL` when set, else `analytics_dir`."""
        return self.analytics_url or self.analytics_dir

    def require(self, field: str) -> Any:
        """Return a setting that a feature needs.

        Args:
            field: The field's name, e.g. `"duckdb_path"`.

        Returns:
            The value, never `None`.

        Raises:
            ConfigError: The value is not set; the message names the variable.
        """
        if field not in type(self).model_fields:
            raise ConfigError(f"KitSettings has no setting named {field!r}")
        value = getattr(self, field)
        if value is None:
            raise ConfigError(f"{env_name(field)} is not set: {_WHERE}.")
        return value


def env_name(field: str) -> str:
    """The environment variable that sets a `KitSettings` field."""
    alias = KitSettings.model_fields[field].validation_alias
    assert isinstance(alias, AliasChoices)
    first = alias.choices[0]
    assert isinstance(first, str)
    return first


def diverging_duckdb_paths(
    loaders: str | os.PathLike[str] | None,
    dbt: str | os.PathLike[str] | None,
    project: Path,
    cwd: Path | None = None,
) -> tuple[Path, Path] | None:
    """The two files a relative `FF_DUCKDB_PATH` makes of one; `None` when it is one.

    The mart loaders open their path from the working directory, while dbt runs in the
    project directory, where a profile reading `FF_DUCKDB_PATH` opens it.

    Args:
        loaders: `FF_DUCKDB_PATH` as the kit's settings read it.
        dbt: `FF_DUCKDB_PATH` as dbt's environment has it.
        project: The dbt project directory.
        cwd: The loaders' working directory; default this process's.

    Returns:
        The loaders' file and dbt's, both absolute, when they differ and one of the two
        paths is relative; `None` when either is unset, both are absolute (a choice made
        on purpose), or both name one file.
    """
    if loaders is None or dbt is None:
        return None
    if Path(loaders).is_absolute() and Path(dbt).is_absolute():
        return None
    here = ((cwd or Path.cwd()) / loaders).resolve()
    there = (project / dbt).resolve()
    return None if here == there else (here, there)


def _variable_for(loc: str) -> str:
    for field in KitSettings.model_fields:
        variable = env_name(field)
        if loc.lower() in (field, variable.lower()):
            return variable
    return loc.upper()


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = str(error["loc"][0]) if error["loc"] else "settings"
        problems.append(f"{_variable_for(loc)}: {error['msg']}")
    return "Invalid settings: " + "; ".join(problems) + f". Fix the value: {_WHERE}."
