"""The contract of `mrt_fantasy_actuals_weekly`: its columns, their types, its value domain."""

from __future__ import annotations

__all__ = [
    "MART_COLUMNS",
    "MART_TABLE",
    "PLAYERS_TABLE",
    "POSITIONS",
    "STAT_COLUMNS",
    "TEAMS",
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

POSITIONS: tuple[str, ...] = ("QB", "RB", "WR", "TE", "DL", "LB", "DB")
POSITION_WEIGHTS = (0.11, 0.17, 0.24, 0.11, 0.13, 0.12, 0.12)

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
