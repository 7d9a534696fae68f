"""Synthetic fantasy-football data with the shape of the real marts, deterministic for a seed.

`generate_raw()` makes the raw inputs of the example dbt project (weekly player stats keyed
by a raw `gsis_id`, and a player crosswalk), `build_mart()` turns them into
`mrt_fantasy_actuals_weekly` exactly as the example project's models do, and
`build_synthetic_marts()` writes both marts into a DuckDB file for tests and benchmarks.

The shape follows the real data: the 23 positions of the real mart (offence, IDP
defenders, specialists and offensive linemen, who score nothing), every one of them in
every season once a roster has 23 players, with careers of different lengths, weeks 1-18
of the regular season (`REG`) and 19-22 of the playoffs (`POST`, only for the teams that
get there), a bye week per team and season, injured players missing a run of weeks, and
most players missing from the crosswalk (`player_id` -1, `display_name` null), as in a
fresh build. Fantasy points come from the scoring rules shipped with the package
(`scoring_rules()`), the same file as the dbt project's `dim_scoring_rule` seed.

Weekly values come from a counter-based hash of (seed, player, season, week, stat) computed
with Polars integer arithmetic, so 25 seasons x 2,000 players takes seconds, and the output
is identical on every platform and Polars version.

The module is one pipeline (careers, then games, then stat lines, then the crosswalk)
whose steps share the hash and the constants, so it stays whole; about 80 of its lines
are the tables of names.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from importlib import resources

import polars as pl

from ff_prefect_kit._errors import InvalidOptionError
from ff_prefect_kit.testing._contract import (
    POSITION_WEIGHTS,
    POSITIONS,
    STAT_COLUMNS,
    STAT_PROFILE,
    TEAMS,
    UNMAPPED_SHARE,
)

__all__ = ["SyntheticRaw", "generate_raw", "scoring_rules"]

_FIRST_NAMES = (
    "Aaron",
    "Jalen",
    "Patrick",
    "Josh",
    "Lamar",
    "Joe",
    "Justin",
    "Derrick",
    "Christian",
    "Saquon",
    "Bijan",
    "Breece",
    "Ja'Marr",
    "Tyreek",
    "CeeDee",
    "Justin",
    "Amon-Ra",
    "Puka",
    "Travis",
    "George",
    "Sam",
    "Mark",
    "Micah",
    "T.J.",
    "Myles",
    "Nick",
    "Fred",
    "Roquan",
    "Sauce",
    "Jessie",
    "Budda",
    "Derwin",
    "Kyle",
    "José",
    "Zoë",
    "Łukasz",
    "Jaylen",
    "DeVonta",
    "Keenan",
    "Isiah",
)
_LAST_NAMES = (
    "Allen",
    "Hurts",
    "Mahomes",
    "Jackson",
    "Burrow",
    "Jefferson",
    "Henry",
    "McCaffrey",
    "Barkley",
    "Robinson",
    "Hall",
    "Chase",
    "Hill",
    "Lamb",
    "St.Brown",
    "Nacua",
    "Kelce",
    "Kittle",
    "LaPorta",
    "Andrews",
    "Parsons",
    "Watt",
    "Garrett",
    "Bosa",
    "Warner",
    "Smith",
    "Gardner",
    "Baker",
    "James",
    "Hamilton",
    "Pacheco",
    "Núñez",
    "Ødegaard",
    "Müller",
    "Waddle",
    "Williams",
)

_REG_WEEKS = 18
_SEASON_TYPES = ("REG", "POST")
"""The season types the real mart holds, and all the generator writes: weeks 1-18 are `REG`,
19-22 `POST`. The contract allows more (`ALLOWED_SEASON_TYPES`)."""
_INJURY_SHARE = 0.3
_MOD = 2**31


@dataclass(frozen=True)
class SyntheticRaw:
    """The raw inputs of the example dbt project.

    Attributes:
        player_week_stats: One row per player and game: `gsis_id`, `season`, `week`,
            `season_type`, `position`, `team` and the 26 stat columns (no points).
        players: The crosswalk of mapped players: `gsis_id`, `player_id`,
            `display_name`, `position`, `current_team`. Stat lines whose `gsis_id` is
            missing here are the unmapped ones.
    """

    player_week_stats: pl.DataFrame
    players: pl.DataFrame


def scoring_rules() -> pl.DataFrame:
    """Return the scoring rules (half-PPR offence plus IDP) shipped with the package.

    The example dbt project's seed `dim_scoring_rule.csv` is a byte-for-byte copy.

    Returns:
        A frame with `stat_name`, `points_per_unit` and `is_current`.
    """
    text = resources.files("ff_prefect_kit.testing").joinpath("dim_scoring_rule.csv").read_bytes()
    return pl.read_csv(
        text,
        schema={"stat_name": pl.String, "points_per_unit": pl.Float64, "is_current": pl.Boolean},
    )


def _check_size(seasons: int, players: int, last_season: int) -> None:
    for name, value in (("seasons", seasons), ("players", players)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidOptionError(f"{name} must be a whole number >= 1, got {value!r}")
    if isinstance(last_season, bool) or not isinstance(last_season, int):
        raise InvalidOptionError(f"last_season must be a whole number, got {last_season!r}")
    if not (last_season - seasons + 1 >= 1920 and last_season <= 2200):
        raise InvalidOptionError(
            f"last_season must put every season between 1920 and 2200, got {last_season!r}"
        )


@dataclass
class _Spot:
    """A roster spot: who holds it, for how many more seasons, where, how much used."""

    player: int
    seasons_left: int
    team: str
    usage: float


def _careers(seasons: int, players: int, seed: int, last_season: int) -> pl.DataFrame:
    """One row per player and season played, with the team, bye week and injury span."""
    rng = random.Random(seed)
    first_season = last_season - seasons + 1
    team_byes = {
        (season, team): rng.randint(5, 14)
        for season in range(first_season, last_season + 1)
        for team in TEAMS
    }
    # How deep each team goes in the playoffs: its last POST week, or 18 for none.
    team_last_week: dict[tuple[int, str], int] = {}
    for season in range(first_season, last_season + 1):
        order = rng.sample(TEAMS, len(TEAMS))
        for rank, team in enumerate(order):
            last = 22 if rank < 2 else 21 if rank < 4 else 20 if rank < 8 else 19
            team_last_week[season, team] = last if rank < 14 else _REG_WEEKS

    rows: dict[str, list[object]] = {
        name: []
        for name in (
            "player",
            "season",
            "team",
            "bye",
            "last_week",
            "injured_from",
            "injured_to",
            "usage",
            "talent",
        )
    }
    # Each season has `players` roster spots; a player whose career ends is replaced
    # by a newcomer, so seasons overlap in players the way real ones do.
    spots: list[_Spot] = []
    spot_of: list[int] = []  # each player's roster spot, for life
    next_player = 0
    for season in range(first_season, last_season + 1):
        for spot in range(players):
            if season == first_season or spots[spot].seasons_left <= 0:
                # Starters see most of the volume; a long tail of backups sees little.
                fresh = _Spot(
                    player=next_player,
                    seasons_left=rng.randint(1, 14 if season > first_season else 8),
                    team=rng.choice(TEAMS),
                    usage=0.15 + 0.85 * rng.random() ** 1.5,
                )
                next_player += 1
                spot_of.append(spot)
                if season == first_season:
                    spots.append(fresh)
                else:
                    spots[spot] = fresh
            current = spots[spot]
            if rng.random() < 0.15:
                current.team = rng.choice(TEAMS)
            current.seasons_left -= 1
            player, team, usage = current.player, current.team, current.usage
            injured_from, injured_to = 0, -1
            if rng.random() < _INJURY_SHARE:
                injured_from = rng.randint(1, 22)
                injured_to = injured_from + rng.randint(0, 5)
            rows["player"].append(player)
            rows["season"].append(season)
            rows["team"].append(team)
            rows["bye"].append(team_byes[season, team])
            rows["last_week"].append(team_last_week[season, team])
            rows["injured_from"].append(injured_from)
            rows["injured_to"].append(injured_to)
            rows["usage"].append(usage)
            rows["talent"].append(math.exp(0.25 * rng.gauss(0.0, 1.0)))
    spot_positions = _spot_positions(players, rng)
    positions = [spot_positions[spot] for spot in spot_of]
    careers = pl.DataFrame(
        rows,
        schema={
            "player": pl.Int64,
            "season": pl.Int32,
            "team": pl.String,
            "bye": pl.Int32,
            "last_week": pl.Int32,
            "injured_from": pl.Int32,
            "injured_to": pl.Int32,
            "usage": pl.Float64,
            "talent": pl.Float64,
        },
    )
    return careers.join(
        pl.DataFrame(
            {"player": range(next_player), "position": positions},
            schema={"player": pl.Int64, "position": pl.String},
        ),
        on="player",
    )


def _spot_positions(players: int, rng: random.Random) -> list[str]:
    """The position of each roster spot: every one of `POSITIONS` in every season.

    A newcomer takes the position of the player they replace, so the spots' positions
    are each season's. Each position holds one spot (with fewer than 23 spots, as many
    positions as spots, drawn by frequency); the other spots are drawn by frequency.
    """
    weights = dict(zip(POSITIONS, POSITION_WEIGHTS, strict=True))
    covered: list[str] = []
    while len(covered) < min(players, len(POSITIONS)):
        left = [p for p in POSITIONS if p not in covered]
        covered += rng.choices(left, weights=[weights[p] for p in left])
    spots = covered + rng.choices(POSITIONS, weights=POSITION_WEIGHTS, k=players - len(covered))
    rng.shuffle(spots)
    return spots


def _players(players: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed ^ 0x5EED)
    # At least one unmapped player, so even the smallest marts have the case.
    unmapped = set(rng.sample(range(players), max(1, round(players * UNMAPPED_SHARE))))
    mapped = [p not in unmapped for p in range(players)]
    names = [f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}" for _ in range(players)]
    return pl.DataFrame(
        {
            "player": range(players),
            "gsis_id": [f"00-{1_000_000 + p:07d}" for p in range(players)],
            "player_id": [10_000 + p if m else None for p, m in enumerate(mapped)],
            "display_name": names,
        },
        schema={
            "player": pl.Int64,
            "gsis_id": pl.String,
            "player_id": pl.Int64,
            "display_name": pl.String,
        },
    )


def _mix(x: pl.Expr) -> pl.Expr:
    # A 31-bit integer hash (two multiply-xorshift rounds); every product stays
    # below 2**63, so Int64 arithmetic never overflows.
    x = ((x ^ (x // 65536)) * 0x45D9F3B) % _MOD
    x = ((x ^ (x // 65536)) * 0x45D9F3B) % _MOD
    return x ^ (x // 65536)


def _uniform(base: pl.Expr, stream: int) -> pl.Expr:
    """A uniform number in (0, 1) for each row and stream."""
    return (_mix((base + stream * 0x3C6EF35) % _MOD) + 0.5) / _MOD


def _normal(base: pl.Expr, stream: int) -> pl.Expr:
    """A standard normal number for each row and stream (Box-Muller)."""
    u1, u2 = _uniform(base, stream), _uniform(base, stream + 1000)
    return (-2.0 * u1.log()).sqrt() * (2.0 * math.pi * u2).cos()


def _count(base: pl.Expr, stream: int, mean: pl.Expr) -> pl.Expr:
    """A count with the given mean: normal around it for volume, floored at 0."""
    z = _normal(base, stream)
    drawn = (mean + z * (mean.sqrt() * 1.2 + 0.3)).round(0).clip(lower_bound=0.0)
    return pl.when(mean > 0).then(drawn).otherwise(0.0)


def _rare(base: pl.Expr, stream: int, mean: pl.Expr) -> pl.Expr:
    """A small count (touchdowns, turnovers): geometric with the given mean."""
    q = mean / (1.0 + mean)
    return (_uniform(base, stream).log() / q.log()).floor().clip(0.0, 6.0)


def _yards(
    base: pl.Expr, stream: int, count: pl.Expr, per: pl.Expr | float, spread: float
) -> pl.Expr:
    z = _normal(base, stream)
    return pl.when(count > 0).then((count * (per + spread * z)).round(0)).otherwise(0.0)


def _weekly_stats(rows: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Add the 26 stat columns to one row per player and game."""
    seed_h = _mix(pl.lit(seed % _MOD, dtype=pl.Int64))
    key = pl.col("player") * 16384 + (pl.col("season") - 1900) * 32 + pl.col("week")
    base = _mix((_mix((seed_h + key // _MOD) % _MOD) + key % _MOD) % _MOD)
    pos = pl.col("position").replace_strict(STAT_PROFILE, return_dtype=pl.String)
    vol = pl.col("usage") * pl.col("talent")

    def by_position(**means: float) -> pl.Expr:
        expr: pl.Expr = pl.lit(0.0)
        for position, mean in means.items():
            expr = pl.when(pos == position).then(mean).otherwise(expr)
        return expr

    # Lazy, so that Polars computes each shared sub-expression once.
    frame = (
        rows.lazy()
        .with_columns(_b=base, _vol=vol)
        .with_columns(
            attempts=_count(pl.col("_b"), 1, by_position(QB=34.0) * pl.col("usage")),
            carries=_count(pl.col("_b"), 2, by_position(QB=3.5, RB=15.0, WR=0.3) * pl.col("usage")),
            targets=_count(pl.col("_b"), 3, by_position(RB=3.5, WR=7.5, TE=5.5) * pl.col("usage")),
            def_tackles_solo=_count(
                pl.col("_b"), 4, by_position(DL=2.0, LB=4.5, DB=3.8) * pl.col("usage")
            ),
            def_tackles_with_assist=_count(
                pl.col("_b"), 5, by_position(DL=1.2, LB=2.8, DB=1.3) * pl.col("usage")
            ),
            sacks_suffered=_rare(pl.col("_b"), 6, by_position(QB=2.3) * pl.col("usage") + 1e-9),
        )
    )
    b, v = pl.col("_b"), pl.col("_vol")
    frame = frame.with_columns(
        completions=(pl.col("attempts") * (0.64 + 0.07 * _normal(b, 7)).clip(0.3, 0.95)).round(0),
        receptions=(pl.col("targets") * (0.68 + 0.12 * _normal(b, 8)).clip(0.2, 1.0)).round(0),
        rushing_yards=_yards(b, 9, pl.col("carries"), 4.3, 2.5),
        rushing_tds=_rare(b, 10, by_position(QB=0.12, RB=0.45, WR=0.02) * v + 1e-9),
        rushing_fumbles_lost=_rare(b, 11, by_position(QB=0.06, RB=0.05) * v + 1e-9),
        rushing_2pt_conversions=_rare(b, 12, by_position(QB=0.01, RB=0.02) + 1e-9),
        def_sacks=(_rare(b, 13, by_position(DL=0.9, LB=0.4, DB=0.1) * v + 1e-9) * 0.5),
        def_interceptions=_rare(b, 14, by_position(DL=0.01, LB=0.05, DB=0.12) * v + 1e-9),
        def_fumbles_forced=_rare(b, 15, by_position(DL=0.06, LB=0.05, DB=0.04) * v + 1e-9),
        def_tds=_rare(b, 16, by_position(DL=0.01, LB=0.015, DB=0.02) + 1e-9),
        def_safeties=_rare(b, 17, by_position(DL=0.004, LB=0.002) + 1e-9),
        special_teams_tds=_rare(b, 18, by_position(RB=0.004, WR=0.006, DB=0.004) + 1e-9),
    )
    frame = frame.with_columns(
        passing_yards=_yards(b, 19, pl.col("completions"), 11.0, 3.0),
        passing_tds=pl.min_horizontal(
            _rare(b, 20, by_position(QB=1.5) * v + 1e-9), pl.col("completions")
        ),
        passing_interceptions=_rare(b, 21, by_position(QB=0.8) * pl.col("usage") + 1e-9),
        passing_2pt_conversions=_rare(b, 22, by_position(QB=0.06) * v + 1e-9),
        receiving_yards=_yards(
            b, 23, pl.col("receptions"), by_position(RB=7.5, WR=12.5, TE=10.5), 4.0
        ),
        receiving_tds=pl.min_horizontal(
            _rare(b, 24, by_position(RB=0.12, WR=0.4, TE=0.3) * v + 1e-9), pl.col("receptions")
        ),
        receiving_fumbles_lost=_rare(b, 25, by_position(RB=0.03, WR=0.03, TE=0.03) + 1e-9),
        receiving_2pt_conversions=_rare(b, 26, by_position(RB=0.01, WR=0.02, TE=0.02) + 1e-9),
    )
    return frame.collect()


def generate_raw(
    *, seasons: int = 1, players: int = 50, seed: int = 0, last_season: int = 2024
) -> SyntheticRaw:
    """Generate the raw weekly stats and the player crosswalk.

    The last result is remembered: the example dbt project's two raw Python models ask
    for the same frames in one build, and get them from one generation. (dbt reads each
    model's `dbt.config.get(...)` calls from the model's own source, so the models keep
    those calls and pass the values here.)

    Args:
        seasons: How many seasons, ending with `last_season`.
        players: The roster of each season (careers end and newcomers take their
            place); from 23, every position plays in every season.
        seed: The same seed and sizes give the same frames, row for row.
        last_season: The most recent season.

    Returns:
        The raw frames (see `SyntheticRaw`).

    Raises:
        InvalidOptionError: A size is not a whole number >= 1.
    """
    _check_size(seasons, players, last_season)
    raw = _generate(seasons, players, seed, last_season)
    # Clones share the columns, so they cost nothing; an in-place edit of one of them
    # never reaches the remembered frames.
    return SyntheticRaw(
        player_week_stats=raw.player_week_stats.clone(), players=raw.players.clone()
    )


# The frames are a pure function of the arguments, so what is remembered never needs
# forgetting. `typed`: `seed=1`, `1.0` and `True` are equal, yet need not give one result.
@functools.lru_cache(maxsize=1, typed=True)
def _generate(seasons: int, players: int, seed: int, last_season: int) -> SyntheticRaw:
    careers = _careers(seasons, players, seed, last_season)
    weeks = pl.DataFrame({"week": range(1, 23)}, schema={"week": pl.Int32})
    week = pl.col("week")
    games = (
        careers.join(weeks, how="cross")
        .filter(
            (week != pl.col("bye"))
            & (week <= pl.col("last_week"))
            & ~week.is_between(pl.col("injured_from"), pl.col("injured_to"))
        )
        .sort("season", "week", "player")
    )
    stats = _weekly_stats(games, seed)
    people = _players(int(careers.select(pl.col("player").max()).item()) + 1, seed)
    player_week_stats = (
        stats.join(people.select("player", "gsis_id"), on="player")
        .sort("season", "week", "player")
        .select(
            "gsis_id",
            "season",
            "week",
            pl.when(week <= _REG_WEEKS)
            .then(pl.lit(_SEASON_TYPES[0]))
            .otherwise(pl.lit(_SEASON_TYPES[1]))
            .alias("season_type"),
            "position",
            "team",
            *(pl.col(name).cast(pl.Float64) for name in STAT_COLUMNS),
        )
    )
    latest = (
        careers.sort("season")
        .group_by("player")
        .agg(pl.col("team").last().alias("current_team"), pl.col("position").first())
    )
    crosswalk = (
        people.filter(pl.col("player_id").is_not_null())
        .join(latest, on="player")
        .sort("player")
        .select("gsis_id", "player_id", "display_name", "position", "current_team")
    )
    return SyntheticRaw(player_week_stats=player_week_stats, players=crosswalk)
