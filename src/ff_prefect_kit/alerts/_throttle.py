"""One alert per window for a flow that keeps failing, across every process that runs it.

A window belongs to a key (a flow's name), a severity and a cause (the exception's type):
a more severe failure, or a failure of another cause, opens a window of its own and is
alerted at once, never held behind an alert about something else. Each window also
remembers whether the alert that opened it reached anyone, so that an alert held back is
only reported as handled when someone was told.

Long on purpose: the decision, the windows' memory and the shared state file (locked,
checked, written whole) are one piece; split, each part would need the others' details.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import stat
import threading
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from ff_prefect_kit import _config
from ff_prefect_kit._errors import InvalidOptionError, KitError
from ff_prefect_kit.alerts._model import Alert
from ff_prefect_kit.alerts._throttle_api import (
    ApiWindows,
    current_api_windows,
    forget_api_windows,
)

__all__ = [
    "DEFAULT_ALERT_WINDOW",
    "AlertThrottle",
    "reset_throttles",
    "shared_store",
]

DEFAULT_ALERT_WINDOW = timedelta(minutes=10)
# How long a process waits for another one holding the state file's lock before it
# decides on its own: an alert sent twice beats an alert lost.
_LOCK_TIMEOUT = 10.0
# Windows older than this are dropped from the state file when it is written.
_FORGET_AFTER = timedelta(days=30)
# The most of a state file that is read: a few hundred bytes per window, so this is
# thousands of windows. A larger file is not the kit's (a link to /dev/zero, a log).
_MOST_READ = 4 * 1024 * 1024

_log = logging.getLogger("ff_prefect_kit")

T = TypeVar("T")


@dataclass
class _Window:
    sent_at: datetime
    suppressed: int = 0
    delivered: bool = False


# A key's windows, by kind (severity and cause); every key's, by key.
_Kinds = dict[str, _Window]
_Windows = MutableMapping[str, _Kinds]


class UnusableStateFile(OSError):
    """The state file is not a regular file, or too large to be the kit's."""


def _kind(alert: Alert, cause: str | None) -> str:
    return f"{alert.severity.value}:{cause or ''}"


def shared_store() -> Path | ApiWindows | None:
    """Where the runs of every process keep their alert windows, from the settings.

    `FF_ALERT_STATE_FILE` when set (a JSON file, locked while used); else the Prefect
    API the runs report to (`_throttle_api`), which every process and machine using it
    shares; `None` (this process's memory) when there is no API to use.

    Raises:
        ConfigError: The settings are invalid.
    """
    from ff_prefect_kit._settings import KitSettings

    state_file = KitSettings().alert_state_file
    return state_file if state_file is not None else current_api_windows()


