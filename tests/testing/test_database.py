"""The harness's kept database: a whole, named copy that later sessions start from."""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest

from ff_prefect_kit.testing import default_database_cache
from ff_prefect_kit.testing._database import (
    KEPT_RELEASES,
    database_path,
    database_template,
    keep_database,
    start_from,
)
from ff_prefect_kit.testing._harness import _keep


def _database(path: Path) -> sqlite3.Connection:
    """A WAL database whose one row is still in the write-ahead log while it is open."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute("CREATE TABLE alembic_version (version_num TEXT)")
    db.execute("INSERT INTO alembic_version VALUES ('head')")
    db.commit()
    return db


def test_kept_database_is_a_whole_copy(tmp_path: Path) -> None:
    """The kept copy holds the server's rows, write-ahead log included."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL, temporary_settings

    live = tmp_path / "live.db"
    server = _database(live)
    template = tmp_path / "cache" / "prefect-test.db"
    url = f"sqlite+aiosqlite:///{live}"
    with closing(server), temporary_settings({PREFECT_SERVER_DATABASE_CONNECTION_URL: url}):
        assert database_path() == live
        keep_database(template)
    assert [p.name for p in template.parent.iterdir()] == [template.name]
    with closing(sqlite3.connect(template)) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [("head",)]


def test_a_new_server_starts_from_the_kept_database(tmp_path: Path) -> None:
    """A database file that does not exist yet starts as a copy of the kept one."""
    template = tmp_path / "kept.db"
    _database(template).close()
    database = tmp_path / "server.db"
    start_from(template, database)
    assert database.read_bytes() == template.read_bytes()


def test_an_existing_database_is_never_replaced(tmp_path: Path) -> None:
    """A server database that already exists keeps its content."""
    template = tmp_path / "kept.db"
    _database(template).close()
    database = tmp_path / "server.db"
    database.write_bytes(b"in use")
    start_from(template, database)
    assert database.read_bytes() == b"in use"


def test_a_damaged_kept_database_is_removed_not_copied(tmp_path: Path) -> None:
    """A kept copy SQLite cannot read is dropped, and the server migrates a new one."""
    template = tmp_path / "kept.db"
    template.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    database = tmp_path / "server.db"
    start_from(template, database)
    assert not template.exists()
    assert not database.exists()


def _keep_with_others(tmp_path: Path, ages: dict[str, float]) -> tuple[Path, Path]:
    """Keep the live database in a cache folder holding other releases' copies.

    `ages` maps each other copy's name to how many days ago it was last used.
    """
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL, temporary_settings

    live = tmp_path / "live.db"
    _database(live).close()
    cache = tmp_path / "cache"
    cache.mkdir()
    for name, days in ages.items():
        (cache / name).write_bytes(b"old")
        used = time.time() - days * 86400
        os.utime(cache / name, (used, used))
    template = database_template(cache)
    with temporary_settings(
        {PREFECT_SERVER_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{live}"}
    ):
        keep_database(template)
    return cache, template


def test_keeping_a_database_keeps_another_releases_copy(tmp_path: Path) -> None:
    """A project on another Prefect release sharing the folder keeps its copy."""
    other = "prefect-3.6.3-000000000000.db"
    cache, template = _keep_with_others(tmp_path, {other: 1})
    assert sorted(p.name for p in cache.iterdir()) == sorted([template.name, other])


def test_keeping_a_database_removes_the_least_recently_used_copies(tmp_path: Path) -> None:
    """Beyond KEPT_RELEASES copies, the ones used longest ago are removed."""
    ages = {f"prefect-3.{n}.0-000000000000.db": float(n) for n in range(KEPT_RELEASES + 1)}
    cache, template = _keep_with_others(tmp_path, ages)
    newest = sorted(ages, key=ages.__getitem__)[: KEPT_RELEASES - 1]
    assert sorted(p.name for p in cache.iterdir()) == sorted([template.name, *newest])


def test_starting_from_a_copy_marks_it_used(tmp_path: Path) -> None:
    """A session starting from a kept copy makes it the most recently used."""
    template = tmp_path / "prefect-test.db"
    _database(template).close()
    os.utime(template, (1.0, 1.0))
    start_from(template, tmp_path / "new.db")
    assert template.stat().st_mtime > time.time() - 600


def test_the_kept_database_is_named_by_release_and_migrations(tmp_path: Path) -> None:
    """The name carries Prefect's version and a digest of its migrations."""
    import prefect

    name = database_template(tmp_path).name
    assert name.startswith(f"prefect-{prefect.__version__}-")
    assert name == database_template(tmp_path).name


def test_an_unwritable_cache_costs_only_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A cache folder that cannot be created is reported and the session goes on."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL, temporary_settings

    live = tmp_path / "live.db"
    _database(live).close()
    (tmp_path / "not-a-folder").write_text("")
    template = tmp_path / "not-a-folder" / "prefect.db"
    with temporary_settings(
        {PREFECT_SERVER_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{live}"}
    ):
        _keep(template)
    assert "could not keep the migrated database" in caplog.text


def test_the_kept_database_lives_in_the_users_cache_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Outside any project: XDG_CACHE_HOME (or ~/.cache), so fresh clones find it."""
    monkeypatch.delenv("FF_PREFECT_KIT_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_database_cache() == tmp_path / "ff-prefect-kit"


@pytest.mark.parametrize(("value", "expected"), [("", None), ("/somewhere", Path("/somewhere"))])
def test_ff_prefect_kit_cache_moves_or_switches_off_the_kept_database(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: Path | None
) -> None:
    """FF_PREFECT_KIT_CACHE names another folder, or (empty) keeps none."""
    monkeypatch.setenv("FF_PREFECT_KIT_CACHE", value)
    assert default_database_cache() == expected
