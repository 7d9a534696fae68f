"""Making a written file, and its rename into place, durable."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["fsync_directory", "fsync_file"]


def fsync_file(path: Path | str) -> None:
    """Flush `path`'s content to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_directory(directory: Path) -> None:
    """Flush `directory`'s entries, making a rename into it durable.

    Does nothing where a directory cannot be opened or synced (some platforms).
    """
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
