"""Hypothesis strategies for rows and frames of `mrt_fantasy_actuals_weekly`.

Generated values follow the mart's contract (`ff_prefect_kit.testing.MART_COLUMNS`)
and its real value domain (the 23 positions, every season type the schema allows),
and lean on its edge cases: unmapped players (`player_id` -1, no `display_name`),
nulls where the schema allows them, negative points, the last regular-season week
and playoff weeks, and unicode names. Needs `hypothesis` (a test dependency).
"""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import strategies as st

from ff_prefect_kit.testing._contract import (
    ALLOWED_SEASON_TYPES,
    MART_COLUMNS,
    POSITIONS,
    STAT_COLUMNS,
)

__all__ = ["POLARS_SCHEMA", "mart_frames", "mart_rows"]

_POLARS_TYPES = {
    "BIGINT": pl.Int64,
    "INTEGER": pl.Int32,
    "DOUBLE": pl.Float64,
    "VARCHAR": pl.String,
}

POLARS_SCHEMA: dict[str, Any] = {name: _POLARS_TYPES[t] for name, t in MART_COLUMNS.items()}
"""The mart's columns with their Polars dtypes, in contract order."""

_LAST_REGULAR_WEEK = 18
_TEAMS = ("ARI", "BAL", "BUF", "KC", "PHI", "SF", "DAL", "GB", "NYJ", "LAR")
_names = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "M", "Zs", "Pd")),
    min_size=1,
    max_size=30,
)
_stat = st.one_of(
    st.none(),
    st.just(0.0),
    st.floats(min_value=-5, max_value=600, allow_nan=False, allow_infinity=False),
)


_PLAYOFF_TYPES = tuple(t for t in ALLOWED_SEASON_TYPES if t not in ("REG", "PRE"))


def _season_type(draw: st.DrawFn, week: int) -> str:
    # The real mart says REG and POST; its schema also allows the playoff rounds and PRE.
    if week <= _LAST_REGULAR_WEEK:
        return str(draw(st.sampled_from(("REG", "REG", "PRE"))))
    return str(draw(st.sampled_from(_PLAYOFF_TYPES)))


@st.composite
def mart_rows(draw: st.DrawFn, *, season: int | None = None) -> dict[str, Any]:
    """One row of the mart, as a dict in contract column order.

    Args:
        draw: Hypothesis's draw function (supplied by `st.composite`).
        season: Fix the season; any from 1999 to 2030 otherwise.
    """
    mapped = draw(st.booleans())
    # The regular season's last week and the playoffs are where code breaks: weight them.
    week = draw(st.one_of(st.sampled_from((1, _LAST_REGULAR_WEEK, 19, 22)), st.integers(1, 22)))
    row: dict[str, Any] = {
        "player_id": draw(st.integers(min_value=1, max_value=2**40)) if mapped else -1,
        "player_key": draw(st.from_regex(r"\A[a-z0-9_:]{3,24}\Z")),
        "season": season if season is not None else draw(st.integers(1999, 2030)),
        "week": week,
        "season_type": _season_type(draw, week),
        "position": draw(st.sampled_from(POSITIONS)),
    }
    row.update({stat: draw(_stat) for stat in STAT_COLUMNS})
    row["display_name"] = draw(_names) if mapped else None
    row["current_team"] = draw(st.one_of(st.none(), st.sampled_from(_TEAMS)))
    row["games_played"] = draw(st.integers(min_value=0, max_value=1))
    row["fantasy_points"] = draw(
        st.floats(min_value=-10, max_value=70, allow_nan=False, allow_infinity=False)
    )
    return row


@st.composite
def mart_frames(
    draw: st.DrawFn, *, min_rows: int = 0, max_rows: int = 50, unique_keys: bool = True
) -> pl.DataFrame:
    """A frame of mart rows with exactly the contract's columns and dtypes.

    Args:
        draw: Hypothesis's draw function (supplied by `st.composite`).
        min_rows: The fewest rows.
        max_rows: The most rows.
        unique_keys: Keep (`player_key`, `season`, `week`, `season_type`) unique, as the
            mart's dbt test does.
    """
    rows = draw(
        st.lists(
            mart_rows(),
            min_size=min_rows,
            max_size=max_rows,
            unique_by=(
                (lambda r: (r["player_key"], r["season"], r["week"], r["season_type"]))
                if unique_keys
                else None
            ),
        )
    )
    return pl.DataFrame(rows, schema=POLARS_SCHEMA)
