"""One alert per window for a flow that keeps failing, across every process that runs it."""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ff_prefect_kit import _config
from ff_prefect_kit._errors import InvalidOptionError, KitError
from ff_prefect_kit.alerts._model import Alert

__all__ = [
    "DEFAULT_ALERT_WINDOW",
    "AlertThrottle",
    "reset_throttles",
    "shared_state_file",
]

DEFAULT_ALERT_WINDOW = timedelta(minutes=10)
STATE_FILE_NAME = Path(".ff_prefect_kit") / "alert-throttle.json"
# How long a process waits for another one holding the state file's lock before it
# decides on its own: an alert sent twice beats an alert lost.
_LOCK_TIMEOUT = 10.0
# Windows older than this are dropped from the state file when it is written.
_FORGET_AFTER = timedelta(days=30)

_log = logging.getLogger("ff_prefect_kit")


@dataclass
class _Window:
    sent_at: datetime
    suppressed: int = 0


def shared_state_file() -> Path:
    """Where the runs of every process keep their alert windows, from the settings.

    `FF_ALERT_STATE_FILE` when set, else `.ff_prefect_kit/alert-throttle.json` under
    `FF_DATA_DIR`: every run of a deployment (each a new process on a worker) sees the
    windows of the runs before it.

    Raises:
        ConfigError: The settings are invalid.
    """
    from ff_prefect_kit._settings import KitSettings

    settings = KitSettings()
    return settings.alert_state_file or settings.data_dir / STATE_FILE_NAME


class AlertThrottle:
    """Let one alert per window through for each key (a flow's name), then a count.

    A flow that fails every minute sends its first alert at once; the failures in
    the next `window` are counted, not sent, and the first alert after the window
    says "and N more failures since ...".

    Without `state_file` the windows live in this object: they throttle the runs of
    one process. With one, they live in that JSON file, locked while it is read and
    written, so they hold across processes, e.g. the runs a worker starts one process
    each for. `AlertThrottle.shared()` (what `monitored_flow` uses) finds the file in
    the settings when an alert is due. A file that cannot be used (a read-only
    directory, a lock held for over 10 s, unreadable content) is logged, and the
    process decides alone: an alert sent twice beats an alert lost.

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
        self._windows: dict[str, _Window] = {}
        self._state_file: Callable[[], Path] | None = None
        if state_file is not None:
            self._state_file = _Fixed(Path(state_file))
        with _config.state.lock:
            _config.state.throttles.add(self)

    @classmethod
    def shared(
        cls,
        window: timedelta = DEFAULT_ALERT_WINDOW,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> AlertThrottle:
        """A throttle whose windows live in the settings' shared state file.

        The file (see `shared_state_file()`) is looked up each time an alert is due,
        so a flow defined at import follows `FF_DATA_DIR` as it is when it fails.
        """
        throttle = cls(window, clock=clock)
        throttle._state_file = shared_state_file
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
        where = "memory" if self._state_file is None else "shared"
        return f"AlertThrottle(window={self.window!r}, {where})"

    def admit(self, key: str, alert: Alert) -> Alert | None:
        """The alert to send for `key` now, or `None` when it falls in a quiet window.

        Args:
            key: What is throttled, e.g. the flow's name.
            alert: The alert that would be sent.

        Returns:
            The alert (with a count of the failures held back since the last one), or
            `None` when it is held back.
        """
        with self._lock:
            path = self._usable_state_file()
            if path is not None:
                try:
                    return self._admit_shared(path, key, alert)
                except Exception as exc:  # the file must never cost the alert
                    _log.warning(
                        "Alert throttle state %s is unusable (%s): this process decides "
                        "alone whether the alert for %r is sent.",
                        path,
                        exc,
                        key,
                    )
            return self._decide(self._windows, key, alert)

    def held_back(self, key: str) -> int:
        """How many alerts for `key` are held back in its current window."""
        with self._lock:
            path = self._usable_state_file()
            windows: MutableMapping[str, _Window] = self._windows
            if path is not None:
                try:
                    windows = _read(path)
                except (OSError, ValueError):
                    windows = self._windows
            current = windows.get(key)
            return current.suppressed if current else 0

    def forget_windows(self) -> None:
        """Forget the windows this throttle keeps in memory (not its state file's)."""
        with self._lock:
            self._windows.clear()

    def _usable_state_file(self) -> Path | None:
        if self._state_file is None:
            return None
        try:
            return self._state_file()
        except KitError as exc:
            _log.warning("No shared alert throttle state (%s): this process decides alone.", exc)
            return None

    def _admit_shared(self, path: Path, key: str, alert: Alert) -> Alert | None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path):
            with _config.state.lock:
                _config.state.throttle_files.add(path)
            windows = _read(path)
            admitted = self._decide(windows, key, alert)
            _write(path, windows, self._clock())
        return admitted

    def _decide(
        self, windows: MutableMapping[str, _Window], key: str, alert: Alert
    ) -> Alert | None:
        now = self._clock()
        current = windows.get(key)
        # A window from the future (another machine's clock ahead) holds nothing back.
        if current is not None and timedelta(0) <= now - current.sent_at < self.window:
            current.suppressed += 1
            return None
        windows[key] = _Window(sent_at=now)
        if current is None or current.suppressed == 0:
            return alert
        n = current.suppressed
        since = current.sent_at.isoformat(timespec="seconds")
        note = f"and {n} more failure{'s' if n != 1 else ''} since {since}"
        return replace(alert, fields=(*alert.fields, ("Also failed", note)))


@dataclass(frozen=True)
class _Fixed:
    path: Path

    def __call__(self) -> Path:
        return self.path


def _locked(path: Path) -> Any:
    from filelock import FileLock

    return FileLock(path.with_name(path.name + ".lock"), timeout=_LOCK_TIMEOUT)


def _read(path: Path) -> dict[str, _Window]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        raw = json.loads(text)["windows"]
        windows = {
            str(key): _Window(
                sent_at=datetime.fromisoformat(value["sent_at"]),
                suppressed=int(value["suppressed"]),
            )
            for key, value in raw.items()
        }
        if any(window.sent_at.tzinfo is None for window in windows.values()):
            raise ValueError("a window's time has no timezone")
        return windows
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        _log.warning(
            "Alert throttle state %s is not the kit's JSON (%s): it is started afresh.",
            path,
            exc,
        )
        return {}


def _write(path: Path, windows: MutableMapping[str, _Window], now: datetime) -> None:
    kept = {
        key: {"sent_at": w.sent_at.isoformat(), "suppressed": w.suppressed}
        for key, w in windows.items()
        if timedelta(0) <= now - w.sent_at < _FORGET_AFTER
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

    Empties the memory of every live throttle and every state file a throttle of this
    process has used. `mock_discord_webhook()`
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
