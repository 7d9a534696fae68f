"""The example flows users copy: they run, and their failures are reported."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest
from hypothesis import given, settings

from ff_prefect_kit import DbtRunError, SchemaValidationError, load_dbt_mart, validate_frame
from ff_prefect_kit.data import validate_records
from ff_prefect_kit.testing import POSITIONS, DiscordWebhookMock
from ff_prefect_kit.testing.strategies import POLARS_SCHEMA, mart_frames

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


@settings(max_examples=150)
@given(frame=mart_frames(min_rows=1, max_rows=40))
def test_valuation_runs_on_any_frame_of_the_real_marts_domain(
    template: ModuleType, frame: pl.DataFrame
) -> None:
    """Any mart frame of the real domain (23 positions, all season types) values and validates."""
    valued = template.value_players.fn(frame)
    validate_frame.fn(valued, template.PlayerValuationOutput, allow_empty=True)
    assert set(valued["position"].unique()) <= set(template.REPLACEMENT_RANK)


def test_every_position_of_the_real_mart_is_valued_or_left_out_on_purpose(
    template: ModuleType,
) -> None:
    """Each of the 23 real positions is in a fantasy group or among those not valued."""
    assert set(POSITIONS) == set(template.FANTASY_GROUP) - {"DL"} | template.NOT_VALUED


def test_an_unknown_position_stops_at_validation_naming_it(template: ModuleType) -> None:
    """A position the valuation does not know fails validation, naming the value."""
    frame = pl.DataFrame(
        [{**row, "position": "XX"} for row in _one_row_frame().to_dicts()],
        schema=POLARS_SCHEMA,
    )
    with pytest.raises(SchemaValidationError, match="position='XX'"):
        validate_frame.fn(template.value_players.fn(frame), template.PlayerValuationOutput)


def _one_row_frame() -> pl.DataFrame:
    row = dict.fromkeys(POLARS_SCHEMA)
    row.update(
        player_id=-1,
        player_key="00-0000001",
        season=2024,
        week=1,
        season_type="REG",
        position="QB",
        games_played=1,
        fantasy_points=12.5,
    )
    return pl.DataFrame([row], schema=POLARS_SCHEMA)


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
