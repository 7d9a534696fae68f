"""What dead writers leave is swept; readers during rewrites read whole files."""

from __future__ import annotations

import os
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


REWRITER = textwrap.dedent(
    """
    import sys, time
    import polars as pl
    from ff_prefect_kit import write_parquet
    frames = [pl.DataFrame({"v": [n] * 200_000}) for n in (1, 2)]
    stop = time.monotonic() + float(sys.argv[2])
    n = 0
    while time.monotonic() < stop:
        write_parquet.fn(frames[n % 2], "latest.parquet", root=sys.argv[1], artifact=False)
        n += 1
    """
)


def test_reading_while_two_writers_rewrite_always_gives_a_whole_file(tmp_path: Path) -> None:
    """read_parquet opens the file once: every read is the old or the new file, never an error."""
    write_parquet.fn(pl.DataFrame({"v": [1] * 200_000}), "latest.parquet", root=tmp_path)
    writers = [
        subprocess.Popen([sys.executable, "-c", REWRITER, str(tmp_path), "4"]) for _ in range(2)
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