class AlertThrottle:
    """Let one alert per window through for each key (a flow's name), then a count.

    A flow that fails every minute sends its first alert at once; the failures in
    the next `window` are counted, not sent, and the first alert after the window
    says "and N more failures since ...". Windows are kept per key, severity and
    cause: an alert of another severity or cause for the same key has its own.

    Without `state_file` the windows live in this object: they throttle the runs of
    one process. With one, they live in that JSON file, locked while it is read and
    written, so they hold across the processes of one machine.
    `AlertThrottle.shared()` (what `monitored_flow` uses) keeps them in the Prefect API
    the runs report to, shared by every process and machine using it (or in
    `FF_ALERT_STATE_FILE` when set), looked up when an alert is due. A store that
    cannot be used (an API that does not answer, a read-only directory, a lock held
    for over 10 s, unreadable content) is logged, and the process decides alone: an
    alert sent twice beats an alert lost.

    Args:
        window: How long after an alert the same key stays quiet.
        clock: The current time, timezone-aware (injectable for tests).
        state_file: The JSON file shared by every process, or `None` for memory only.
    """

    def __init__(
        self,
        window: timedelta = DEFAULT_ALERT_WINDOW,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        state_file: Path | str | None = None,
    ) -> None:
        if not isinstance(window, timedelta) or window < timedelta(0):
            raise InvalidOptionError(
                f"alert window must not be negative: got {window!r}; "
                "give a timedelta of zero or more"
            )
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Kinds] = {}
        self._store: Callable[[], Path | ApiWindows | None] | None = None
        if state_file is not None:
            self._store = _Fixed(Path(state_file))
        with _config.state.lock:
            _config.state.throttles.add(self)

    @classmethod
    def shared(
        cls,
        window: timedelta = DEFAULT_ALERT_WINDOW,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> AlertThrottle:
        """A throttle whose windows live where every process can see them.

        The store (see `shared_store()`: the Prefect API, or `FF_ALERT_STATE_FILE`) is
        looked up each time an alert is due, so a flow defined at import follows the
        settings as they are when it fails.
        """
        throttle = cls(window, clock=clock)
        throttle._store = shared_store
        return throttle

    def __getstate__(self) -> dict[str, Any]:
        # A flow is pickled into every task run sent to another process (Dask): its
        # throttle travels without its lock, and with the windows it knows.
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        with _config.state.lock:
            _config.state.throttles.add(self)

    def __repr__(self) -> str:
        where = "memory" if self._store is None else "shared"
        return f"AlertThrottle(window={self.window!r}, {where})"

    def admit(self, key: str, alert: Alert, *, cause: str | None = None) -> Alert | None:
        """The alert to send for `key` now, or `None` when it falls in a quiet window.

        Args:
            key: What is throttled, e.g. the flow's name.
            alert: The alert that would be sent; its severity chooses the window.
            cause: What failed, e.g. the exception's type: another cause has its own
                window.

        Returns:
            The alert (with a count of the failures held back since the last one of
            its window), or `None` when it is held back.
        """
        with self._lock:
            return self._update(key, lambda windows: self._decide(windows, key, alert, cause))

    def record_delivery(
        self, key: str, alert: Alert, delivered: bool, *, cause: str | None = None
    ) -> None:
        """Note whether the alert that `admit` let through reached anyone.

        Args:
            key: As given to `admit`.
            alert: The alert sent.
            delivered: Whether a person was told (a webhook confirmed it), not only a log.
            cause: As given to `admit`.
        """

        def note(windows: _Windows) -> None:
            current = windows.get(key, {}).get(_kind(alert, cause))
            if current is not None:
                current.delivered = delivered

        with self._lock:
            self._update(key, note)

    def delivered(self, key: str, alert: Alert, *, cause: str | None = None) -> bool:
        """Whether the alert that opened the window `alert` falls in reached anyone."""
        with self._lock:
            current = self._kinds_now(key).get(_kind(alert, cause))
            return current is not None and current.delivered

    def held_back(self, key: str) -> int:
        """How many alerts for `key` are held back in its current windows, of every kind."""
        with self._lock:
            return sum(w.suppressed for w in self._kinds_now(key).values())

    def _kinds_now(self, key: str) -> _Kinds:
        if key in self._windows:  # the store failed when this key's alert was decided
            return self._windows[key]
        where = self._usable_store()
        try:
            if isinstance(where, ApiWindows):
                return _parse_kinds(where.read(key))
            if where is not None:
                return _read(where).get(key, {})
        except Exception:  # the store's trouble is reported when an alert is decided
            pass
        return self._windows.get(key, {})

    def _update(self, key: str, change: Callable[[_Windows], T]) -> T:
        """Apply `change` to the shared windows under their lock, else to memory's."""
        where = self._usable_store()
        if where is not None:
            try:
                if isinstance(where, ApiWindows):
                    return self._update_api(where, key, change)
                return self._update_shared(where, change)
            except Exception as exc:  # the store must never cost the alert
                _log.warning(
                    "Alert throttle state in %s is unusable (%s): this process decides "
                    "alone whether the alert for %r is sent.",
                    where.api_url if isinstance(where, ApiWindows) else where,
                    exc,
                    key,
                )
        return change(self._windows)

    def forget_windows(self) -> None:
        """Forget the windows this throttle keeps in memory (not its state file's)."""
        with self._lock:
            self._windows.clear()

    def _usable_store(self) -> Path | ApiWindows | None:
        if self._store is None:
            return None
        try:
            return self._store()
        except KitError as exc:
            _log.warning("No shared alert throttle state (%s): this process decides alone.", exc)
            return None

    def _update_shared(self, path: Path, change: Callable[[_Windows], T]) -> T:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path):
            with _config.state.lock:
                _config.state.throttle_files.add(path)
            windows = _read(path)
            result = change(windows)
            _write(path, windows, self._clock())
        return result

    def _update_api(self, api: ApiWindows, key: str, change: Callable[[_Windows], T]) -> T:
        def apply(stored: dict[str, Any]) -> T:
            windows: dict[str, _Kinds] = {key: _parse_kinds(stored)}
            result = change(windows)
            stored.clear()
            stored.update(_dump_kinds(windows.get(key, {}), self._clock()))
            return result

        return api.update(key, apply)

    def _decide(self, windows: _Windows, key: str, alert: Alert, cause: str | None) -> Alert | None:
        now = self._clock()
        kinds = windows.setdefault(key, {})
        kind = _kind(alert, cause)
        current = kinds.get(kind)
        # A window from the future (another machine's clock ahead) holds nothing back.
        if current is not None and timedelta(0) <= now - current.sent_at < self.window:
            current.suppressed += 1
            return None
        kinds[kind] = _Window(sent_at=now)
        if current is None or current.suppressed == 0:
            return alert
        n = current.suppressed
        since = current.sent_at.isoformat(timespec="seconds")
        note = f"and {n} more failure{'s' if n != 1 else ''} since {since}"
        return replace(alert, fields=(*alert.fields, ("Also failed", note)))


