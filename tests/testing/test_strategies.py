"""ff_prefect_kit.testing.strategies: Hypothesis data that keeps the mart's contract."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import Phase, find, given, settings

from ff_prefect_kit.testing import MART_COLUMNS, POSITIONS
from ff_prefect_kit.testing.strategies import POLARS_SCHEMA, mart_frames, mart_rows


@settings(max_examples=30)
@given(mart_frames())
def test_frames_have_the_contract_columns_and_dtypes(frame: pl.DataFrame) -> None:
    """Every frame has exactly the mart's columns, in order, with the contract's dtypes."""
    assert frame.columns == list(MART_COLUMNS)
    assert dict(frame.schema) == POLARS_SCHEMA


@given(mart_rows())
def test_unmapped_players_have_no_display_name(row: dict[str, Any]) -> None:
    """A row with player_id -1 has no display name; a mapped one has one."""
    assert (row["player_id"] == -1) == (row["display_name"] is None)


@given(mart_rows())
def test_season_type_follows_the_week(row: dict[str, Any]) -> None:
    """Weeks 1-18 are regular or preseason, 19-22 a playoff type the schema allows."""
    assert 1 <= row["week"] <= 22
    allowed = {"REG", "PRE"} if row["week"] <= 18 else {"POST", "WC", "DIV", "CON", "SB"}
    assert row["season_type"] in allowed


@given(mart_rows())
def test_positions_are_the_real_marts(row: dict[str, Any]) -> None:
    """Every position drawn is one of the 23 the real mart holds."""
    assert row["position"] in POSITIONS


@settings(max_examples=30)
@given(mart_frames(min_rows=1))
def test_keys_are_unique(frame: pl.DataFrame) -> None:
    """(player_key, season, week, season_type) is unique, as the mart's dbt test demands."""
    keys = frame.select("player_key", "season", "week", "season_type")
    assert keys.is_unique().all()


EDGE_CASES = {
    "last regular-season week": lambda r: r["week"] == 18,
    "playoff week": lambda r: r["season_type"] == "POST",
    "a playoff round as its own season type": lambda r: r["season_type"] == "WC",
    "a special teams player": lambda r: r["position"] == "LS",
    "an offensive lineman": lambda r: r["position"] == "OT",
    "unmapped player": lambda r: r["player_id"] == -1,
    "negative points": lambda r: r["fantasy_points"] < 0,
    "null stat": lambda r: r["passing_yards"] is None,
    "unicode name": lambda r: r["display_name"] is not None and not r["display_name"].isascii(),
}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge_case_is_reachable(case: str) -> None:
    """Each promised edge case is generated."""
    # The first row found is enough: no shrinking it to the smallest (most of the cost).
    no_shrinking = settings(database=None, max_examples=2000, phases=[Phase.generate])
    found = find(mart_rows(), EDGE_CASES[case], settings=no_shrinking)
    assert EDGE_CASES[case](found)
