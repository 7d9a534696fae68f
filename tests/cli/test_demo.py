"""The main job, end to end: synthetic data -> dbt -> the example flow -> Parquet -> dbt."""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ff_prefect_kit.cli._demo import DemoOptions, examples_dir, run_demo


def test_examples_are_found_from_the_package() -> None:
    """The demo finds the example flow and dbt project it runs."""
    folder = examples_dir()
    assert (folder / "analytics_template_flow.py").is_file()
    assert (folder / "dbt_project" / "dbt_project.yml").is_file()


@dataclass(frozen=True)
class SmallDemo:
    """One small demo run: its options and what it printed."""

    options: DemoOptions
    output: str


@pytest.fixture(scope="module")
def small_demo(prefect_test_harness: object, tmp_path_factory: pytest.TempPathFactory) -> SmallDemo:
    """One small demo run, shared by the tests that read what it printed or left behind."""
    options = DemoOptions(
        workdir=tmp_path_factory.mktemp("demo"), seasons=1, players=20, seed=1, top=3
    )
    out = io.StringIO()
    assert run_demo(options, out=out) == 0, out.getvalue()
    return SmallDemo(options, out.getvalue())


def test_demo_runs_twice_in_the_same_directory(small_demo: SmallDemo) -> None:
    """The demo succeeds twice in one directory; the second run replaces the outputs."""
    workdir = small_demo.options.workdir
    parquet = workdir / "data" / "analytics" / "player_valuation" / "latest.parquet"
    before = pl.read_parquet(parquet)

    second = io.StringIO()
    assert run_demo(small_demo.options, out=second) == 0, second.getvalue()
    after = pl.read_parquet(parquet)

    assert after.equals(before)
    assert not list(parquet.parent.glob("*.tmp"))
    assert "Top 3 players by value over replacement:" in second.getvalue()
    with duckdb.connect(str(workdir / "ff_analytics.duckdb"), read_only=True) as con:
        (rows,) = con.sql("select count(*) from mrt_player_valuation").fetchall()[0]
    assert rows == after.height > 0


@pytest.mark.usefixtures("small_demo")
def test_the_demo_leaves_dbts_log_level_as_it_found_it() -> None:
    """The demo quiets dbt's per-node lines while it runs; afterwards they show again."""
    import logging

    assert logging.getLogger("ff_prefect_kit.dbt").getEffectiveLevel() <= logging.INFO


def test_the_demo_ends_with_what_to_try_next(small_demo: SmallDemo) -> None:
    """After the summary, the demo names the next commands: init, new-flow, and the docs."""
    ending = small_demo.output.rpartition("Demo finished in ")[2].splitlines()[1:]
    assert ending[1] == "Next, in a project of your own:"
    assert ending[2].split()[:2] == ["ff-prefect-kit", "init"]
    assert ending[3].split()[:2] == ["ff-prefect-kit", "new-flow"]
    assert "docs/getting-started.md" in ending[4]


def _sqlite_file(path: Path, marker: str) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("create table marker (name text)")
        db.execute("insert into marker values (?)", (marker,))
        db.commit()


def _marker(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as db:
        (name,) = db.execute("select name from marker").fetchone()
    return str(name)


@pytest.fixture
def kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user cache holding a kept database for the installed Prefect."""
    from ff_prefect_kit.testing._database import database_template

    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("FF_PREFECT_KIT_CACHE", str(cache))
    template = database_template(cache)
    _sqlite_file(template, "kept")
    return template


def _kept_database_in(home: Path) -> Path | None:
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_HOME,
        PREFECT_SERVER_DATABASE_CONNECTION_URL,
        temporary_settings,
    )

    from ff_prefect_kit.cli._demo import _kept_database

    # As in the command's own process: no API, the database in the Prefect home.
    defaults = {PREFECT_API_URL, PREFECT_SERVER_DATABASE_CONNECTION_URL}
    with temporary_settings({PREFECT_HOME: home}, restore_defaults=defaults):
        return _kept_database()


def test_a_new_prefect_home_starts_from_the_kept_database(kept: Path, tmp_path: Path) -> None:
    """Without an API, the demo's new Prefect home gets the kept migrated database."""
    home = tmp_path / "home"
    home.mkdir()
    assert _kept_database_in(home) == kept
    assert _marker(home / "prefect.db") == "kept"


def test_a_home_with_a_database_keeps_its_own(kept: Path, tmp_path: Path) -> None:
    """A repeat run's Prefect home keeps its database; nothing is copied over it."""
    home = tmp_path / "home"
    home.mkdir()
    _sqlite_file(home / "prefect.db", "own")
    _kept_database_in(home)
    assert _marker(home / "prefect.db") == "own"


@dataclass(frozen=True)
class MainJob:
    """The README's main job, run as a user runs it, and where it ran."""

    done: subprocess.CompletedProcess[str]
    workdir: Path
    user_home: Path

    @property
    def output(self) -> str:
        return self.done.stdout + self.done.stderr


@pytest.fixture(scope="module")
def main_job(tmp_path_factory: pytest.TempPathFactory) -> MainJob:
    """`ff-prefect-kit demo` (the console script) in its own process, with a home of its own."""
    root = tmp_path_factory.mktemp("main-job")
    user_home = root / "user-home"
    user_home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FF_"))}
    script = Path(sys.executable).with_name("ff-prefect-kit")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "ff_prefect_kit"]
    workdir = root / "demo"
    demo = ["demo", "--workdir", str(workdir), "--seasons", "1", "--players", "50"]
    done = subprocess.run(
        [*command, *demo],
        env={**env, "FF_ENV_FILE": os.devnull, "HOME": str(user_home)},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    return MainJob(done, workdir, user_home)


def test_the_main_job_ends_without_a_traceback(main_job: MainJob) -> None:
    """`ff-prefect-kit demo` in its own process: exit 0, and no traceback as Prefect's API stops."""
    assert main_job.done.returncode == 0, main_job.output[-3000:]
    assert "Demo finished in" in main_job.output
    assert "Traceback" not in main_job.output, main_job.output[-5000:]


def test_the_main_job_keeps_its_own_prefect_home(main_job: MainJob) -> None:
    """The demo's Prefect database is in its folder; none is made in the user's ~/.prefect."""
    assert main_job.done.returncode == 0, main_job.output[-3000:]
    assert (main_job.workdir / ".prefect" / "prefect.db").is_file()
    assert not (main_job.user_home / ".prefect" / "prefect.db").exists()