@dataclass(frozen=True)
class _Fixed:
    path: Path

    def __call__(self) -> Path | ApiWindows | None:
        return self.path


def _locked(path: Path) -> Any:
    from filelock import FileLock

    return FileLock(path.with_name(path.name + ".lock"), timeout=_LOCK_TIMEOUT)


def _read_text(path: Path) -> str:
    """The file's text; `UnusableStateFile` for a FIFO, a device or a file too large.

    Opened without blocking (a FIFO would wait for a writer) and read up to a bound (a
    link to /dev/zero would be read until memory runs out).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as file:
        mode = os.fstat(file.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise UnusableStateFile(f"{path} is not a regular file")
        data = file.read(_MOST_READ + 1)
    if len(data) > _MOST_READ:
        raise UnusableStateFile(f"{path} is larger than {_MOST_READ // (1024 * 1024)} MiB")
    return data.decode("utf-8")


def _window(value: Any) -> _Window:
    return _Window(
        sent_at=datetime.fromisoformat(value["sent_at"]),
        suppressed=int(value["suppressed"]),
        delivered=bool(value.get("delivered", False)),
    )


def _parse_kinds(stored: dict[str, Any]) -> _Kinds:
    """A key's windows as stored in the API; what cannot be read holds nothing back."""
    kinds: _Kinds = {}
    for kind, value in stored.items():
        try:
            window = _window(value)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if window.sent_at.tzinfo is not None:
            kinds[str(kind)] = window
    return kinds


def _dump_kinds(kinds: _Kinds, now: datetime) -> dict[str, Any]:
    """A key's windows as stored, without those older than `_FORGET_AFTER`."""
    return {
        kind: {
            "sent_at": w.sent_at.isoformat(),
            "suppressed": w.suppressed,
            "delivered": w.delivered,
        }
        for kind, w in kinds.items()
        if timedelta(0) <= now - w.sent_at < _FORGET_AFTER
    }


def _read(path: Path) -> dict[str, _Kinds]:
    try:
        text = _read_text(path)
    except FileNotFoundError:
        return {}
    try:
        raw = json.loads(text)["windows"]
        # An entry written before windows had kinds (severity and cause) is checked, but
        # holds nothing back: it says nothing of what the alert that opened it was about.
        windows = {
            str(key): {str(kind): _window(w) for kind, w in value["kinds"].items()}
            if "kinds" in value
            else {"": _window(value)}
            for key, value in raw.items()
        }
        if any(w.sent_at.tzinfo is None for kinds in windows.values() for w in kinds.values()):
            raise ValueError("a window's time has no timezone")
        for kinds in windows.values():
            kinds.pop("", None)
        return windows
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        _log.warning(
            "Alert throttle state %s is not the kit's JSON (%s): it is started afresh.",
            path,
            exc,
        )
        return {}


def _write(path: Path, windows: _Windows, now: datetime) -> None:
    kept: dict[str, Any] = {}
    for key, kinds in windows.items():
        recent = {
            kind: w for kind, w in kinds.items() if timedelta(0) <= now - w.sent_at < _FORGET_AFTER
        }
        if recent:
            # The key's totals, for a reader: its latest alert and all it holds back.
            kept[key] = {
                "sent_at": max(w.sent_at for w in recent.values()).isoformat(),
                "suppressed": sum(w.suppressed for w in recent.values()),
                "kinds": _dump_kinds(recent, now),
            }
    # A whole file or the previous one: a reader never sees half a write. Made with
    # 0o666 less the umask, as `open()` would: every account running the flow can share it.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"windows": kept}, out, indent=1, sort_keys=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _forget(paths: set[Path]) -> None:
    for path in paths:
        if not path.parent.is_dir():  # removed with its folder (a test's temporary one)
            continue
        try:
            with _locked(path):
                path.unlink(missing_ok=True)
        except OSError as exc:
            _log.warning("Could not reset alert throttle state %s: %s", path, exc)


def reset_throttles() -> None:
    """Forget every alert window of this process (what test tools call).

    Empties the memory of every live throttle, every state file a throttle of this
    process has used, and the windows it wrote to a Prefect API. `mock_discord_webhook()`
    calls it on entry and exit, and the pytest plugin before each test that uses the
    harness, so one test's alert never holds back the next test's.
    """
    with _config.state.lock:
        throttles = list(_config.state.throttles)
        touched = set(_config.state.throttle_files)
        _config.state.throttle_files.clear()
    for throttle in throttles:
        throttle.forget_windows()
    _forget(touched)
    forget_api_windows()
