"""KitSettings: environment, .env, secrets and missing values."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from ff_prefect_kit import ConfigError, KitSettings

TOKEN = "s3cr3t-T0KEN-abcdefghijklmnopqrstuvwxyz"
WEBHOOK = f"https://discord.com/api/webhooks/123456789012345678/{TOKEN}"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run each test in an empty directory with none of the kit's variables set."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "FF_ENV_FILE",
        "PREFECT_API_URL",
        "PREFECT_API_KEY",
        "DISCORD_WEBHOOK_URL",
        "FF_DATA_DIR",
        "FF_DUCKDB_PATH",
        "FF_DBT_PROJECT_DIR",
        "FF_ALERT_USERNAME",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_defaults() -> None:
    """With nothing configured, the documented defaults apply."""
    settings = KitSettings()
    assert settings.data_dir == Path("data")
    assert settings.analytics_dir == Path("data/analytics")
    assert settings.alert_username == "FF Analytics Bot"
    assert settings.discord_webhook_url is None


def test_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Variables in the environment set the matching fields."""
    monkeypatch.setenv("FF_DATA_DIR", "/srv/data")
    monkeypatch.setenv("FF_DUCKDB_PATH", "/srv/dbt.duckdb")
    monkeypatch.setenv("FF_ALERT_USERNAME", "Bot")
    settings = KitSettings()
    assert settings.data_dir == Path("/srv/data")
    assert settings.duckdb_path == Path("/srv/dbt.duckdb")
    assert settings.alert_username == "Bot"


def test_reads_dotenv_in_working_directory(tmp_path: Path) -> None:
    """A .env file in the working directory is read."""
    (tmp_path / ".env").write_text(f"FF_DBT_PROJECT_DIR=dbt\nDISCORD_WEBHOOK_URL={WEBHOOK}\n")
    settings = KitSettings()
    assert settings.dbt_project_dir == Path("dbt")
    assert settings.discord_webhook_url is not None
    assert settings.discord_webhook_url.get_secret_value() == WEBHOOK


def test_environment_wins_over_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment overrides .env, as a deployment expects."""
    (tmp_path / ".env").write_text("FF_DATA_DIR=from-dotenv\n")
    monkeypatch.setenv("FF_DATA_DIR", "from-env")
    assert KitSettings().data_dir == Path("from-env")


def test_fields_can_be_given_by_name() -> None:
    """Code can pass values by field name."""
    assert KitSettings(data_dir=Path("x")).data_dir == Path("x")


@pytest.mark.parametrize(
    ("field", "variable"),
    [
        ("discord_webhook_url", "DISCORD_WEBHOOK_URL"),
        ("duckdb_path", "FF_DUCKDB_PATH"),
        ("dbt_project_dir", "FF_DBT_PROJECT_DIR"),
    ],
)
def test_require_missing_names_the_variable(field: str, variable: str) -> None:
    """A missing value that a feature needs raises ConfigError naming the variable and .env."""
    with pytest.raises(ConfigError, match=rf"{variable} is not set.*\.env\.example"):
        KitSettings().require(field)


def test_require_unknown_field_is_a_config_error() -> None:
    """Asking for a setting that does not exist is a ConfigError, not an AttributeError."""
    with pytest.raises(ConfigError, match="no setting named 'webhook'"):
        KitSettings().require("webhook")


def test_require_returns_present_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """A present value is returned as is."""
    monkeypatch.setenv("FF_DUCKDB_PATH", "marts.duckdb")
    assert KitSettings().require("duckdb_path") == Path("marts.duckdb")


def test_secret_absent_from_repr_and_str(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither repr nor str of the settings shows a secret."""
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", WEBHOOK)
    settings = KitSettings()
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert TOKEN not in repr(settings.model_dump())


def test_secret_absent_from_log_lines(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Logging the settings object writes no secret."""
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", WEBHOOK)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("tests").info("settings: %s %r", KitSettings(), KitSettings())
    assert TOKEN not in caplog.text
    assert "settings:" in caplog.text


def test_malformed_value_names_variable_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A value that cannot be parsed raises ConfigError naming the variable, not the value."""
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", WEBHOOK)
    with pytest.raises(ConfigError) as caught:
        KitSettings(alert_username=["not", "a", "string", TOKEN])  # type: ignore[arg-type]
    assert "FF_ALERT_USERNAME" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None


def test_empty_values_count_as_unset(tmp_path: Path) -> None:
    """`VAR=` in .env (as in a copied .env.example) is treated as not set."""
    (tmp_path / ".env").write_text("FF_DUCKDB_PATH=\nDISCORD_WEBHOOK_URL=\nFF_DATA_DIR=\n")
    settings = KitSettings()
    assert settings.duckdb_path is None
    assert settings.discord_webhook_url is None
    assert settings.data_dir == Path("data")


def test_env_example_lists_every_variable() -> None:
    """.env.example documents each variable the settings read."""
    from ff_prefect_kit._settings import env_name

    example = (Path(__file__).parent.parent / ".env.example").read_text()
    for field in KitSettings.model_fields:
        assert env_name(field) in example


def test_ff_env_file_replaces_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FF_ENV_FILE names the dotenv file to read instead of ./.env."""
    (tmp_path / ".env").write_text("FF_DATA_DIR=from-dotenv\n")
    (tmp_path / "ci.env").write_text("FF_DATA_DIR=from-ci\n")
    monkeypatch.setenv("FF_ENV_FILE", str(tmp_path / "ci.env"))
    assert KitSettings().data_dir == Path("from-ci")


def test_ff_env_file_devnull_reads_no_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FF_ENV_FILE=/dev/null turns dotenv reading off, as the kit's own suite does."""
    (tmp_path / ".env").write_text(f"DISCORD_WEBHOOK_URL={WEBHOOK}\n")
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    assert KitSettings().discord_webhook_url is None


def test_a_dotenv_that_is_not_utf8_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A .env saved in another encoding: ConfigError naming the file and the fix."""
    env = tmp_path / "latin1.env"
    env.write_bytes("FF_ALERT_USERNAME=Jos\xe9\n".encode("latin-1"))
    monkeypatch.setenv("FF_ENV_FILE", str(env))
    with pytest.raises(ConfigError, match=r"latin1\.env is not UTF-8 text: save it as UTF-8"):
        KitSettings()


def test_an_analytics_url_that_is_not_s3_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """FF_ANALYTICS_URL=/srv/out: ConfigError naming the variable and FF_DATA_DIR for folders."""
    monkeypatch.setenv("FF_ANALYTICS_URL", "/srv/out")
    with pytest.raises(ConfigError, match=r"FF_ANALYTICS_URL: .*s3://.*FF_DATA_DIR"):
        KitSettings()
