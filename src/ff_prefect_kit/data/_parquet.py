"""Write analytics output to Parquet atomically, under the analytics root.

One module, over 350 lines, because its parts are one guarantee: the output path
confined to the root, the temporary file locked while written, swept when its writer
died, fsynced and renamed into place, and the reader that never sees a half-renamed
file. Split, each part would hold half of an invariant.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import glob
import hashlib
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ff_prefect_kit._context import in_run
from ff_prefect_kit._errors import DiskFullError, OutputPathError
from ff_prefect_kit._fsync import fsync_directory, fsync_file
from ff_prefect_kit._logging import kit_logger
from ff_prefect_kit._secrets import redact, redact_data
from ff_prefect_kit._settings import KitSettings
from ff_prefect_kit.data._frames import to_frame
from ff_prefect_kit.data._object_store import (
    is_object_url,
    object_location,
    put_parquet,
    read_object,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, the age rule alone
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import polars as pl
    from pydantic import BaseModel

__all__ = [
    "ParquetWriteResult",
    "column_profile",
    "read_parquet",
    "resolve_output_path",
    "write_parquet",
]


@dataclass(frozen=True)
class ParquetWriteResult:
    """What `write_parquet` wrote.

    Attributes:
        path: The final file; `None` for an object in a bucket (see `url`).
        rows: How many rows it holds.
        bytes: Its size on disk (or the object's size).
        history_path: The timestamped copy, when `history=True` (a local file).
        url: The object's `s3://` URL, when written to an object store.
        history_url: The timestamped copy's URL, when `history=True` in a bucket.
    """

    path: Path | None
    rows: int
    bytes: int
    history_path: Path | None = None
    url: str | None = None
    history_url: str | None = None

    @property
    def location(self) -> str:
        """Where the output is: the file's path or the object's URL, as text."""
        return self.url if self.url is not None else str(self.path)


def resolve_output_path(
    output_path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    allow_outside_root: bool = False,
) -> Path:
    """Where `output_path` lands, refusing a path that escapes the analytics root.

    A relative path resolves under `root` (default `FF_DATA_DIR/analytics`); one
    that already names the root from the working directory (as in
    `data/analytics/x/latest.parquet` run from the project folder) is taken as it
    is. A relative path that starts with the root's own folder names but does not
    lead into the root from here (`data/analytics/...` run from elsewhere, or with
    `FF_DATA_DIR` pointing somewhere else) is refused rather than nested as
    `.../analytics/data/analytics/...`.

    Args:
        output_path: The file to write.
        root: The analytics root; defaults to `KitSettings().analytics_dir`.
        allow_outside_root: Accept a path outside the root.

    Returns:
        The absolute path.

    Raises:
        OutputPathError: The path escapes the root and `allow_outside_root` is false,
            names a directory, would nest the root's folders inside the root, or is
            not a path any file system takes (not text, a NUL character).
    """
    if root is None:
        root = KitSettings().analytics_dir
    given = _checked_path(output_path)
    try:
        base = Path(root).resolve()
        if given.is_absolute():
            target = given.resolve()
        else:
            from_cwd = given.resolve()
            if from_cwd.is_relative_to(base):
                target = from_cwd
            else:
                _refuse_nesting(output_path, given, base)
                target = (base / given).resolve()
    except RuntimeError as exc:  # Python before 3.13: "Symlink loop from ..."
        raise _symlink_loop(output_path, Path(root) / given) from exc
    if not allow_outside_root and not target.is_relative_to(base):
        raise OutputPathError(
            f"output path {str(output_path)!r} resolves to {str(target)!r}, outside the "
            f"analytics root {str(base)!r} (FF_DATA_DIR/analytics): use a path inside it, "
            "or pass allow_outside_root=True if writing elsewhere is intended"
        )
    if target == base or target.name in ("", ".", "..") or target.is_dir():
        raise OutputPathError(
            f"output path {_shown(output_path)} names a directory, not a file: add a file "
            "name such as 'latest.parquet'"
        )
    return target


def _shown(output_path: object) -> str:
    text = repr(output_path if not isinstance(output_path, os.PathLike) else str(output_path))
    return text if len(text) <= 120 else f"{text[:100]}...{text[-15:]} ({len(text)} characters)"


def _checked_path(output_path: object) -> Path:
    """`output_path` as a Path, refusing values no file system takes."""
    if isinstance(output_path, bytes) or not isinstance(output_path, str | os.PathLike):
        raise OutputPathError(
            f"output path must be a str or a pathlib.Path, got {type(output_path).__name__} "
            f"{_shown(output_path)}: pass the path as text"
        )
    text = os.fspath(output_path)
    if not isinstance(text, str):
        raise OutputPathError(
            f"output path must be text, got {_shown(output_path)}: pass it as a str"
        )
    if "\x00" in text:
        raise OutputPathError(
            f"output path {_shown(output_path)} contains a NUL character, which no file "
            "system accepts: remove it"
        )
    surrogate = next((i for i, char in enumerate(text) if "\ud800" <= char <= "\udfff"), None)
    if surrogate is not None:
        raise OutputPathError(
            f"output path {_shown(output_path)} contains a lone surrogate "
            f"(U+{ord(text[surrogate]):04X} at position {surrogate}), which is not text a file "
            "name can be written in: remove it, or build the name from valid Unicode"
        )
    return Path(text)


def _looping_link(path: Path) -> Path | None:
    """The first symbolic link on the way to `path` that loops, if one does."""
    for prefix in [*reversed(path.parents), path]:
        try:
            os.stat(prefix)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return prefix
            if exc.errno == errno.ENOENT:
                return None
    return None


def _symlink_loop(output_path: object, path: Path) -> OutputPathError:
    link = _looping_link(path.absolute())
    where = ""
    if link is not None:
        with contextlib.suppress(OSError):
            where = f": {str(link)!r} -> {os.readlink(link)!r}"
    return OutputPathError(
        f"output path {_shown(output_path)} goes through a symbolic link that loops{where}; "
        "fix or remove the link, or choose another path"
    )


_PATH_ERRORS = {
    errno.ENAMETOOLONG: "A file or folder name is longer than the file system allows "
    "(usually 255 bytes): shorten it.",
    errno.ENOTDIR: "A folder on the way is a file: rename one of them.",
    errno.EEXIST: "A folder on the way is a file: rename one of them.",
    errno.EISDIR: "The path names a directory: add a file name such as 'latest.parquet'.",
    errno.ELOOP: "A symbolic link on the way loops: fix the link.",
    errno.EACCES: "The folder is not writable: choose a writable FF_DATA_DIR (or root).",
    errno.EPERM: "The folder is not writable: choose a writable FF_DATA_DIR (or root).",
    errno.EROFS: "The file system is read-only: choose a writable FF_DATA_DIR (or root).",
}


def _refuse_nesting(output_path: object, given: Path, base: Path) -> None:
    tail = base.parts[-2:]
    if given.parts[: len(tail)] == tail or given.parts[:1] == (base.name,):
        raise OutputPathError(
            f"output path {str(output_path)!r} starts with the analytics root's own folders "
            f"but does not lead into the root {str(base)!r} from the working directory "
            f"{str(Path.cwd())!r}; it would be nested as {str(base / given)!r}. Give the "
            "path relative to the root (e.g. 'player_valuation/latest.parquet') or absolute"
        )


def write_parquet(
    data: pl.DataFrame | Sequence[BaseModel],
    output_path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    allow_outside_root: bool = False,
    history: bool = False,
    compression: str = "zstd",
    artifact: bool = True,
    artifact_key: str | None = None,
) -> ParquetWriteResult:
    """Write `data` to Parquet so that readers see the old file or the new, never half.

    The file is written beside the target under a temporary name, flushed and
    fsynced, moved over the target with `os.replace`, and the directory fsynced.
    A new file gets the usual permissions (0666 less the umask, as `open` gives);
    a replaced file keeps its mode, so readers that could read it still can.

    An `s3://` root or output path writes one object instead, whole or not at all
    (see docs/object-storage.md): the bytes are built in memory and sent in one PUT.

    Args:
        data: A DataFrame, or a list of Pydantic models (one row each).
        output_path: The file, or an `s3://` URL; a relative path resolves under the
            analytics root.
        root: The analytics root; defaults to `FF_ANALYTICS_URL` when set, else
            `FF_DATA_DIR/analytics`.
        allow_outside_root: Accept a path outside the root.
        history: Also keep a timestamped copy beside the file
            (`latest.20261129T033000123456Z.parquet`).
        compression: Parquet compression codec.
        artifact: Inside a Prefect run, publish a table artifact of per-column
            nulls and min/max. A failure to publish is logged, never raised.
        artifact_key: The artifact's key (lowercase letters, digits, dashes).

    Returns:
        The path, row count and size written.

    Raises:
        OutputPathError: The path escapes the root, or cannot be a file: not text, a
            NUL character, a name too long, a directory, a file where a folder must
            be, a folder that is not writable. The message names the path and the fix.
        ParquetWriteError: An empty list of models (no columns to write) or data
            that is neither a DataFrame nor models.
        ObjectStoreError: The object store failed or was out of reach (retried).
        ConfigError: Writing to a bucket without obstore (the `s3` extra), or with
            credentials the store refuses.
    """
    frame = to_frame(data)
    if root is None:
        root = KitSettings().analytics_root
    if is_object_url(root) or is_object_url(output_path):
        return _write_object(
            frame,
            output_path,
            root=root,
            allow_outside_root=allow_outside_root,
            history=history,
            compression=compression,
            artifact=artifact,
            artifact_key=artifact_key,
        )
    shown = _shown(output_path)
    folder: Path | None = None
    try:
        target = resolve_output_path(output_path, root=root, allow_outside_root=allow_outside_root)
        if history:
            _check_history_name(target, shown)
        folder = target.parent
        target.parent.mkdir(parents=True, exist_ok=True)
        _sweep_stale_temp_files(target)
        tmp, held = _new_temp_file(target)
    except RecursionError:
        raise OutputPathError(
            f"output path {shown} is too deep to resolve: use a shorter path"
        ) from None
    except OSError as exc:
        if _out_of_space(exc):
            raise _disk_full(shown, folder, exc) from exc
        if folder is not None and _looping_link(folder) is not None:
            # Python 3.13 resolves through a loop silently; mkdir then meets it (EEXIST).
            raise _symlink_loop(output_path, folder) from exc
        if exc.errno not in _PATH_ERRORS:
            raise
        raise OutputPathError(
            f"cannot write output path {shown}: {exc.strerror}. {_PATH_ERRORS[exc.errno]}"
        ) from exc
    try:
        # Polars writes (and flushes) the file by path, off the GIL; fsync then makes
        # its bytes durable before the rename can expose them.
        frame.write_parquet(tmp, compression=compression)  # type: ignore[arg-type]
        fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if _out_of_space(exc):
            raise _disk_full(shown, target.parent, exc) from exc
        raise
    finally:
        os.close(held)  # releases the lock that says a live writer owns the file
    fsync_directory(target.parent)
    copy = _keep_history(target) if history else None
    result = ParquetWriteResult(target, frame.height, target.stat().st_size, copy)
    kit_logger.info("Wrote %s rows (%s bytes) to %s", f"{result.rows:,}", result.bytes, target)
    if artifact:
        _publish_profile(frame, result, artifact_key)
    return result


def _write_object(
    frame: pl.DataFrame,
    output_path: object,
    *,
    root: str | os.PathLike[str] | None,
    allow_outside_root: bool,
    history: bool,
    compression: str,
    artifact: bool,
    artifact_key: str | None,
) -> ParquetWriteResult:
    """`write_parquet` to an object store: one object, whole or none."""
    if is_object_url(root):
        assert isinstance(root, str)
        location = object_location(output_path, root, allow_outside_root=allow_outside_root)
    elif allow_outside_root:
        assert isinstance(output_path, str)
        location = object_location(output_path, output_path.rsplit("/", 1)[0] + "/")
    else:
        raise OutputPathError(
            f"output path {_shown(output_path)} is an object URL, but the analytics root is "
            f"the local folder {str(root)!r}: set FF_ANALYTICS_URL=s3://bucket/prefix (or "
            "pass root='s3://...'), or pass allow_outside_root=True if writing there is intended"
        )
    size, copy = put_parquet(frame, location, compression=compression, history=history)
    result = ParquetWriteResult(None, frame.height, size, url=location.url, history_url=copy)
    kit_logger.info("Wrote %s rows (%s bytes) to %s", f"{result.rows:,}", size, location.url)
    if artifact:
        _publish_profile(frame, result, artifact_key)
    return result


_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
# Polars writes in Rust and reports the OS error in its message, with no errno.
_NO_SPACE_TEXT = re.compile(
    rf"No space left on device|Disk quota exceeded|os error (?:{errno.ENOSPC}|{errno.EDQUOT})\b"
)


def _out_of_space(exc: BaseException) -> bool:
    """Whether `exc` says the device (or the user's quota) is full."""
    if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
        return True
    return isinstance(exc, Exception) and bool(_NO_SPACE_TEXT.search(str(exc)))


def _disk_full(shown: str, folder: Path | None, exc: BaseException) -> DiskFullError:
    where = f" in {folder}" if folder is not None else ""
    error = DiskFullError(
        f"no space left to write {shown}{where} ({type(exc).__name__}): free space on "
        "that device or point FF_DATA_DIR (or root) elsewhere; the previous file, if any, "
        "is unchanged"
    )
    error.errno = exc.errno if isinstance(exc, OSError) and exc.errno else errno.ENOSPC
    return error


STALE_AFTER = 600.0
"""Seconds after its last change that a temporary file counts as a dead writer's, where
files cannot be locked; where they can, an unlocked one older than `UNLOCKED_GRACE`."""

UNLOCKED_GRACE = 2.0
"""Seconds a new temporary file is spared before its writer's lock is looked at."""


def _sweep_stale_temp_files(target: Path, now: float | None = None) -> list[Path]:
    """Remove temporary files of the kit's own naming left beside `target` by dead writers.

    A writer killed mid-write (SIGKILL, the OOM killer) leaves its temporary file. A
    live writer holds an exclusive lock on its file until the rename, so a file nobody
    holds (and older than `UNLOCKED_GRACE`) has no writer any more. Without file locks
    (Windows), a file untouched for `STALE_AFTER` seconds counts as abandoned.
    """
    stem = _temp_stem(target.name)
    name = re.compile(rf"\.{re.escape(stem)}\.[0-9a-f]{{12}}\.tmp")
    now = time.time() if now is None else now
    removed = []
    for candidate in target.parent.glob(f".{glob.escape(stem)}.*.tmp"):
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            if name.fullmatch(candidate.name) and _abandoned(candidate, now):
                candidate.unlink()
                removed.append(candidate)
    if removed:
        kit_logger.info("Removed %d stale temporary file(s) beside %s", len(removed), target)
    return removed


def _abandoned(candidate: Path, now: float) -> bool:
    age = now - candidate.stat().st_mtime
    if fcntl is None:
        return age > STALE_AFTER
    if age < UNLOCKED_GRACE:
        return False
    fd = os.open(candidate, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # a live writer holds it
    finally:
        os.close(fd)
    return True


def read_parquet(path: str | os.PathLike[str], **options: Any) -> pl.DataFrame:
    """Read a Parquet file that `write_parquet` may be replacing, through one open handle.

    `write_parquet` replaces the file atomically, but `pl.read_parquet(path)` can open
    the path more than once (metadata, then data) and so meet two different files
    while a writer renames: it then fails with errors such as `Invalid thrift`. This
    opens the file once and reads everything through that handle, so a reader always
    gets one whole file, the old or the new.

    An `s3://` URL is read the same way: the whole object in one GET (Polars' own
    reader makes ranged reads, which could meet two versions of a replaced object).

    Args:
        path: The Parquet file, or an `s3://` URL.
        **options: More options for `polars.read_parquet`.

    Returns:
        The file's rows.

    Raises:
        FileNotFoundError: No such file or object.
    """
    import polars as pl

    if is_object_url(path):
        assert isinstance(path, str)
        return pl.read_parquet(read_object(path), **options)
    with open(path, "rb") as handle:
        return pl.read_parquet(handle, **options)


NAME_MAX = 255
"""Bytes in one file name on the file systems the kit writes to (ext4, XFS, APFS, NTFS)."""

# A temporary name is the stem between "." and ".<12 hex digits>.tmp".
_TEMP_STEM_MAX = NAME_MAX - len("..0123456789ab.tmp")


def _temp_stem(name: str) -> str:
    """The part of a target's temporary names that names the target.

    The target's own name where it leaves room for the rest of a temporary name within
    `NAME_MAX`; otherwise its start and a hash of the whole name, so that each target
    still has temporary names of its own (which the sweeper recognises).
    """
    encoded = os.fsencode(name)
    if len(encoded) <= _TEMP_STEM_MAX:
        return name
    digest = hashlib.sha256(encoded).hexdigest()[:8]
    head = encoded[: _TEMP_STEM_MAX - len(digest) - 1].decode("utf-8", errors="ignore")
    return f"{head}~{digest}"


def _new_temp_file(target: Path) -> tuple[Path, int]:
    """Create an empty temporary file beside `target`, locked, with `target`'s future mode.

    `os.open` with 0o666 applies the umask as `open()` would (unlike `mkstemp`,
    which makes every file 0600); an existing target's mode is kept. The returned
    descriptor holds an exclusive lock: close it once the file is renamed.
    """
    stem = _temp_stem(target.name)
    while True:
        tmp = target.with_name(f".{stem}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            with contextlib.suppress(FileNotFoundError):
                os.fchmod(fd, stat.S_IMODE(target.stat().st_mode))
        except BaseException:
            os.close(fd)
            raise
        return tmp, fd


_STAMP = "%Y%m%dT%H%M%S%fZ"
# What history adds to a name: ".<stamp>" (22 characters), and ".<name>.tmp" for a copy.
_HISTORY_EXTRA = len(".20261129T033000123456Z") + len("..tmp")


def _check_history_name(target: Path, shown: str) -> None:
    """Refuse, before writing, a name too long to keep a timestamped copy beside."""
    room = NAME_MAX - _HISTORY_EXTRA
    if len(os.fsencode(target.name)) > room:
        raise OutputPathError(
            f"output path {shown}: with history=True the file name must leave room for a "
            f"timestamp (at most {room} bytes, it has {len(os.fsencode(target.name))}): "
            "shorten it, or pass history=False"
        )


def _keep_history(target: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime(_STAMP)
    copy = target.with_name(f"{target.stem}.{stamp}{target.suffix}")
    try:
        # The target's inode is never written again (the next write replaces it), so a
        # hard link is an instant, atomic copy.
        os.link(target, copy)
    except OSError:
        tmp = copy.with_name(f".{copy.name}.tmp")
        shutil.copyfile(target, tmp)
        os.replace(tmp, copy)
    return copy


def column_profile(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Per-column dtype, null count, min and max, as rows for a table artifact."""
    import polars as pl

    nulls = frame.null_count().row(0) if frame.width else ()
    rows = []
    for (name, dtype), null_count in zip(frame.schema.items(), nulls, strict=True):
        low = high = None
        if not isinstance(dtype, pl.List | pl.Struct | pl.Array | pl.Object):
            with contextlib.suppress(Exception):
                low, high = frame.select(
                    pl.col(name).min().alias("min"), pl.col(name).max().alias("max")
                ).row(0)
        rows.append(
            {
                "column": name,
                "dtype": str(dtype),
                "nulls": null_count,
                "min": None if low is None else str(low),
                "max": None if high is None else str(high),
            }
        )
    return rows


def _publish_profile(frame: pl.DataFrame, result: ParquetWriteResult, key: str | None) -> None:
    try:
        if not in_run():
            return
        from prefect.artifacts import create_table_artifact

        # The profile shows sample values and the path may hold anything: no secret in either.
        create_table_artifact(
            table=redact_data(column_profile(frame)),
            key=key,
            description=redact(
                f"Wrote {result.rows:,} rows ({result.bytes:,} bytes) to `{result.location}`"
            ),
        )
    except Exception as exc:
        # The data is written; a missing summary must not fail the run.
        kit_logger.warning("Could not publish the Parquet table artifact: %r", exc)
