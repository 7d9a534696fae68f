"""What importing the kit costs next to importing Prefect, the floor it builds on.

Two pairs, each kit variant against the Prefect variant a user would write instead:
`import ff_prefect_kit` vs `import prefect` (the target: at most 1.1x), and the
decorators a flow module imports, `from ff_prefect_kit import analytics_task,
monitored_flow` vs `from prefect import flow, task` (both load Prefect's engine).

Each sample is a fresh interpreter that runs one import and exits; all variants
alternate, so they see the same machine load and the same bytecode cache state (none
when PYTHONDONTWRITEBYTECODE=1, as in CI). Prints each variant's median and spread
and the ratio of the medians in each pair.

    uv run python bench/bench_import.py [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

VARIANTS = {
    "import prefect": "import prefect",
    "import ff_prefect_kit": "import ff_prefect_kit",
    "prefect flow, task": "from prefect import flow, task",
    "kit decorators": "from ff_prefect_kit import analytics_task, monitored_flow",
}
PAIRS = [
    ("import ff_prefect_kit", "import prefect", 1.10),
    ("kit decorators", "prefect flow, task", None),
]


def sample(statement: str) -> float:
    """Seconds for a fresh interpreter to run `statement` and exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True)
    return time.perf_counter() - started


def main() -> None:
    """Alternate the variants, then print medians, spreads and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="samples per variant")
    args = parser.parse_args()
    for statement in VARIANTS.values():  # warm the OS file cache for both
        sample(statement)
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.runs):
        for name, statement in VARIANTS.items():
            times[name].append(sample(statement))
    print(f"{'variant':<24}{'median (s)':>12}{'min':>8}{'max':>8}   ({args.runs} runs each)")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<24}{median:>12.3f}{min(values):>8.3f}{max(values):>8.3f}")
    for kit, baseline, target in PAIRS:
        ratio = statistics.median(times[kit]) / statistics.median(times[baseline])
        goal = f" (target <= {target:.2f}x)" if target else ""
        print(f"{kit} / {baseline}: {ratio:.2f}x{goal}")


if __name__ == "__main__":
    main()
