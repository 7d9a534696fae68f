"""`write_parquet`: whole files only, under the analytics root."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import polars as pl
import pytest
from pydantic import BaseModel

from ff_prefect_kit import OutputPathError, ParquetWriteError, write_parquet
from ff_prefect_kit.data import ParquetWriteResult, column_profile, resolve_output_path
from ff_prefect_kit.data._parquet import _new_temp_file


class Score(BaseModel):
    player_id: int
    points: float


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A fresh analytics root."""
    return tmp_path / "analytics"


def test_writes_a_frame_under_the_root_and_reports_it(root: Path) -> None:
    """A relative path lands under the root; the result gives path, rows and bytes."""
    df = pl.DataFrame({"player_id": [1, 2, 3], "points": [1.5, None, 3.0]})
    result = write_parquet.fn(df, "player_valuation/latest.parquet", root=root)
    assert result.path == (root / "player_valuation" / "latest.parquet").resolve()
    assert result.rows == 3
    assert result.bytes == result.path.stat().st_size > 0
    assert pl.read_parquet(result.path).equals(df)


def test_the_root_defaults_to_ff_data_dir_analytics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `root`, FF_DATA_DIR/analytics is the root."""
    monkeypatch.setenv("FF_DATA_DIR", str(tmp_path / "data"))
    result = write_parquet.fn(pl.DataFrame({"a": [1]}), "x/latest.parquet")
    assert result.path == (tmp_path / "data" / "analytics" / "x" / "latest.parquet").resolve()


def test_a_path_already_naming_the_root_is_not_nested(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A path that names the analytics root, `data/analytics/x/latest.parquet`, is not nested."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FF_DATA_DIR", "data")
    result = write_parquet.fn(pl.DataFrame({"a": [1]}), "data/analytics/x/latest.parquet")
    assert result.path == (tmp_path / "data" / "analytics" / "x" / "latest.parquet").resolve()


@pytest.mark.parametrize("path", ["data/analytics/x.parquet", "analytics/x.parquet"])
def test_a_path_repeating_the_roots_folders_from_elsewhere_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """Run from outside the project, `data/analytics/x.parquet` is refused, never nested."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "project" / "data" / "analytics"
    with pytest.raises(OutputPathError, match="relative to the root") as caught:
        write_parquet.fn(pl.DataFrame({"a": [1]}), path, root=root)
    assert repr(path) in str(caught.value)
    assert not root.exists()


def test_a_new_file_follows_the_umask(root: Path) -> None:
    """A new output is readable as any file the user creates: 0666 less the umask."""
    old = os.umask(0o022)
    try:
        result = write_parquet.fn(pl.DataFrame({"a": [1]}), "x.parquet", root=root)
    finally:
        os.umask(old)
    assert result.path.stat().st_mode & 0o777 == 0o644


def test_a_replaced_file_keeps_its_mode(root: Path) -> None:
    """Rewriting an output keeps the mode the old file had."""
    first = write_parquet.fn(pl.DataFrame({"a": [1]}), "x.parquet", root=root)
    first.path.chmod(0o640)
    second = write_parquet.fn(pl.DataFrame({"a": [2]}), "x.parquet", root=root)
    assert second.path.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(
    "path", ["../../etc/x.parquet", "../x.parquet", "a/../../x.parquet", "/etc/x.parquet"]
)
def test_a_path_escaping_the_root_is_refused(root: Path, path: str) -> None:
    """`../` and absolute paths elsewhere are refused, naming the path and the way out."""
    with pytest.raises(OutputPathError, match="allow_outside_root=True") as caught:
        write_parquet.fn(pl.DataFrame({"a": [1]}), path, root=root)
    assert repr(path) in str(caught.value)
    assert not root.exists()


def test_a_path_outside_the_root_is_written_when_allowed(root: Path, tmp_path: Path) -> None:
    """`allow_outside_root=True` is the explicit way out."""
    target = tmp_path / "elsewhere" / "x.parquet"
    result = write_parquet.fn(pl.DataFrame({"a": [1]}), target, root=root, allow_outside_root=True)
    assert result.path == target.resolve()


def test_the_root_itself_is_not_a_file(root: Path) -> None:
    """A path naming the root directory is refused."""
    with pytest.raises(OutputPathError, match="names a directory"):
        resolve_output_path(".", root=root)


