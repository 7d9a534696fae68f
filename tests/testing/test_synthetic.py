"""The synthetic-data generator: contract, determinism, realistic shape, shared scoring."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ff_prefect_kit import InvalidOptionError
from ff_prefect_kit.testing import (
    MART_COLUMNS,
    MART_TABLE,
    PLAYERS_TABLE,
    POSITIONS,
    STAT_COLUMNS,
    STAT_PROFILE,
    build_mart,
    build_synthetic_marts,
    generate_raw,
    scoring_rules,
)

EXAMPLE_SEED = Path(__file__).parents[2] / "examples/dbt_project/seeds/dim_scoring_rule.csv"
KEY = ["player_key", "season", "week", "season_type"]


@pytest.fixture(scope="module")
def mart() -> pl.DataFrame:
    """Three seasons of 300 players per season."""
    return build_mart(generate_raw(seasons=3, players=300, seed=7))


def test_marts_file_has_exactly_the_contract(tmp_path: Path) -> None:
    """The DuckDB mart's columns, order and types are the contract's."""
    path = build_synthetic_marts(tmp_path / "marts.duckdb", seasons=1, players=50, seed=1)
    with duckdb.connect(str(path), read_only=True) as con:
        described = con.sql("DESCRIBE mrt_fantasy_actuals_weekly").fetchall()
        counts = f"SELECT count(*), count(DISTINCT player_id) FROM {PLAYERS_TABLE}"
        [(total, distinct)] = con.sql(counts).fetchall()
    assert [(row[0], row[1]) for row in described] == list(MART_COLUMNS.items())
    assert len(STAT_COLUMNS) == 26
    assert total == distinct > 0


def test_marts_file_is_replaced_when_written_again(tmp_path: Path) -> None:
    """Writing the marts twice to one path leaves the second build, not an error."""
    path = tmp_path / "marts.duckdb"
    build_synthetic_marts(path, seasons=1, players=50, seed=1)
    build_synthetic_marts(path, seasons=2, players=50, seed=1)
    with duckdb.connect(str(path), read_only=True) as con:
        seasons = con.sql("SELECT count(DISTINCT season) FROM mrt_fantasy_actuals_weekly")
        assert seasons.fetchall() == [(2,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["marts.duckdb"]


def test_same_seed_gives_the_same_data() -> None:
    """Two runs with one seed and size are equal row for row."""
    first = generate_raw(seasons=2, players=80, seed=11)
    generate_raw(seasons=1, players=10, seed=0)  # so that the next call generates anew
    second = generate_raw(seasons=2, players=80, seed=11)
    assert_frame_equal(first.player_week_stats, second.player_week_stats)
    assert_frame_equal(first.players, second.players)


def test_editing_the_frames_in_place_leaves_the_next_call_alone() -> None:
    """The remembered result is handed out as copies: changing one reaches no other caller."""
    first = generate_raw(seasons=1, players=20, seed=4)
    before = first.players.clone()
    first.players[0, "display_name"] = "changed"
    first.players.insert_column(0, pl.Series("extra", [0] * first.players.height))
    assert_frame_equal(generate_raw(seasons=1, players=20, seed=4).players, before)


def test_another_seed_gives_other_data() -> None:
    """A different seed changes the stats."""
    first = build_mart(generate_raw(seasons=1, players=80, seed=1))
    second = build_mart(generate_raw(seasons=1, players=80, seed=2))
    assert not first.equals(second)


def test_rows_are_unique_per_player_and_game(mart: pl.DataFrame) -> None:
    """(player_key, season, week, season_type) identifies a row, as the dbt test demands."""
    assert mart.select(KEY).is_unique().all()
    assert (
        mart.select(pl.all().exclude("display_name", "current_team").null_count())
        .sum_horizontal()
        .item()
        == 0
    )


def test_weeks_are_regular_season_then_playoffs(mart: pl.DataFrame) -> None:
    """Weeks 1-18 are REG, weeks 19-22 are POST, and both occur."""
    weeks = mart.group_by("season_type").agg(
        pl.col("week").min().alias("lo"), pl.col("week").max().alias("hi")
    )
    bounds = {row["season_type"]: (row["lo"], row["hi"]) for row in weeks.iter_rows(named=True)}
    assert bounds == {"REG": (1, 18), "POST": (19, 22)}


def test_playoffs_are_for_fewer_teams_each_round(mart: pl.DataFrame) -> None:
    """Fewer players play each playoff round: teams are eliminated."""
    per_week = mart.filter(pl.col("season") == 2024).group_by("week").len().sort("week")
    playoff = per_week.filter(pl.col("week") >= 19)["len"].to_list()
    assert playoff == sorted(playoff, reverse=True)
    assert playoff[0] > playoff[-1]


def test_every_player_season_has_a_bye_and_some_miss_more(mart: pl.DataFrame) -> None:
    """Nobody plays all 18 regular-season weeks (bye); injured players miss more."""
    games = mart.filter(pl.col("season_type") == "REG").group_by("player_key", "season").len()
    assert games["len"].max() == 17
    assert (games["len"] < 17).sum() > len(games) * 0.1


def test_all_23_real_positions_occur(mart: pl.DataFrame) -> None:
    """Every position of the real mart is present: offence, IDP, specialists, linemen."""
    assert len(POSITIONS) == 23
    assert set(mart["position"].unique()) == set(POSITIONS)


def test_season_types_are_the_real_marts(mart: pl.DataFrame) -> None:
    """Weeks 1-18 are REG, 19-22 POST, as the real mart holds them."""
    assert set(mart["season_type"].unique()) == {"REG", "POST"}
    reg = mart.filter(pl.col("season_type") == "REG")["week"]
    post = mart.filter(pl.col("season_type") == "POST")["week"]
    assert (reg.min(), reg.max()) == (1, 18)
    assert (post.min(), post.max()) == (19, 22)


@pytest.mark.parametrize("position", ["K", "P", "LS", "OT", "G", "C"])
def test_specialists_and_linemen_score_nothing(mart: pl.DataFrame, position: str) -> None:
    """Players who record none of the scored stats have 0 fantasy points, as in the real mart."""
    rows = mart.filter(pl.col("position") == position)
    assert rows.height > 0
    assert rows["fantasy_points"].abs().max() == 0


def test_unmapped_players_have_id_minus_one_and_no_name(mart: pl.DataFrame) -> None:
    """Most rows are unmapped, as in a fresh build: player_id -1, no name, the raw id as key."""
    unmapped = mart.filter(pl.col("player_id") == -1)
    mapped = mart.filter(pl.col("player_id") != -1)
    assert len(mart) * 0.45 < len(unmapped) < len(mart) * 0.75
    assert unmapped["display_name"].null_count() == len(unmapped)
    assert unmapped["player_key"].str.starts_with("00-").all()
    assert mapped["display_name"].null_count() == 0
    assert (mapped["player_key"] == mapped["player_id"].cast(pl.String)).all()


def test_smallest_size_still_has_unmapped_rows() -> None:
    """One season of 50 players has at least one unmapped player."""
    small = build_mart(generate_raw(seasons=1, players=50, seed=0))
    assert (small["player_id"] == -1).any()


@pytest.mark.parametrize(
    ("position", "low", "high"),
    [("QB", 10.0, 22.0), ("RB", 5.0, 14.0), ("WR", 4.0, 13.0), ("TE", 2.5, 10.0), ("LB", 2.0, 9.0)],
)
def test_points_per_game_are_in_real_ranges(
    mart: pl.DataFrame, position: str, low: float, high: float
) -> None:
    """Starters' (top quarter) half-PPR points per game fall in real-world ranges."""
    per_player = (
        mart.filter(pl.col("position") == position)
        .group_by("player_key", "season")
        .agg(pl.col("fantasy_points").mean().alias("ppg"))
    )
    starters = per_player.filter(pl.col("ppg") >= pl.col("ppg").quantile(0.75))
    assert low <= starters["ppg"].mean() <= high  # type: ignore[operator]


