"""The harness's SQLite database: kept migrated between sessions, copied to start from."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from contextlib import closing
from pathlib import Path

from ff_prefect_kit._fsync import fsync_directory, fsync_file
from ff_prefect_kit._internals import prefect_migrations

__all__ = [
    "CACHE_VARIABLE",
    "KEPT_RELEASES",
    "database_path",
    "database_template",
    "default_database_cache",
    "keep_database",
    "start_from",
]

CACHE_VARIABLE = "FF_PREFECT_KIT_CACHE"
"""Where the kept test database lives; set it empty to keep none."""

_log = logging.getLogger("ff_prefect_kit.testing.server")


def default_database_cache() -> Path | None:
    """The user-level folder for the kept migrated database, or `None` for none.

    `FF_PREFECT_KIT_CACHE` when set (empty: keep none), else `ff-prefect-kit` in the
    user's cache folder (`$XDG_CACHE_HOME`, else `~/.cache`). Outside any project, so a
    fresh clone, another checkout or another project on the machine starts its first
    test session from the copy instead of migrating a new database.
    """
    chosen = os.environ.get(CACHE_VARIABLE)
    if chosen is not None:
        return Path(chosen) if chosen.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ff-prefect-kit"


def database_path() -> Path | None:
    """The current settings' SQLite database file, or `None` for another database."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    url = str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value() or "")
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix) or ":memory:" in url:
        return None
    return Path(url.removeprefix(prefix))


def database_template(folder: Path) -> Path:
    """Where in `folder` the migrated database of the installed Prefect is kept.

    Named by Prefect's release and its SQLite migrations, so that neither a new
    release nor a development install with new migrations starts from a stale copy.
    """
    import hashlib

    import prefect

    names = sorted(p.name for p in prefect_migrations().glob("*.py"))
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:12]
    return folder / f"prefect-{prefect.__version__}-{digest}.db"


def keep_database(template: Path) -> None:
    """Copy the current SQLite database to `template`, consistently and atomically.

    Uses SQLite's backup API, so a running server's write-ahead log is included.
    Of the copies kept for other Prefect releases in the same folder, the
    `KEPT_RELEASES - 1` used last stay (projects on different releases share the
    folder without evicting each other's copy); older ones are removed.

    Raises:
        OSError: The folder cannot be written.
        sqlite3.Error: The database could not be read.
    """
    import sqlite3
    import tempfile

    source = database_path()
    if source is None or not source.exists():
        return
    template.parent.mkdir(parents=True, exist_ok=True)
    _sweep_partials(template.parent)
    handle, partial = tempfile.mkstemp(dir=template.parent, prefix=f".{template.name}.")
    os.close(handle)
    try:
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)
            # One self-contained file, so that a plain file copy of it is whole.
            dst.execute("PRAGMA journal_mode = DELETE")
        fsync_file(partial)
        os.replace(partial, template)
    finally:
        Path(partial).unlink(missing_ok=True)
    fsync_directory(template.parent)
    _remove_least_recently_used(template)


KEPT_RELEASES = 3
"""How many Prefect releases' copies a cache folder keeps, the one just kept included."""


def _last_used(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile by another session
        return 0.0


def _remove_least_recently_used(template: Path) -> None:
    """Remove all but the `KEPT_RELEASES - 1` copies used last, besides `template`."""
    others = [p for p in template.parent.glob("prefect-*.db") if p != template]
    others.sort(key=_last_used, reverse=True)
    for other in others[KEPT_RELEASES - 1 :]:
        other.unlink(missing_ok=True)


PARTIAL_STALE_AFTER = 600.0
"""Seconds after which a partial copy is a killed session's: a copy takes about one."""


def _sweep_partials(folder: Path) -> None:
    """Remove partial copies that sessions killed mid-copy left behind."""
    import time

    cutoff = time.time() - PARTIAL_STALE_AFTER
    for partial in folder.glob(".prefect-*.db.*"):
        with contextlib.suppress(OSError):
            if partial.stat().st_mtime < cutoff:
                partial.unlink()


def _sound(database: Path) -> bool:
    import sqlite3

    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            return bool(db.execute("PRAGMA quick_check").fetchone() == ("ok",))
    except sqlite3.Error:
        return False


def start_from(template: Path | None, database: Path | None) -> None:
    """Copy `template` to a database file that does not exist yet.

    A kept copy that SQLite finds damaged is removed; the server then migrates a
    new database, and the session keeps that one instead.
    """
    if template is None or database is None:
        return
    if not template.exists() or database.exists():
        return
    if not _sound(template):
        _log.warning("removing the damaged kept database %s", template)
        template.unlink(missing_ok=True)
        return
    # Alembic finds the copy at its head revision and skips the migrations.
    shutil.copyfile(template, database)
    # Marks the copy as used, so that other releases' sessions keep it (a read-only cache
    # folder only loses that mark).
    with contextlib.suppress(OSError):
        os.utime(template)
