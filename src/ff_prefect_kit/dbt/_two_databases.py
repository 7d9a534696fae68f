"""The warning that a relative FF_DUCKDB_PATH names two databases, said once per pair of files.

The mart loaders open a relative path from this process's working directory, while
dbt opens it from the directory it runs in (the project's, or `working_dir`): two
files, and a flow that reads a mart dbt never built. The pairs already warned about
are kept in the kit's state (`_config.state.warned_database_pairs`); `reset_state()`
forgets them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ff_prefect_kit import _config
from ff_prefect_kit._settings import diverging_duckdb_paths
from ff_prefect_kit.dbt._in_process import working_directory

__all__ = ["warn_if_two_databases"]

_dbt_logger = logging.getLogger("ff_prefect_kit.dbt")


def warn_if_two_databases(
    loaders: str | os.PathLike[str] | None, dbt: str | None, dbt_dir: Path
) -> None:
    """Say once when a relative FF_DUCKDB_PATH makes dbt build a file the flow does not read.

    Skipped, without waiting, while another thread's in-process dbt run holds the
    working directory (in its project): the pair is not remembered, so a later call
    checks it again.

    Args:
        loaders: The path the kit's settings give the mart loaders.
        dbt: The path in dbt's environment (the call's `env`, else this process's).
        dbt_dir: The directory dbt runs in (the project's, or `working_dir`).
    """
    cwd = working_directory()
    if cwd is None:
        return
    paths = diverging_duckdb_paths(loaders, dbt, dbt_dir, cwd)
    if paths is None:
        return
    with _config.state.lock:
        if paths in _config.state.warned_database_pairs:
            return
        _config.state.warned_database_pairs.add(paths)
    here, there = paths
    _dbt_logger.warning(
        "FF_DUCKDB_PATH names two files: dbt, run in %s, builds %s, while this process's "
        "mart loaders read %s; set FF_DUCKDB_PATH to an absolute path",
        dbt_dir,
        there,
        here,
    )
