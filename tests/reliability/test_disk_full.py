"""A full disk during a write: DiskFullError, the previous file intact, nothing partial left."""

from __future__ import annotations

import errno
import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from ff_prefect_kit import DiskFullError, KitError, write_parquet

SMALL = pl.DataFrame({"week": [1, 2, 3]})


def _random_frame(rows: int) -> pl.DataFrame:
    rng = random.Random(7)
    return pl.DataFrame({"noise": [rng.random() for _ in range(rows)]})


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs mounted for the test; skipped where mounting is not allowed."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_device_raises_disk_full_and_keeps_the_previous_file(tiny_disk: Path) -> None:
    """Writing 4 MB to a 512 KiB device: DiskFullError; the old file reads back whole."""
    write_parquet.fn(SMALL, "weekly/latest.parquet", root=tiny_disk)
    with pytest.raises(DiskFullError, match=r"no space left to write 'weekly/latest\.parquet'"):
        write_parquet.fn(_random_frame(500_000), "weekly/latest.parquet", root=tiny_disk)
    assert pl.read_parquet(tiny_disk / "weekly" / "latest.parquet").equals(SMALL)
    assert os.listdir(tiny_disk / "weekly") == ["latest.parquet"]


def test_disk_full_names_the_fix_and_is_retried(tiny_disk: Path) -> None:
    """The error says to free space or move FF_DATA_DIR; analytics tasks retry it."""
    with pytest.raises(DiskFullError) as caught:
        write_parquet.fn(_random_frame(500_000), "weekly/latest.parquet", root=tiny_disk)
    assert "free space on that device or point FF_DATA_DIR" in str(caught.value)
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.transient


def test_a_quota_hit_while_syncing_is_disk_full_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EDQUOT from the fsync before the rename: DiskFullError, old file kept, no temp file."""
    write_parquet.fn(SMALL, "latest.parquet", root=tmp_path)

    def quota_exceeded(path: object) -> None:
        raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))

    monkeypatch.setattr("ff_prefect_kit.data._parquet.fsync_file", quota_exceeded)
    with pytest.raises(DiskFullError) as caught:
        write_parquet.fn(_random_frame(10), "latest.parquet", root=tmp_path)
    assert caught.value.errno == errno.EDQUOT
    assert isinstance(caught.value, KitError)
    assert isinstance(caught.value, OSError)
    assert pl.read_parquet(tmp_path / "latest.parquet").equals(SMALL)
    assert os.listdir(tmp_path) == ["latest.parquet"]
