"""What dead writers leave is swept; readers during rewrites read whole files."""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl

from ff_prefect_kit import write_parquet
from ff_prefect_kit.data import read_parquet
from ff_prefect_kit.data._parquet import STALE_AFTER


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_dead_writers_temporary_file_is_swept_by_the_next_write(tmp_path: Path) -> None:
    """Stale temp files of the kit's naming go; a fresh one and foreign files stay."""
    folder = tmp_path / "x"
    folder.mkdir()
    stale = folder / ".latest.parquet.0123456789ab.tmp"
    fresh = folder / ".latest.parquet.ba9876543210.tmp"
    foreign = folder / ".latest.parquet.not-ours.tmp"
    for path in (stale, fresh, foreign):
        path.write_bytes(b"half a file")
    _age(stale, STALE_AFTER + 60)
    _age(foreign, STALE_AFTER + 60)
    write_parquet.fn(pl.DataFrame({"a": [1]}), "x/latest.parquet", root=tmp_path)
    assert not stale.exists()
    assert fresh.exists()
    assert foreign.exists()


# The writers below are new processes, killed or stopped: they import the plain function
# that `write_parquet.fn` wraps (the same write; outside a task run the wrapper records
# nothing), without the Task and its Prefect import, 2 s of CPU for each of 22 processes.
WRITER_IMPORTS = """
import polars as pl
from ff_prefect_kit.data._parquet import write_parquet as write
"""

REWRITER = textwrap.dedent(
    """
    import sys, time
    frames = [pl.DataFrame({"v": [n] * 200_000}) for n in (1, 2)]
    stop = time.monotonic() + float(sys.argv[2])
    n = 0
    while time.monotonic() < stop:
        write(frames[n % 2], "latest.parquet", root=sys.argv[1], artifact=False)
        n += 1
    """
)


def test_reading_while_two_writers_rewrite_always_gives_a_whole_file(tmp_path: Path) -> None:
    """read_parquet opens the file once: every read is the old or the new file, never an error."""
    write_parquet.fn(pl.DataFrame({"v": [1] * 200_000}), "latest.parquet", root=tmp_path)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER_IMPORTS + REWRITER, str(tmp_path), "4"])
        for _ in range(2)
    ]
    seen = set()
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            frame = read_parquet(tmp_path / "latest.parquet")
            assert frame.height == 200_000
            seen.add(frame["v"].n_unique())
    finally:
        for writer in writers:
            writer.wait(timeout=60)
    assert seen == {1}


def test_a_live_writers_temporary_file_is_left_alone(tmp_path: Path) -> None:
    """A temp file whose writer still holds its lock is never swept, however old."""
    folder = tmp_path / "x"
    folder.mkdir()
    live = folder / ".latest.parquet.0123456789ab.tmp"
    live.write_bytes(b"being written")
    _age(live, STALE_AFTER + 60)
    with live.open("rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        write_parquet.fn(pl.DataFrame({"a": [1]}), "x/latest.parquet", root=tmp_path)
        assert live.exists()


KEEPS_WRITING = textwrap.dedent(
    """
    import sys
    frames = [pl.DataFrame({"v": [n] * 1_000_000, "s": ["x" * 20] * 1_000_000}) for n in (1, 2)]
    print("ready", flush=True)
    n = 0
    while True:
        write(frames[n % 2], "latest.parquet", root=sys.argv[1], artifact=False)
        n += 1
    """
)


def test_twenty_kills_at_random_points_leave_a_whole_file_and_no_litter(tmp_path: Path) -> None:
    """SIGKILL at 20 random moments: the output is always a whole file; the next write sweeps."""
    rng = random.Random(20261129)
    write_parquet.fn(
        pl.DataFrame({"v": [0] * 10, "s": ["x"] * 10}), "latest.parquet", root=tmp_path
    )
    killed_mid_write = 0
    for _ in range(20):
        with subprocess.Popen(
            [sys.executable, "-c", WRITER_IMPORTS + KEEPS_WRITING, str(tmp_path)],
            stdout=subprocess.PIPE,
            text=True,
        ) as writer:
            assert writer.stdout is not None
            assert writer.stdout.readline().strip() == "ready"
            # Let the writer reach a random point of its loop, then kill it there.
            with contextlib.suppress(subprocess.TimeoutExpired):
                writer.wait(timeout=rng.uniform(0.0, 0.8))
            writer.kill()
        frame = read_parquet(tmp_path / "latest.parquet")
        assert frame["v"].n_unique() == 1
        assert frame.height in (10, 1_000_000)
        killed_mid_write += bool(list(tmp_path.glob("*.tmp")))
    assert killed_mid_write, "no kill landed mid-write: the test did not test that case"
    for leftover in tmp_path.glob("*.tmp"):
        _age(leftover, 60)
    write_parquet.fn(pl.DataFrame({"v": [3]}), "latest.parquet", root=tmp_path)
    assert list(tmp_path.glob("*.tmp")) == []
