"""The contract of `mrt_fantasy_actuals_weekly`: its columns, their types, its value domain."""

from __future__ import annotations

__all__ = [
    "ALLOWED_SEASON_TYPES",
    "MART_COLUMNS",
    "MART_TABLE",
    "PLAYERS_TABLE",
    "POSITIONS",
    "POSITION_WEIGHTS",
    "STAT_COLUMNS",
    "STAT_PROFILE",
    "TEAMS",
    "UNMAPPED_SHARE",
]

STAT_COLUMNS: tuple[str, ...] = (
    "completions",
    "attempts",
    "passing_yards",
    "passing_tds",
    "passing_interceptions",
    "passing_2pt_conversions",
    "carries",
    "rushing_yards",
    "rushing_tds",
    "rushing_fumbles_lost",
    "rushing_2pt_conversions",
    "targets",
    "receptions",
    "receiving_yards",
    "receiving_tds",
    "receiving_fumbles_lost",
    "receiving_2pt_conversions",
    "def_tackles_solo",
    "def_tackles_with_assist",
    "def_sacks",
    "def_interceptions",
    "def_fumbles_forced",
    "def_tds",
    "def_safeties",
    "sacks_suffered",
    "special_teams_tds",
)
"""The 26 stat columns of `mrt_fantasy_actuals_weekly`, in the contract's order."""

MART_COLUMNS: dict[str, str] = {
    "player_id": "BIGINT",
    "player_key": "VARCHAR",
    "season": "INTEGER",
    "week": "INTEGER",
    "season_type": "VARCHAR",
    "position": "VARCHAR",
    **dict.fromkeys(STAT_COLUMNS, "DOUBLE"),
    "display_name": "VARCHAR",
    "current_team": "VARCHAR",
    "games_played": "INTEGER",
    "fantasy_points": "DOUBLE",
}
"""`mrt_fantasy_actuals_weekly`'s columns in order, with their DuckDB types (the contract)."""

MART_TABLE = "mrt_fantasy_actuals_weekly"
PLAYERS_TABLE = "dim_player"

POSITIONS: tuple[str, ...] = (
    "WR",
    "LB",
    "CB",
    "DT",
    "TE",
    "SAF",
    "DE",
    "RB",
    "QB",
    "OT",
    "K",
    "P",
    "FS",
    "OLB",
    "G",
    "DB",
    "C",
    "FB",
    "MLB",
    "S",
    "NT",
    "LS",
    "ILB",
)
"""The 23 positions the real mart holds, most frequent first."""

# fmt: off
POSITION_WEIGHTS: tuple[float, ...] = (
    14.0, 11.0, 10.0, 8.0, 7.0, 7.0, 7.0, 6.0, 5.0, 4.0, 3.0, 3.0,
    2.5, 2.5, 2.0, 2.0, 1.5, 1.2, 1.0, 1.0, 0.8, 0.8, 0.7,
)
# fmt: on
"""How often each of `POSITIONS` occurs among players, roughly as in the real mart."""

STAT_PROFILE: dict[str, str] = {
    "QB": "QB",
    "RB": "RB",
    "FB": "RB",
    "WR": "WR",
    "TE": "TE",
    **dict.fromkeys(("DE", "DT", "NT"), "DL"),
    **dict.fromkeys(("LB", "OLB", "MLB", "ILB"), "LB"),
    **dict.fromkeys(("CB", "SAF", "FS", "S", "DB"), "DB"),
    **dict.fromkeys(("K", "P", "LS"), "ST"),
    **dict.fromkeys(("OT", "G", "C"), "OL"),
}
"""Whose stat lines a position gets: offence, IDP (DL/LB/DB), specialists (ST), linemen (OL).

Specialists and offensive linemen record none of the scored stats: their fantasy
points are 0, as in the real mart.
"""

ALLOWED_SEASON_TYPES: tuple[str, ...] = ("REG", "POST", "WC", "DIV", "CON", "SB", "PRE")
"""Every season type the mart's schema allows; the real mart holds `REG` (weeks 1-18) and
`POST` (19-22), and so do the synthetic marts."""

UNMAPPED_SHARE = 0.6
"""The share of players missing from the crosswalk in a fresh build: most of them."""

TEAMS = (
    "ARI",
    "ATL",
    "BAL",
    "BUF",
    "CAR",
    "CHI",
    "CIN",
    "CLE",
    "DAL",
    "DEN",
    "DET",
    "GB",
    "HOU",
    "IND",
    "JAX",
    "KC",
    "LAC",
    "LAR",
    "LV",
    "MIA",
    "MIN",
    "NE",
    "NO",
    "NYG",
    "NYJ",
    "PHI",
    "PIT",
    "SEA",
    "SF",
    "TB",
    "TEN",
    "WAS",
)
