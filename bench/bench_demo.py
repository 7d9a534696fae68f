"""Where the main job's time goes: the demo's phases and their shares of the total.

Runs `ff-prefect-kit demo` in-process in a temporary directory, on Prefect's local
ephemeral API (unless PREFECT_API_URL is set), then prints each phase's seconds and
its share of the whole run, the import of the kit included.

    uv run python bench/bench_demo.py [--seasons 3] [--players 200]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

started = time.perf_counter()
from ff_prefect_kit.cli._demo import DemoOptions, run_demo  # noqa: E402
from ff_prefect_kit.cli._main import embedded_defaults  # noqa: E402

IMPORTED = time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seasons", type=int, default=3)
    parser.add_argument("--players", type=int, default=200)
    args = parser.parse_args()
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder, embedded_defaults():
        options = DemoOptions(workdir=Path(folder), seasons=args.seasons, players=args.players)
        status = run_demo(options, out=io.StringIO(), timings=timings)
    if status != 0:
        raise SystemExit(f"the demo failed with status {status}")
    total = timings.pop("total") + IMPORTED
    phases = {"import ff_prefect_kit (and Prefect)": IMPORTED, **timings}
    print(f"demo: {args.seasons} seasons x {args.players} players, {total:.1f} s in all")
    width = max(len(name) for name in phases)
    for name, seconds in phases.items():
        print(f"  {name:<{width}}  {seconds:6.2f} s  {seconds / total:6.1%}")
    other = total - sum(phases.values())
    print(f"  {'other (copying, summary)':<{width}}  {other:6.2f} s  {other / total:6.1%}")


if __name__ == "__main__":
    main()
