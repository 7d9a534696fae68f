"""The kit's one global switch, the test mode, behind a lock."""

from __future__ import annotations

import threading
from types import TracebackType

__all__ = ["is_testing", "set_testing"]


class _Config:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.testing = False


_CONFIG = _Config()


class _RestoreTesting:
    """Returned by `set_testing`: on leaving a `with` block, the previous mode is back."""

    def __init__(self, before: bool) -> None:
        self._before = before

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with _CONFIG.lock:
            _CONFIG.testing = self._before


def set_testing(testing: bool) -> _RestoreTesting:
    """Switch the test mode: analytics tasks retry at once, with no delay.

    The attempts still happen; only the waiting between them is skipped. The switch
    takes effect at once; used as a context manager, the previous mode comes back
    when the block ends:

        with set_testing(True):
            run_the_flow()

    Args:
        testing: `True` to skip retry delays, `False` to wait again.

    Returns:
        A context manager that restores the previous mode on exit.
    """
    with _CONFIG.lock:
        before = _CONFIG.testing
        _CONFIG.testing = bool(testing)
    return _RestoreTesting(before)


def is_testing() -> bool:
    """Whether the test mode (`set_testing(True)`) is on."""
    return _CONFIG.testing
