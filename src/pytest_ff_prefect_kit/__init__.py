"""The ff_prefect_kit pytest plugin, registered through the `pytest11` entry point.

It lives outside the `ff_prefect_kit` package and imports nothing of it (nor Prefect)
when pytest loads it: a plugin is loaded before pytest-cov starts measuring, so
`pytest --cov=ff_prefect_kit` still measures the whole kit, and a session that uses
none of the fixtures pays nothing for them. Every fixture is opt-in and wraps a plain
API of `ff_prefect_kit.testing`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ff_prefect_kit.testing import DiscordWebhookMock, HarnessHandle, PrefectServer
    from ff_prefect_kit.testing._harness import LaunchedHarness

__all__ = [
    "discord_webhook_mock",
    "no_retry_delays",
    "prefect_server",
    "prefect_test_harness",
    "synthetic_marts",
    "synthetic_marts_factory",
]


def pytest_configure(config: pytest.Config) -> None:
    """Register the kit's markers, so `--strict-markers` accepts them."""
    config.addinivalue_line(
        "markers",
        "discord_webhook_mock(*, responses=(), passthrough=..., check_limits=True): "
        "options of the discord_webhook_mock fixture (see mock_discord_webhook)",
    )
    config.addinivalue_line(
        "markers",
        "prefect_server: uses a real `prefect server start` (the prefect_server fixture); "
        "added to such tests by the plugin: -m 'not prefect_server' skips them",
    )


_HARNESS = "prefect_test_harness"
_SERVER = "prefect_server"
_LAUNCHED: pytest.StashKey[LaunchedHarness | None] = pytest.StashKey()
PRESTART_VARIABLE = "FF_PREFECT_KIT_PRESTART"
"""Set to 0 to start the harness's server when the fixture is first used, not earlier."""


def _database_cache(config: pytest.Config) -> Path | None:
    from ff_prefect_kit.testing import default_database_cache

    database_cache = default_database_cache()
    cache = getattr(config, "cache", None)  # None under -p no:cacheprovider
    if database_cache is None and cache is not None:
        database_cache = cache.mkdir("ff-prefect-kit")
    return database_cache


def pytest_itemcollected(item: pytest.Item) -> None:
    """Launch the harness's server when the first test that uses it is collected.

    The server then starts while the other tests are collected and imported, and the
    fixture only waits for it. Nothing is launched under `--collect-only`, or with
    `FF_PREFECT_KIT_PRESTART=0`.
    """
    config = item.config
    fixtures = getattr(item, "fixturenames", ())
    if _SERVER in fixtures:
        item.add_marker(_SERVER)
    if _LAUNCHED in config.stash or _HARNESS not in fixtures:
        return
    if config.option.collectonly or os.environ.get(PRESTART_VARIABLE, "").strip() == "0":
        config.stash[_LAUNCHED] = None
        return
    from ff_prefect_kit.testing._harness import launch_harness

    try:
        config.stash[_LAUNCHED] = launch_harness(database_cache=_database_cache(config))
    except Exception:  # the fixture starts one itself, and reports what goes wrong
        config.stash[_LAUNCHED] = None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Stop a launched server that no selected test will use (`-k`, `-m`, deselection)."""
    launched = config.stash.get(_LAUNCHED, None)
    if launched is not None and not any(
        _HARNESS in getattr(item, "fixturenames", ()) for item in items
    ):
        config.stash[_LAUNCHED] = None
        launched.discard()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Start each test that uses the harness with quiet alert windows.

    A monitored flow's alert windows are shared by flow name (in the session's state
    file), so a test's failing `nightly` would otherwise hold back the next test's.
    """
    if _HARNESS in getattr(item, "fixturenames", ()):
        from ff_prefect_kit.alerts import reset_throttles

        reset_throttles()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop a launched server that no test took over (the session ended early)."""
    launched = session.config.stash.get(_LAUNCHED, None)
    if launched is not None:
        session.config.stash[_LAUNCHED] = None
        launched.discard()


@pytest.fixture(scope="session")
def prefect_test_harness(request: pytest.FixtureRequest) -> Iterator[HarnessHandle]:
    """A temporary Prefect API for the whole session, isolated from ~/.prefect.

    A drop-in for a session fixture around Prefect's own `prefect_test_harness()`:
    started once, torn down even when tests fail. Its server process is launched as
    soon as the first test using it is collected, so it starts while the rest are
    collected. The migrated database is kept in the user's cache folder
    (`FF_PREFECT_KIT_CACHE`, else `~/.cache/ff-prefect-kit`; pytest's cache when that is
    switched off with an empty value), so later sessions, fresh clones included, start
    from it. Yields the API's URL and temporary home.
    """
    from ff_prefect_kit.testing import prefect_harness

    config = request.config
    launched = config.stash.get(_LAUNCHED, None)
    config.stash[_LAUNCHED] = None  # taken over: torn down by the harness below
    with prefect_harness(database_cache=_database_cache(config), launched=launched) as handle:
        yield handle


@pytest.fixture(scope="session")
def prefect_server(request: pytest.FixtureRequest) -> Iterator[PrefectServer]:
    """A real `prefect server start` on a free loopback port for the session (opt-in).

    What runs in production, with its own `PREFECT_HOME` and SQLite file, started from
    the kept migrated database when there is one, and stopped at the end even when tests
    fail. It does not change this process's settings: run flows in a subprocess with
    `server.environment()`, or inside `with server.use():`. Tests using it are marked
    `prefect_server`, so `-m "not prefect_server"` skips them in a quick local run.
    """
    from ff_prefect_kit.testing import PrefectServer
    from ff_prefect_kit.testing._database import database_template

    cache = _database_cache(request.config)
    template = database_template(cache) if cache is not None else None
    with PrefectServer(template if template is not None and template.exists() else None) as server:
        yield server


@pytest.fixture
def no_retry_delays() -> Iterator[None]:
    """Analytics tasks retry at once inside the test; the attempts still happen."""
    from ff_prefect_kit.testing import set_testing

    with set_testing(True):
        yield


@pytest.fixture
def discord_webhook_mock(request: pytest.FixtureRequest) -> Iterator[DiscordWebhookMock]:
    """A fake Discord webhook in `DISCORD_WEBHOOK_URL` recording every message.

    Configure it with `@pytest.mark.discord_webhook_mock(responses=[429, 204], ...)`:
    the marker's arguments go to `mock_discord_webhook()` as they are, so a misspelt
    option fails as Python's own `TypeError`. At teardown, a message that broke
    Discord's limits fails the test.
    """
    __tracebackhide__ = True
    from ff_prefect_kit.testing import mock_discord_webhook

    marker = request.node.get_closest_marker("discord_webhook_mock")
    args, kwargs = (marker.args, marker.kwargs) if marker is not None else ((), {})
    with mock_discord_webhook(*args, **kwargs) as webhook:
        yield webhook


@pytest.fixture(scope="session")
def _ff_synthetic_marts_cache() -> dict[Any, Path]:
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
    from ff_prefect_kit.testing import build_synthetic_marts

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
