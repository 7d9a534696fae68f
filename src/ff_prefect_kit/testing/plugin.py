"""The kit's pytest plugin, registered through the `pytest11` entry point.

Fixtures are opt-in (none is autouse) and each wraps a plain API of
`ff_prefect_kit.testing` that works without pytest.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ff_prefect_kit.testing import DiscordCapture, HarnessHandle


@pytest.fixture(scope="session")
def prefect_test_harness(request: pytest.FixtureRequest) -> Iterator[HarnessHandle]:
    """A temporary Prefect API for the whole session, isolated from ~/.prefect.

    Started once (it takes seconds; the migrated database is kept in pytest's
    cache for the next session), torn down even when tests fail. Heartbeats and
    server telemetry are off, so a trivial flow runs in about 0.15 s.
    """
    from ff_prefect_kit.testing import prefect_harness

    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    database_cache = cache.mkdir("ff-prefect-kit") if cache is not None else None
    with prefect_harness(database_cache=database_cache) as handle:
        yield handle


@pytest.fixture
def no_retry_delays() -> Iterator[None]:
    """Analytics tasks retry at once inside the test; the attempts still happen."""
    from ff_prefect_kit.testing import no_retry_delays as skip_delays

    with skip_delays():
        yield


def pytest_configure(config: pytest.Config) -> None:
    """Register the kit's markers, so `--strict-markers` accepts them."""
    config.addinivalue_line(
        "markers",
        "discord(*, responses=(), passthrough=..., check_limits=True): "
        "configure the discord_webhook_mock fixture",
    )


@pytest.fixture
def discord_webhook_mock(request: pytest.FixtureRequest) -> Iterator[DiscordCapture]:
    """A fake Discord webhook in `DISCORD_WEBHOOK_URL` recording every message.

    Configure it with `@pytest.mark.discord(responses=[429, 204], ...)`; an unknown
    option fails. At teardown, a message that broke Discord's limits fails the test.
    """
    from ff_prefect_kit import InvalidOptionError
    from ff_prefect_kit.testing import DiscordOptions, capture_discord

    marker = request.node.get_closest_marker("discord")
    if marker is not None and marker.args:
        raise InvalidOptionError("@pytest.mark.discord takes keyword options only")
    options = DiscordOptions.from_kwargs(
        "@pytest.mark.discord", dict(marker.kwargs) if marker else {}
    )
    with capture_discord(
        responses=options.responses,
        passthrough=options.passthrough,
        check_limits=options.check_limits,
    ) as capture:
        yield capture


@pytest.fixture(scope="session")
def _ff_synthetic_marts_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[Any, Path]:
    return {}


@pytest.fixture
def synthetic_marts_factory(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _ff_synthetic_marts_cache: dict[Any, Path],
) -> Callable[..., Path]:
    """Build a DuckDB file of synthetic marts: `factory(seasons=1, players=50, seed=0)`.

    Each call returns a fresh copy under the test's `tmp_path` (a test may change it);
    each size and seed is generated once per session.
    """
    from ff_prefect_kit.synthetic import build_synthetic_marts

    def build(*, seasons: int = 1, players: int = 50, seed: int = 0) -> Path:
        key = (seasons, players, seed)
        if key not in _ff_synthetic_marts_cache:
            folder = tmp_path_factory.mktemp("synthetic-marts")
            _ff_synthetic_marts_cache[key] = build_synthetic_marts(
                folder / "marts.duckdb", seasons=seasons, players=players, seed=seed
            )
        target = tmp_path / f"marts-s{seasons}-p{players}-seed{seed}.duckdb"
        shutil.copyfile(_ff_synthetic_marts_cache[key], target)
        return target

    return build


@pytest.fixture
def synthetic_marts(synthetic_marts_factory: Callable[..., Path]) -> Path:
    """A DuckDB file holding `mrt_fantasy_actuals_weekly` and `dim_player`: 1 season, 50 players.

    Deterministic (seed 0), with the real mart's columns and types. Use
    `synthetic_marts_factory` for other sizes or seeds.
    """
    return synthetic_marts_factory()
