"""Prefect assets: what the kit's tasks read and write, recorded as asset lineage.

Prefect records lineage from the `AssetContext` of the running task: a task's
`direct_asset_dependencies` pass on to the tasks that take its result, and a task with
`downstream_assets` emits `prefect.asset.materialization.succeeded` (with its upstream
assets as related resources) when it completes. Those assets are fixed when a task is
declared (`@materialize`, `asset_deps=`), but the kit's asset is known only once the
task runs (which mart, which file): so the task adds it to its own, running
`AssetContext`. This module is the one place that touches that context, and every
function here does nothing where it is missing: outside a task run, or on a Prefect
without assets.

Asset keys: a DuckDB table is `duckdb://<absolute database path>/<table>`, a file is
`file://<absolute path>`.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ParamSpec

from ff_prefect_kit._settings import KitSettings

__all__ = [
    "file_asset_key",
    "mart_asset_key",
    "materializes",
    "passes_on",
    "reads",
    "table_asset_key",
    "valid_asset_keys",
]

_log = logging.getLogger("ff_prefect_kit.assets")
_P = ParamSpec("_P")


def _report_only(record: Callable[_P, None]) -> Callable[_P, None]:
    """Lineage is a report: recording it never fails the task that wrote the data."""

    @functools.wraps(record)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            record(*args, **kwargs)
        except Exception:
            _log.debug("asset lineage not recorded (%s)", record.__name__, exc_info=True)

    return guarded


def file_asset_key(path: str | os.PathLike[str]) -> str:
    """The asset key of a file: `file://` and its absolute path."""
    return f"file://{Path(path).resolve().as_posix()}"


def table_asset_key(database: str | os.PathLike[str], table: str) -> str:
    """The asset key of a DuckDB table or view: `duckdb://<database path>/<table>`."""
    return f"duckdb://{Path(database).resolve().as_posix()}/{table}"


def mart_asset_key(mart_name: str, db_path: str | os.PathLike[str] | None = None) -> str | None:
    """The asset key of a mart: `duckdb://<database path>/<table>`; `None` if unknown.

    DuckDB's default schema is left out (`main.mrt_x` is `mrt_x`), as dbt's models are
    keyed by their table name, so that the mart a flow loads and the model dbt builds
    are one asset.
    """
    if db_path is None:
        db_path = KitSettings().duckdb_path
        if db_path is None:
            return None
    parts = mart_name.split(".")[-2:]
    if parts[0] == "main":
        parts = parts[1:]
    return table_asset_key(db_path, ".".join(parts))


def valid_asset_keys(keys: Iterable[str]) -> list[Any]:
    """`prefect.assets.Asset`s for the keys Prefect accepts; `[]` without assets.

    A key Prefect refuses (a path with a space or `#`, longer than 512 characters) is
    left out and logged at debug level: lineage is a report, never a reason to fail.
    """
    try:
        from prefect.assets import Asset
    except ImportError:  # Prefect before assets (< 3.3)
        return []
    assets = []
    for key in keys:
        try:
            assets.append(Asset(key=key))
        except ValueError as exc:
            _log.debug("not recording asset %r: %s", key, exc)
    return assets


def _context() -> Any:
    try:
        from prefect.context import AssetContext
    except ImportError:  # Prefect before assets (< 3.3)
        return None
    return AssetContext.get()


@_report_only
def reads(*keys: str) -> None:
    """Record that the running task read these assets; they pass on to its consumers."""
    context = _context()
    if context is None:
        return
    context.direct_asset_dependencies.update(valid_asset_keys(keys))
    context.update_tracked_assets()


@_report_only
def materializes(key: str, metadata: Mapping[str, Any] | None = None, *, by: str) -> None:
    """Record that the running task wrote this asset.

    Prefect emits `prefect.asset.materialization.succeeded` for it when the task run
    completes, with the assets the task's inputs came from as upstream assets.

    Args:
        key: The asset key.
        metadata: The materialization event's payload (rows, bytes).
        by: The tool that wrote it, shown as the asset's `materialized-by`.
    """
    context = _context()
    assets = valid_asset_keys([key])
    if context is None or not assets:
        return
    context.downstream_assets.update(assets)
    if context.materialized_by is None:
        context.materialized_by = by
    if metadata:
        context.add_asset_metadata(key, dict(metadata))
    context.update_tracked_assets()


@_report_only
def passes_on(keys: Iterable[str]) -> None:
    """Make these assets the upstream assets of the tasks that take this task's result."""
    context = _context()
    if context is None:
        return
    context.direct_asset_dependencies.update(valid_asset_keys(keys))
    context.update_tracked_assets()
