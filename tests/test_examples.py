"""The example flows users copy: they run, and their failures are reported."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

from ff_prefect_kit import DbtRunError, load_dbt_mart
from ff_prefect_kit.data import validate_records
from ff_prefect_kit.testing import DiscordWebhookMock

EXAMPLES = Path(__file__).parent.parent / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def template() -> ModuleType:
    """The analytics template flow module."""
    return _load("analytics_template_flow")


@pytest.mark.usefixtures("prefect_test_harness")
def test_hello_world_flow_completes() -> None:
    """The hello-world example runs as a monitored flow and returns its total."""
    assert _load("hello_world_flow").hello_world_flow(players=4) == 31.5


def test_valuation_passes_its_own_schema(template: ModuleType, synthetic_marts: Path) -> None:
    """value_players on the synthetic mart yields rows that all satisfy PlayerValuationOutput."""
    weekly = load_dbt_mart.fn("mrt_fantasy_actuals_weekly", synthetic_marts)
    valued = template.value_players.fn(weekly)
    records = validate_records(valued, template.PlayerValuationOutput)
    assert len(records) == valued.height > 0
    assert valued.select("season", "player_key").is_unique().all()


def test_valuation_ranks_each_position(template: ModuleType, synthetic_marts: Path) -> None:
    """Each season and position has one rank-1 player: the best points per game."""
    valued = template.value_players.fn(
        load_dbt_mart.fn("mrt_fantasy_actuals_weekly", synthetic_marts)
    )
    firsts = valued.filter(valued["positional_rank"] == 1)
    assert firsts.select("season", "position").is_unique().all()
    best = valued.group_by("season", "position").agg(pl.col("points_per_game").max().alias("best"))
    joined = firsts.join(best, on=["season", "position"])
    assert (joined["points_per_game"] == joined["best"]).all()


@pytest.mark.usefixtures("prefect_test_harness")
def test_failing_dbt_model_is_named_in_error_and_alert(
    template: ModuleType,
    synthetic_marts: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    discord_webhook_mock: DiscordWebhookMock,
) -> None:
    """A dbt model that fails ends the flow Failed with DbtRunError, and the one alert names it."""
    project = tmp_path / "dbt_project"
    shutil.copytree(EXAMPLES / "dbt_project", project, ignore=shutil.ignore_patterns("target"))
    (project / "models" / "marts" / "mrt_broken.sql").write_text(
        "select * from a_table_that_does_not_exist\n"
    )
    monkeypatch.setenv("FF_DATA_DIR", str(tmp_path / "data"))

    state = template.analytics_template_flow(
        db_path=str(synthetic_marts),
        dbt_selector="mrt_broken",
        dbt_project_dir=str(project),
        return_state=True,
    )

    assert state.is_failed()
    with pytest.raises(DbtRunError, match="mrt_broken"):
        state.result()
    assert len(discord_webhook_mock.messages) == 1
    assert "mrt_broken" in discord_webhook_mock.messages[0].text