def test_counting_stats_are_whole_and_consistent(mart: pl.DataFrame) -> None:
    """Counts are whole non-negative numbers; completions <= attempts, catches <= targets."""
    counts = [c for c in STAT_COLUMNS if not c.endswith("_yards") and c != "def_sacks"]
    frame = mart.select(counts)
    assert frame.select((pl.all() >= 0).all()).row(0) == (True,) * len(counts)
    assert frame.select((pl.all() == pl.all().round(0)).all()).row(0) == (True,) * len(counts)
    assert (mart["completions"] <= mart["attempts"]).all()
    assert (mart["receptions"] <= mart["targets"]).all()
    defenders = mart.filter(
        pl.col("position").replace_strict(STAT_PROFILE).is_in(["DL", "LB", "DB"])
    )
    assert defenders.select(pl.col("passing_yards", "receiving_yards").abs().sum()).row(0) == (0, 0)


def test_fantasy_points_follow_only_the_current_rules() -> None:
    """Points are the sum of stat x points_per_unit over rules marked current."""
    raw = generate_raw(seasons=1, players=50, seed=3)
    rules = pl.DataFrame(
        {
            "stat_name": ["receptions", "receptions", "passing_tds"],
            "points_per_unit": [1.0, 0.5, 4.0],
            "is_current": [True, False, False],
        }
    )
    mart = build_mart(raw, rules)
    assert (mart["fantasy_points"] == mart["receptions"]).all()


