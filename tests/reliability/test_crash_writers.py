"""Every writer killed at random points: the old output or the new, whole, and no litter.

The Parquet writer has its own test (`test_crash_leftovers.py`); these cover the
synthetic-data generator, the kept test database and the Discord block's registration.
Each kill is a SIGKILL, at a random moment, of a forked process that keeps writing.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from ff_prefect_kit.alerts import DiscordAlerts
from ff_prefect_kit.cli import main
from ff_prefect_kit.testing import HarnessHandle, build_synthetic_marts
from ff_prefect_kit.testing._database import PARTIAL_STALE_AFTER, keep_database

KILLS = 20
MORE_KILLS = 200
"""The bound on kills for a test that also needs one kill to land mid-write: a kill lands
there by chance (a fifth of the writer's time), so such a test goes on past KILLS until one has."""

# Runs in a subprocess: imports once, then forks a writer KILLS times and SIGKILLs each
# at a random moment, waiting for the test's "next" between kills (it checks the output).
FORKS = textwrap.dedent(
    """
    import os, random, signal, sys, time
    SETUP
    rng = random.Random(int(sys.argv[1]))
    for n in range(int(sys.argv[2])):
        pid = os.fork()
        if pid == 0:
            try:
                WRITE_FOREVER
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.0, float(sys.argv[3])))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print("killed", flush=True)
        if sys.stdin.readline().strip() != "next":
            break
    """
)


def _kills(
    setup: str,
    write_forever: str,
    *args: str,
    seed: int,
    longest: float = 0.8,
    kills: int = KILLS,
) -> Iterator[int]:
    """Kill a writer `kills` times at random moments; yield after each kill, for a check.

    Leaving the loop early ends the killer too.
    """
    script = FORKS.replace("SETUP", setup).replace(
        "WRITE_FOREVER", textwrap.indent(write_forever, " " * 12).strip()
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(seed), str(kills), str(longest), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "FF_ENV_FILE": os.devnull},
    ) as killer:
        assert killer.stdin is not None
        assert killer.stdout is not None
        for n in range(kills):
            assert killer.stdout.readline().strip() == "killed"
            yield n
            killer.stdin.write("next\n")
            killer.stdin.flush()
    assert killer.returncode == 0


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


GENERATE_SETUP = "from ff_prefect_kit.testing import build_synthetic_marts"
GENERATE_FOREVER = textwrap.dedent(
    """
    n = 0
    while True:
        build_synthetic_marts(sys.argv[4], seasons=2, players=(120, 200)[n % 2])
        n += 1
    """
)


def _mart_rows(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        found = con.execute("select count(*) from mrt_fantasy_actuals_weekly").fetchone()
    assert found is not None
    return int(found[0])


def test_the_generator_killed_anywhere_leaves_a_whole_database(tmp_path: Path) -> None:
    """20+ kills of the synthetic-mart writer: the file always opens whole; a rebuild tidies."""
    target = tmp_path / "marts.duckdb"
    sizes = {
        _mart_rows(build_synthetic_marts(tmp_path / f"{p}.duckdb", seasons=2, players=p))
        for p in (120, 200)
    }
    build_synthetic_marts(target, seasons=2, players=120)
    killed_mid_write = 0
    for n in _kills(GENERATE_SETUP, GENERATE_FOREVER, str(target), seed=11, kills=MORE_KILLS):
        assert _mart_rows(target) in sizes
        killed_mid_write += any(tmp_path.glob(".marts.duckdb.partial*"))
        if n + 1 >= KILLS and killed_mid_write:
            break
    assert killed_mid_write, "no kill landed mid-write: the test did not test that case"
    build_synthetic_marts(target, seasons=2, players=200)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "120.duckdb",
        "200.duckdb",
        "marts.duckdb",
    ]


KEEP_SETUP = textwrap.dedent(
    """
    from pathlib import Path
    os.environ["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = "sqlite+aiosqlite:///" + sys.argv[4]
    from ff_prefect_kit.testing._database import keep_database
    """
)
KEEP_FOREVER = textwrap.dedent(
    """
    while True:
        keep_database(Path(sys.argv[5]))
    """
)


def _sqlite_rows(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        assert db.execute("PRAGMA quick_check").fetchone() == ("ok",)
        (rows,) = db.execute("select count(*) from runs").fetchone()
    return int(rows)


def test_the_kept_database_killed_mid_copy_stays_whole_and_partials_are_swept(
    tmp_path: Path,
) -> None:
    """20+ kills while keeping the test database: the copy is whole or absent; old partials go."""
    source = tmp_path / "prefect.db"
    with contextlib.closing(sqlite3.connect(source)) as db:
        db.execute("create table runs (id integer primary key, body text)")
        db.executemany("insert into runs (body) values (?)", [("x" * 200,)] * 50_000)
        db.commit()
    cache = tmp_path / "cache"
    template = cache / "prefect-3.0.0-abcdef012345.db"
    killed_mid_copy = 0
    kills = _kills(KEEP_SETUP, KEEP_FOREVER, str(source), str(template), seed=12, kills=MORE_KILLS)
    for n in kills:
        if template.exists():
            assert _sqlite_rows(template) == 50_000
        partials = list(cache.glob(".prefect-*.db.*"))
        killed_mid_copy += bool(partials)
        for partial in partials:
            _age(partial, PARTIAL_STALE_AFTER + 60)
        if n + 1 >= KILLS and killed_mid_copy:
            break
    assert killed_mid_copy, "no kill landed mid-copy: the test did not test that case"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "ff_prefect_kit.testing._database.database_path", lambda: source, raising=True
        )
        keep_database(template)
    assert [p.name for p in cache.iterdir()] == [template.name]
    assert _sqlite_rows(template) == 50_000


WEBHOOKS = (
    "https://discord.com/api/webhooks/123456789012345678/first-token-of-two",
    "https://discord.com/api/webhooks/123456789012345678/second-token-of-two",
)

REGISTER_SETUP = "from ff_prefect_kit.alerts import DiscordAlerts, register_blocks"
REGISTER_FOREVER = textwrap.dedent(
    """
    n = 0
    while True:
        register_blocks()
        DiscordAlerts(webhook_url=sys.argv[5 + n % 2]).save(sys.argv[4], overwrite=True)
        n += 1
    """
)


def test_block_registration_killed_anywhere_leaves_a_loadable_block_or_none(
    prefect_test_harness: HarnessHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20 kills while saving the Discord block: it loads whole or is absent; a rerun completes."""
    name = "killed-while-saving"
    monkeypatch.setenv("PREFECT_API_URL", prefect_test_harness.api_url)
    for _ in _kills(REGISTER_SETUP, REGISTER_FOREVER, name, *WEBHOOKS, seed=13, longest=1.0):
        try:
            block = DiscordAlerts.load(name)
        except ValueError:  # killed before its first save
            continue
        assert block.webhook_url.get_secret_value() in WEBHOOKS
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", WEBHOOKS[0])
    assert main(["blocks", "register", "--name", name, "--overwrite"]) == 0
    assert DiscordAlerts.load(name).webhook_url.get_secret_value() == WEBHOOKS[0]
