"""Checks of where the flows read and write: the DuckDB file, the data folder, a bucket."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ff_prefect_kit._errors import DUCKDB_LOCK_TEXTS
from ff_prefect_kit.cli._doctor._result import CheckResult, describe, fail, ok, skip, warn

if TYPE_CHECKING:
    from ff_prefect_kit._settings import KitSettings

__all__ = ["check_bucket", "check_data_dir", "check_duckdb"]


def check_duckdb(settings: KitSettings | None) -> CheckResult:
    name = "DuckDB file"
    if settings is None:
        return skip(name, "the settings could not be read")
    if settings.duckdb_path is None:
        return skip(name, "FF_DUCKDB_PATH is not set (mart loaders then need a path)")
    path = Path(settings.duckdb_path)
    build = "build the marts (`dbt build`) to create it, or point FF_DUCKDB_PATH at the file"
    if not path.exists():
        return fail(name, f"FF_DUCKDB_PATH={path} does not exist", build)
    if not path.is_file():
        return fail(name, f"FF_DUCKDB_PATH={path} is not a file", build)
    return _open_duckdb(name, path)


def _open_duckdb(name: str, path: Path) -> CheckResult:
    try:
        import duckdb

        with duckdb.connect(str(path), read_only=True) as connection:
            row = connection.execute("select count(*) from information_schema.tables").fetchone()
    except Exception as exc:
        text = describe(exc)
        if any(marker in text for marker in DUCKDB_LOCK_TEXTS):
            return warn(
                name,
                f"{path} is locked by another process",
                "a writer (usually dbt) holds it: run doctor again when it is done",
            )
        return fail(
            name,
            f"{path} does not open read-only: {text}",
            "point FF_DUCKDB_PATH at the database dbt-duckdb writes (its profiles.yml `path`)",
        )
    tables = row[0] if row else 0
    return ok(name, f"{path} opens read-only ({tables} tables and views)")


def _writable(folder: Path) -> str | None:
    """Why `folder` cannot take a new file, or `None` when it can (tried, not guessed)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def check_data_dir(settings: KitSettings | None) -> CheckResult:
    name = "Data folder"
    if settings is None:
        return skip(name, "the settings could not be read")
    path = Path(settings.data_dir)
    fix = "set FF_DATA_DIR to a folder you can write, or fix the permissions"
    if path.is_dir():
        if problem := _writable(path):
            return fail(name, f"FF_DATA_DIR={path} is not writable ({problem})", fix)
        return ok(name, f"{path} is writable")
    if path.exists():
        return fail(name, f"FF_DATA_DIR={path} is not a folder", fix)
    if problem := _uncreatable(path):
        return fail(name, f"FF_DATA_DIR={path} cannot be created: {problem}", fix)
    return ok(name, f"{path} does not exist yet; it is created on the first write")


def _uncreatable(path: Path) -> str | None:
    """Why folder `path` cannot be made, or `None`; nothing is created to find out."""
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is a file"
    if problem := _writable(ancestor):
        return f"{ancestor} is not writable ({problem})"
    return None


def check_bucket(settings: KitSettings | None, timeout: float) -> CheckResult:
    """FF_ANALYTICS_URL, when set: a small object written and deleted there (tried)."""
    name = "Output bucket"
    if settings is None:
        return skip(name, "the settings could not be read")
    if settings.analytics_url is None:
        return skip(name, "FF_ANALYTICS_URL is not set: outputs are written under FF_DATA_DIR")
    from ff_prefect_kit._errors import ConfigError, ObjectStoreError, OutputPathError
    from ff_prefect_kit.data._object_store import probe

    try:
        probe(settings.analytics_url, timeout)
    except (OutputPathError, ConfigError) as exc:
        return fail(name, describe(exc), "fix FF_ANALYTICS_URL or the AWS_* credentials it needs")
    except ObjectStoreError as exc:
        return fail(
            name,
            describe(exc),
            "check AWS_ENDPOINT_URL (AWS_ALLOW_HTTP=true for http://) and the network",
        )
    return ok(name, f"{settings.analytics_url} takes a new object (written and deleted)")