def test_default_scoring_is_half_ppr_with_idp() -> None:
    """The packaged rules score a reception 0.5 and a solo tackle 1, plus a past full-PPR row."""
    rules = scoring_rules()
    current = dict(
        rules.filter(pl.col("is_current")).select("stat_name", "points_per_unit").iter_rows()
    )
    assert current["receptions"] == 0.5
    assert current["def_tackles_solo"] == 1.0
    assert set(current) <= set(STAT_COLUMNS)
    assert not rules.filter(~pl.col("is_current")).is_empty()


def test_dbt_seed_is_the_packaged_scoring_rules() -> None:
    """The example dbt project's dim_scoring_rule seed is byte-for-byte the packaged rules."""
    packaged = Path(__import__("ff_prefect_kit.testing").testing.__file__).with_name(
        "dim_scoring_rule.csv"
    )
    assert EXAMPLE_SEED.read_bytes() == packaged.read_bytes()


@pytest.mark.parametrize(
    ("option", "value"),
    [("seasons", 0), ("players", -1), ("players", True), ("seasons", 1.5)],
)
def test_bad_sizes_are_rejected(option: str, value: object) -> None:
    """A size that is not a whole number >= 1 raises InvalidOptionError naming it."""
    with pytest.raises(InvalidOptionError, match=option):
        generate_raw(**{option: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seasons", "last_season"),
    [(1, 2201), (1, 2300), (10, 1925), (1, 1919)],
)
def test_seasons_outside_1920_to_2200_are_refused(seasons: int, last_season: int) -> None:
    """Every generated season must lie between 1920 and 2200, at either end."""
    with pytest.raises(InvalidOptionError, match="between 1920 and 2200"):
        generate_raw(seasons=seasons, last_season=last_season)


def test_a_last_season_that_is_not_a_whole_number_is_refused() -> None:
    """A non-integer last season is an InvalidOptionError naming the value."""
    with pytest.raises(InvalidOptionError, match="last_season must be a whole number, got '2024'"):
        generate_raw(last_season="2024")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seasons", "players", "seed"),
    [(1, 23, 0), (1, 24, 1), (1, 50, 0), (3, 23, 2), (4, 30, 5), (2, 50, 9)],
)
def test_every_position_plays_in_every_season(seasons: int, players: int, seed: int) -> None:
    """From 23 players up, each season's mart holds all 23 positions, however small."""
    small = build_mart(generate_raw(seasons=seasons, players=players, seed=seed))
    by_season = small.group_by("season").agg(pl.col("position").unique())
    assert by_season.height == seasons
    for positions in by_season["position"]:
        assert set(positions) == set(POSITIONS)


@pytest.mark.parametrize("players", [1, 5, 22])
def test_a_roster_under_23_holds_as_many_positions_as_players(players: int) -> None:
    """Fewer players than positions: every player has a position of their own."""
    small = build_mart(generate_raw(seasons=2, players=players, seed=3))
    for positions in small.group_by("season").agg(pl.col("position").n_unique())["position"]:
        assert positions == players


def test_the_default_fixture_holds_all_23_positions(synthetic_marts: Path) -> None:
    """The `synthetic_marts` fixture (1 season, 50 players) has every position the docs list."""
    with duckdb.connect(str(synthetic_marts), read_only=True) as con:
        found = {
            row[0] for row in con.sql(f"SELECT DISTINCT position FROM {MART_TABLE}").fetchall()
        }
    assert found == set(POSITIONS)
