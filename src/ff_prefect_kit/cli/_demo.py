"""The main job: the example analytics chain end to end, on the embedded defaults.

synthetic raw stats -> dbt (staging, mrt_fantasy_actuals_weekly) -> the example flow under
Prefect (load -> value -> validate -> Parquet -> dbt mrt_player_valuation) -> a summary.
"""

from __future__ import annotations

import contextvars
import importlib.util
import logging
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from ff_prefect_kit._context import environment
from ff_prefect_kit._errors import ConfigError
from ff_prefect_kit.cli._api import check_prefect_api, prefect_value
from ff_prefect_kit.dbt._runner import run_dbt_models

__all__ = ["DemoOptions", "examples_dir", "run_demo"]

_FLOW_FILE = "analytics_template_flow.py"
_NEXT_STEPS = """
Next, in a project of your own:
  ff-prefect-kit init            the .env a first local run needs, kept out of git
  ff-prefect-kit new-flow NAME   a monitored flow, its tasks and a passing test
  Then docs/getting-started.md (in the kit's repository): tests, alerts, Prefect Cloud.
"""
_PROJECT = "dbt_project"


@dataclass(frozen=True)
class DemoOptions:
    """What the demo builds, and where."""

    workdir: Path
    seasons: int = 3
    players: int = 200
    seed: int = 42
    top: int = 10
    verbose: bool = False


def examples_dir() -> Path:
    """The `examples/` folder: shipped inside the wheel, or the source checkout's."""
    here = Path(__file__).resolve().parents[1]  # the ff_prefect_kit package
    for candidate in (here / "examples", here.parents[1] / "examples"):
        if (candidate / _FLOW_FILE).is_file() and (candidate / _PROJECT).is_dir():
            return candidate
    raise ConfigError(
        f"the example flow and dbt project were not found beside {here}: reinstall "
        "ff-prefect-kit, or run the demo from a checkout of its repository"
    )


def _load_example_flow(folder: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "ff_prefect_kit_example_flow", folder / _FLOW_FILE
    )
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot load the example flow from {folder / _FLOW_FILE}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _copy_project(source: Path, target: Path) -> None:
    # dbt's own outputs are rebuilt; everything else is refreshed from the example.
    shutil.copytree(
        source,
        target,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("target", "logs", "*.duckdb", "*.duckdb.wal", ".user.yml"),
    )


def _prestart_ephemeral_api() -> threading.Thread | None:
    """Start Prefect's local API in the background while dbt builds the marts.

    A new Prefect home's database is copied from the migrated one the kit keeps in
    the user's cache (as the test harness does), so the server skips the migrations
    that take most of its first start; the first start on a machine keeps a copy.
    """
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return None
    template = _kept_database()

    def start() -> None:
        try:
            from prefect.server.api.server import SubprocessASGIServer

            SubprocessASGIServer().start()
        except Exception:  # the flow run starts it again and reports any failure
            return
        if template is not None and not template.exists():
            _keep_database(template)

    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(start,), daemon=True)
    thread.start()
    return thread


def _kept_database() -> Path | None:
    """The kept migrated database, copied into a Prefect home that has none yet."""
    from ff_prefect_kit.testing._database import (
        database_path,
        database_template,
        default_database_cache,
        start_from,
    )

    cache = default_database_cache()
    if cache is None:
        return None
    template = database_template(cache)
    try:
        start_from(template, database_path())
    except OSError as exc:  # a copy that fails costs only the migrations
        logging.getLogger("ff_prefect_kit").debug("not starting from %s: %s", template, exc)
    return template


def _keep_database(template: Path) -> None:
    """Keep the new home's freshly migrated database for the next new home."""
    import sqlite3

    from ff_prefect_kit.testing._database import keep_database

    try:
        keep_database(template)
    except (OSError, sqlite3.Error) as exc:
        logging.getLogger("ff_prefect_kit").debug("could not keep %s: %s", template, exc)


def _step(out: TextIO, number: int, text: str, *, spinner: bool = False) -> Callable[[str], None]:
    """Print a step's title; return the function that prints how it ended."""
    print(f"[{number}/3] {text} ...", file=out, flush=True)
    begun = time.perf_counter()
    # On a terminal a long quiet step shows a spinner; elsewhere nothing more.
    status = _spinner(out, "building") if spinner else None

    def done(result: str) -> None:
        if status is not None:
            status.stop()
        print(f"      {result} ({time.perf_counter() - begun:.1f} s)", file=out, flush=True)

    return done


def _spinner(out: TextIO, text: str) -> Any:
    """A started rich spinner on `out` when it is a terminal, else `None`."""
    from rich.console import Console

    console = Console(file=out, highlight=False)
    if not console.is_terminal:
        return None
    status = console.status(text)
    status.start()
    return status


def _top_players(path: Path, top: int) -> list[dict[str, Any]]:
    import polars as pl

    return (
        pl.read_parquet(path)
        .sort("value_over_replacement", descending=True)
        .head(top)
        .select(
            "season",
            "display_name",
            "player_key",
            "position",
            "games_played",
            "points_per_game",
            "positional_rank",
            "value_over_replacement",
        )
        .to_dicts()
    )


