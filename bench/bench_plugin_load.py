"""What the kit's pytest plugin adds to a test session that uses none of its fixtures.

Collects one unrelated test with the plugin loaded and with `-p no:ff_prefect_kit`,
each in a fresh `pytest` process, the two alternating so they share machine load
and the bytecode cache state. Prints each variant's median and spread and the
difference of the medians. Target: at most 0.3 s added.

    uv run python bench/bench_plugin_load.py [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEST = "def test_unrelated():\n    assert 1 + 1 == 2\n"
VARIANTS = {"without the plugin": ["-p", "no:ff_prefect_kit"], "with the plugin": []}


def sample(folder: Path, extra: list[str]) -> float:
    """Seconds for a fresh pytest process to collect the folder's one test."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *extra],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    """Alternate the variants, then print medians, spreads and the difference."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="samples per variant")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "test_unrelated.py").write_text(TEST)
        for extra in VARIANTS.values():  # warm the OS file cache for both
            sample(folder, extra)
        times: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
        for _ in range(args.runs):
            for variant, extra in VARIANTS.items():
                times[variant].append(sample(folder, extra))
    print(f"{'collect one test':<22}{'median (s)':>12}{'min':>8}{'max':>8}   ({args.runs} runs)")
    for variant, values in times.items():
        median = statistics.median(values)
        print(f"{variant:<22}{median:>12.3f}{min(values):>8.3f}{max(values):>8.3f}")
    added = statistics.median(times["with the plugin"]) - statistics.median(
        times["without the plugin"]
    )
    print(f"added by the plugin: {added:+.3f} s (target <= 0.300 s)")


if __name__ == "__main__":
    main()