def test_writes_a_list_of_models(root: Path) -> None:
    """Models become one row each through the fast constructor."""
    result = write_parquet.fn([Score(player_id=1, points=2.5)], "s.parquet", root=root)
    assert pl.read_parquet(result.path).to_dicts() == [{"player_id": 1, "points": 2.5}]


def test_models_polars_cannot_type_fall_back_to_json_dumps(root: Path) -> None:
    """UUID and precision-less Decimal fields are written as their JSON forms."""

    class Odd(BaseModel):
        id: uuid.UUID
        amount: decimal.Decimal

    key = uuid.UUID(int=7)
    result = write_parquet.fn(
        [Odd(id=key, amount=decimal.Decimal("1.25"))], "odd.parquet", root=root
    )
    assert pl.read_parquet(result.path).to_dicts() == [{"id": str(key), "amount": "1.25"}]


def test_enum_fields_are_written_as_their_values_and_dates_stay_dates(root: Path) -> None:
    """An Enum field becomes its value; other columns keep their Polars types."""

    class Side(enum.Enum):
        HOME = "home"

    class Game(BaseModel):
        side: Side
        day: dt.date
        amount: decimal.Decimal

    game = Game(side=Side.HOME, day=dt.date(2026, 9, 10), amount=decimal.Decimal("2.5"))
    result = write_parquet.fn([game], "g.parquet", root=root)
    back = pl.read_parquet(result.path)
    assert back.columns == ["side", "day", "amount"]
    assert back.schema["day"] == pl.Date
    assert back.row(0) == ("home", dt.date(2026, 9, 10), "2.5")


@pytest.mark.parametrize(
    ("data", "message"),
    [([], "empty list of models"), ([{"a": 1}], "found a dict"), ("text", "got str")],
)
def test_data_that_is_not_a_table_is_refused(root: Path, data: object, message: str) -> None:
    """An empty model list or a non-model is a ParquetWriteError saying what was wrong."""
    with pytest.raises(ParquetWriteError, match=message):
        write_parquet.fn(data, "x.parquet", root=root)  # type: ignore[arg-type]


def test_an_overwrite_leaves_no_temporary_file(root: Path) -> None:
    """After a second write only the new file is in the directory."""
    write_parquet.fn(pl.DataFrame({"a": [1]}), "x/latest.parquet", root=root)
    write_parquet.fn(pl.DataFrame({"a": [2]}), "x/latest.parquet", root=root)
    assert [p.name for p in (root / "x").iterdir()] == ["latest.parquet"]
    assert pl.read_parquet(root / "x" / "latest.parquet")["a"].to_list() == [2]


def test_a_failed_write_keeps_the_previous_file_and_cleans_up(root: Path) -> None:
    """A write that raises leaves the old file in place and no temporary file."""
    write_parquet.fn(pl.DataFrame({"a": [1]}), "x/latest.parquet", root=root)
    unwritable = pl.DataFrame({"o": pl.Series([object()], dtype=pl.Object)})
    with pytest.raises(Exception):  # noqa: B017, PT011 - Polars' own error type varies by version
        write_parquet.fn(unwritable, "x/latest.parquet", root=root)
    assert [p.name for p in (root / "x").iterdir()] == ["latest.parquet"]
    assert pl.read_parquet(root / "x" / "latest.parquet")["a"].to_list() == [1]


def test_history_keeps_a_timestamped_copy_beside_latest(root: Path) -> None:
    """`history=True` leaves `latest.<UTC stamp>.parquet` that later writes do not change."""
    first = write_parquet.fn(pl.DataFrame({"a": [1]}), "x/latest.parquet", root=root, history=True)
    write_parquet.fn(pl.DataFrame({"a": [2]}), "x/latest.parquet", root=root)
    assert first.history_path is not None
    assert first.history_path.parent == first.path.parent
    assert first.history_path.name.startswith("latest.2")
    assert pl.read_parquet(first.history_path)["a"].to_list() == [1]


def test_column_profile_gives_nulls_min_and_max() -> None:
    """The artifact rows carry each column's dtype, null count, min and max."""
    df = pl.DataFrame({"a": [3, None, 1], "s": ["b", "a", None], "l": [[1], [2], None]})
    assert column_profile(df) == [
        {"column": "a", "dtype": "Int64", "nulls": 1, "min": "1", "max": "3"},
        {"column": "s", "dtype": "String", "nulls": 1, "min": "a", "max": "b"},
        {"column": "l", "dtype": "List(Int64)", "nulls": 1, "min": None, "max": None},
    ]