def _print_table(rows: list[dict[str, Any]], out: TextIO) -> None:
    headers = ["season", "player", "pos", "games", "pts/game", "pos rank", "value over repl."]
    cells = [
        [
            str(r["season"]),
            r["display_name"] or f"(unmapped {r['player_key']})",
            r["position"],
            str(r["games_played"]),
            f"{r['points_per_game']:.2f}",
            str(r["positional_rank"]),
            f"{r['value_over_replacement']:+.2f}",
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)), file=out)


def _summarise(written: Any, database: Path, top: int, out: TextIO) -> None:
    print(file=out)
    print(f"DuckDB marts:   {database}", file=out)
    print(
        f"Parquet output: {written.path} ({written.rows:,} rows, {written.bytes:,} bytes)", file=out
    )
    print("dbt mart:       mrt_player_valuation (built from that Parquet)", file=out)
    print(f"\nTop {top} players by value over replacement:", file=out)
    _print_table(_top_players(Path(written.path), top), out)


def _wait_until_recorded(state: Any) -> None:
    """Let the API record the run's task runs (dbt's nodes among them) before it stops.

    Prefect's local API stopped with task-run events still to record prints tracebacks
    of its recorder's cancelled flush; the run itself is complete either way.
    """
    from ff_prefect_kit.testing._records import run_record

    try:
        run_record(state, timeout=30)
    except Exception:  # the run is complete: a slow or failing read costs only the wait
        logging.getLogger("ff_prefect_kit").debug("the API had not recorded every task run in 30 s")


def run_demo(
    options: DemoOptions, out: TextIO = sys.stdout, timings: dict[str, float] | None = None
) -> int:
    """Run the example chain in `options.workdir`; return the exit status.

    Args:
        options: Sizes, seed and the working directory.
        out: Where progress and the summary are printed.
        timings: Filled with each phase's seconds (for `bench/bench_demo.py`).

    Returns:
        0 when the flow completed, 1 when it did not.

    Raises:
        ConfigError: `PREFECT_API_URL` is set but unreachable, or the examples are missing.
    """
    dbt_logger = logging.getLogger("ff_prefect_kit.dbt")
    level_before = dbt_logger.level
    if not options.verbose:
        # dbt's per-node lines would bury the demo's own progress; put back after the
        # demo, so a process that runs it (a test, a notebook) keeps dbt's lines.
        dbt_logger.setLevel(logging.WARNING)
    try:
        return _run_demo(options, out, timings)
    finally:
        dbt_logger.setLevel(level_before)


def _run_demo(options: DemoOptions, out: TextIO, timings: dict[str, float] | None) -> int:
    started = time.perf_counter()
    phases = timings if timings is not None else {}
    step = partial(_step, out)
    check_prefect_api(prefect_value("PREFECT_API_URL"))
    examples = examples_dir()
    workdir = options.workdir.resolve()
    project = workdir / _PROJECT
    database = workdir / "ff_analytics.duckdb"
    data_dir = workdir / "data"

    done = step(1, f"Copying the example dbt project to {project}")
    workdir.mkdir(parents=True, exist_ok=True)
    _copy_project(examples / _PROJECT, project)
    done("copied")

    # The example project and flow read their paths from the kit's variables.
    variables: dict[str, str | None] = {
        "FF_DUCKDB_PATH": str(database),
        "FF_DBT_PROJECT_DIR": str(project),
        "FF_DATA_DIR": str(data_dir),
        # The demo's output stays in its folder, even where outputs go to a bucket.
        "FF_ANALYTICS_URL": None,
    }
    # The same vars for every dbt run, so dbt parses the project once.
    synthetic = {
        "synthetic_seasons": options.seasons,
        "synthetic_players": options.players,
        "synthetic_seed": options.seed,
    }
    server = _prestart_ephemeral_api()
    done = step(
        2,
        f"Building the marts with dbt from synthetic stats ({options.seasons} seasons x "
        f"{options.players} players, seed {options.seed})",
        spinner=True,
    )
    try:
        with environment(variables):
            built = run_dbt_models(
                "+mrt_fantasy_actuals_weekly", project_dir=project, vars=synthetic
            )
    except BaseException:
        done("failed")
        raise
    done(f"{len(built.nodes)} dbt nodes passed")
    generation = sum(n.execution_time for n in built.nodes if ".raw_" in n.unique_id)
    phases["synthetic data generation (dbt Python models)"] = generation
    phases["dbt build of the marts (rest)"] = built.elapsed - generation

    done = step(3, "Starting Prefect and running the analytics-template flow")
    flow_started = time.perf_counter()
    if server is not None:
        server.join()
    phases["waiting for Prefect's local API"] = time.perf_counter() - flow_started
    flow_module = _load_example_flow(examples)
    with environment(variables):
        state = flow_module.analytics_template_flow(dbt_vars=synthetic, return_state=True)
    if not state.is_completed():
        done(f"flow ended {state.name}")
        print(f"error: the analytics-template flow ended {state.name}: {state.message}", file=out)
        return 1
    written = state.result()
    phases["analytics-template flow (with dbt mrt_player_valuation)"] = (
        time.perf_counter() - flow_started - phases["waiting for Prefect's local API"]
    )
    done(f"flow completed: {written.rows:,} player-seasons valued")
    _wait_until_recorded(state)

    _summarise(written, database, options.top, out)
    phases["total"] = time.perf_counter() - started
    print(f"\nDemo finished in {phases['total']:.1f} s.", file=out)
    print(_NEXT_STEPS, file=out, end="")
    return 0