def test_outside_a_prefect_run_no_artifact_is_attempted(
    root: Path, kit_records: pytest.LogCaptureFixture
) -> None:
    """A plain call writes and logs, with no warning about artifacts."""
    write_parquet.fn(pl.DataFrame({"a": [1]}), "x.parquet", root=root)
    messages = [r.getMessage() for r in kit_records.records]
    assert any("Wrote 1 rows" in m for m in messages)
    assert not any("artifact" in m for m in messages)


_BIG_WRITER = textwrap.dedent(
    """
    import sys
    import polars as pl
    from ff_prefect_kit import write_parquet
    big = pl.DataFrame({"a": pl.int_range(0, 12_000_000, eager=True)}).with_columns(
        b=pl.col("a").cast(pl.String)
    )
    write_parquet.fn(big, "x/latest.parquet", root=sys.argv[1], compression="uncompressed")
    """
)


def _temporary_files(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.suffix == ".tmp"]


def test_a_writer_killed_mid_write_leaves_the_previous_file_intact(root: Path) -> None:
    """SIGKILL while the temporary file is being written: latest.parquet is the old, whole file."""
    good = pl.DataFrame({"a": [1, 2, 3]})
    write_parquet.fn(good, "x/latest.parquet", root=root)
    before = (root / "x" / "latest.parquet").read_bytes()
    writer = subprocess.Popen([sys.executable, "-c", _BIG_WRITER, str(root)])
    try:
        deadline = time.monotonic() + 120
        while not any(p.stat().st_size > 0 for p in _temporary_files(root / "x")):
            assert writer.poll() is None, "the writer exited before it was killed"
            assert time.monotonic() < deadline, "no temporary file appeared within 120 s"
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=60)
    assert writer.returncode == -signal.SIGKILL
    # The half-written temporary file is still there: the kill did land mid-write.
    assert _temporary_files(root / "x")
    assert (root / "x" / "latest.parquet").read_bytes() == before
    assert pl.read_parquet(root / "x" / "latest.parquet").equals(good)


def test_the_result_is_a_small_frozen_record() -> None:
    """`ParquetWriteResult` is immutable."""
    result = ParquetWriteResult(Path("x"), 1, 2)
    with pytest.raises(AttributeError):
        result.rows = 3  # type: ignore[misc]


# --- names as long as the file system allows -------------------------------------------

LONGEST = {
    "ascii": "p" * 240 + ".parquet",
    "two-byte": "é" * 120 + ".parquet",
    "four-byte": "🏈" * 60 + ".parquet",
}


@pytest.mark.parametrize("name", list(LONGEST.values()), ids=list(LONGEST))
def test_a_248_byte_file_name_is_written(root: Path, name: str) -> None:
    """A legal name of 248 bytes writes, its temporary name kept within 255 bytes."""
    assert len(os.fsencode(name)) == 248
    df = pl.DataFrame({"a": [1, 2]})

    result = write_parquet.fn(df, name, root=root)

    assert result.path.name == name
    assert pl.read_parquet(result.path).equals(df)
    assert _temporary_files(root) == []


def test_a_stale_temporary_file_of_a_long_name_is_swept(root: Path) -> None:
    """A dead writer's temporary file beside a 248-byte target goes on the next write."""
    name = LONGEST["ascii"]
    root.mkdir(parents=True)
    tmp, held = _new_temp_file(root / name)
    os.close(held)  # the writer dies: nobody holds the lock
    os.utime(tmp, (time.time() - 3600, time.time() - 3600))
    assert len(os.fsencode(tmp.name)) <= 255

    write_parquet.fn(pl.DataFrame({"a": [1]}), name, root=root)

    assert _temporary_files(root) == []


def test_a_name_too_long_for_its_history_copy_is_refused_before_writing(root: Path) -> None:
    """history=True with no room for the timestamp: OutputPathError, nothing written."""
    with pytest.raises(OutputPathError, match="leave room for a timestamp"):
        write_parquet.fn(pl.DataFrame({"a": [1]}), LONGEST["ascii"], root=root, history=True)
    assert not root.exists() or list(root.iterdir()) == []
