"""AlertThrottle's shared state: one window per flow across every process that runs it."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ff_prefect_kit import Severity
from ff_prefect_kit.alerts import Alert, AlertThrottle, reset_throttles
from ff_prefect_kit.alerts._throttle import shared_store

START = datetime(2026, 9, 14, 12, 0, tzinfo=UTC)
ALERT = Alert(Severity.FAILURE, "nightly failed")

# One process deciding on one alert: prints "sent", "held" or the count note.
_ONE_PROCESS = textwrap.dedent(
    """
    import sys, time
    from datetime import timedelta
    from pathlib import Path
    from ff_prefect_kit import Severity
    from ff_prefect_kit.alerts import Alert, AlertThrottle

    throttle = AlertThrottle(timedelta(minutes=10), state_file=sys.argv[1])
    if len(sys.argv) > 2:  # started with others: say so, then decide when all are told to
        Path(sys.argv[2]).touch()
        while not Path(sys.argv[3]).exists():
            time.sleep(0.001)
    admitted = throttle.admit("nightly", Alert(Severity.FAILURE, "nightly failed"))
    print("held" if admitted is None else "sent")
    """
)


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _run_processes(state_file: Path, count: int, *, at_once: bool = False) -> list[str]:
    folder = state_file.parent
    go = folder / "go"
    started = [
        subprocess.Popen(
            [sys.executable, "-c", _ONE_PROCESS, str(state_file)]
            + ([str(folder / f"ready-{n}"), str(go)] if at_once else []),
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(count)
    ]
    if at_once:  # every process has imported the kit and waits: then all decide together
        deadline = time.monotonic() + 120
        while len(list(folder.glob("ready-*"))) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        go.touch()
    return sorted(process.communicate(timeout=120)[0].strip() for process in started)


def test_a_second_throttle_on_the_same_file_holds_the_alert_back(tmp_path: Path) -> None:
    """Two throttles on one state file (two runs' processes) share one window."""
    state = tmp_path / "alert-throttle.json"
    first = AlertThrottle(timedelta(minutes=10), clock=Clock(), state_file=state)
    second = AlertThrottle(timedelta(minutes=10), clock=Clock(), state_file=state)
    assert first.admit("nightly", ALERT) is ALERT
    assert second.admit("nightly", ALERT) is None
    assert first.held_back("nightly") == 1


def test_the_count_reaches_the_next_alert_of_another_process(tmp_path: Path) -> None:
    """The alert after the window counts failures that other processes held back."""
    state = tmp_path / "alert-throttle.json"
    clock = Clock()
    AlertThrottle(clock=clock, state_file=state).admit("nightly", ALERT)
    clock.now = START + timedelta(minutes=1)
    AlertThrottle(clock=clock, state_file=state).admit("nightly", ALERT)
    clock.now = START + timedelta(minutes=11)
    sent = AlertThrottle(clock=clock, state_file=state).admit("nightly", ALERT)
    assert sent is not None
    assert sent.fields[-1] == ("Also failed", "and 1 more failure since 2026-09-14T12:00:00+00:00")


def test_consecutive_processes_send_one_alert(tmp_path: Path) -> None:
    """Three processes run one after another: the first alerts, the others are held."""
    state = tmp_path / "alert-throttle.json"
    outcomes = [_run_processes(state, 1)[0] for _ in range(3)]
    assert outcomes == ["sent", "held", "held"]


def test_processes_deciding_at_once_send_one_alert(tmp_path: Path) -> None:
    """Four processes failing at the same moment: the lock lets exactly one alert out."""
    state = tmp_path / "alert-throttle.json"
    assert _run_processes(state, 4, at_once=True) == ["held", "held", "held", "sent"]
    assert json.loads(state.read_text())["windows"]["nightly"]["suppressed"] == 3


def test_a_state_file_that_is_not_json_is_started_afresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Garbage in the state file is logged and replaced; the alert is sent."""
    state = tmp_path / "alert-throttle.json"
    state.write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="ff_prefect_kit"):
        assert AlertThrottle(clock=Clock(), state_file=state).admit("nightly", ALERT) is ALERT
    assert "is not the kit's JSON" in caplog.text
    assert "nightly" in json.loads(state.read_text())["windows"]


def test_an_unusable_state_directory_falls_back_to_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A state directory that cannot be made costs no alert: the process throttles alone."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    throttle = AlertThrottle(clock=Clock(), state_file=blocker / "alert-throttle.json")
    with caplog.at_level(logging.WARNING, logger="ff_prefect_kit"):
        assert throttle.admit("nightly", ALERT) is ALERT
        assert throttle.admit("nightly", ALERT) is None
    assert "decides alone" in caplog.text


def test_a_state_path_that_is_a_directory_falls_back_to_memory(tmp_path: Path) -> None:
    """A state file path that names a directory is an unusable file, not a failure."""
    throttle = AlertThrottle(clock=Clock(), state_file=tmp_path)
    assert throttle.admit("nightly", ALERT) is ALERT
    assert throttle.admit("nightly", ALERT) is None


def test_a_shared_throttle_finds_its_file_when_the_alert_is_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`shared()` reads FF_ALERT_STATE_FILE at each alert, not when the flow was defined."""
    throttle = AlertThrottle.shared(clock=Clock())
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    monkeypatch.setenv("FF_ALERT_STATE_FILE", str(tmp_path / "shared.json"))
    throttle.admit("nightly", ALERT)
    assert "nightly" in json.loads((tmp_path / "shared.json").read_text())["windows"]


def test_the_state_file_setting_names_the_shared_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FF_ALERT_STATE_FILE, when set, is where shared windows live."""
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    monkeypatch.setenv("FF_ALERT_STATE_FILE", str(tmp_path / "shared.json"))
    assert shared_store() == tmp_path / "shared.json"


def test_no_state_file_and_no_api_leave_shared_windows_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No FF_ALERT_STATE_FILE and no Prefect API: memory, and no file under FF_DATA_DIR."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    monkeypatch.delenv("FF_ALERT_STATE_FILE", raising=False)
    monkeypatch.setenv("FF_DATA_DIR", str(tmp_path / "data"))
    throttle = AlertThrottle.shared(clock=Clock())
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert shared_store() is None
        assert throttle.admit("nightly", ALERT) is ALERT
        assert throttle.admit("nightly", ALERT) is None
    assert not (tmp_path / "data").exists()


def test_invalid_settings_leave_a_shared_throttle_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A settings error at alert time is logged; the alert still goes out."""
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"FF_DATA_DIR=\xff\xfe\n")
    monkeypatch.setenv("FF_ENV_FILE", str(env_file))
    throttle = AlertThrottle.shared(clock=Clock())
    with caplog.at_level(logging.WARNING, logger="ff_prefect_kit"):
        assert throttle.admit("nightly", ALERT) is ALERT
    assert "No shared alert throttle state" in caplog.text


def test_reset_empties_the_state_files_a_throttle_used(tmp_path: Path) -> None:
    """`reset_throttles()` quiets shared windows too: the next alert is sent."""
    state = tmp_path / "alert-throttle.json"
    throttle = AlertThrottle(clock=Clock(), state_file=state)
    throttle.admit("nightly", ALERT)
    reset_throttles()
    assert not state.exists()
    assert throttle.admit("nightly", ALERT) is ALERT


def test_old_windows_are_dropped_from_the_state_file(tmp_path: Path) -> None:
    """A flow that has not alerted for a month leaves no entry behind."""
    state = tmp_path / "alert-throttle.json"
    clock = Clock()
    throttle = AlertThrottle(clock=clock, state_file=state)
    throttle.admit("retired", ALERT)
    clock.now = START + timedelta(days=31)
    throttle.admit("nightly", ALERT)
    assert list(json.loads(state.read_text())["windows"]) == ["nightly"]


def test_a_shared_throttle_says_so_in_its_repr() -> None:
    """The repr tells a memory throttle from a shared one."""
    assert "shared" in repr(AlertThrottle.shared())
    assert "memory" in repr(AlertThrottle())


def test_a_throttle_pickles_with_its_windows(tmp_path: Path) -> None:
    """A throttle sent to another process (Dask pickles the flow) keeps its windows."""
    import pickle

    throttle = AlertThrottle(clock=Clock(), state_file=tmp_path / "alert-throttle.json")
    throttle.admit("nightly", ALERT)
    copy = pickle.loads(pickle.dumps(throttle))
    assert copy.admit("nightly", ALERT) is None
    assert repr(copy) == repr(throttle)


def test_reset_empties_the_files_of_throttles_already_gone(tmp_path: Path) -> None:
    """A flow of an earlier test is gone but its window is not: reset clears that too."""
    import gc

    state = tmp_path / "alert-throttle.json"
    AlertThrottle(clock=Clock(), state_file=state).admit("nightly", ALERT)
    gc.collect()
    reset_throttles()
    assert AlertThrottle(clock=Clock(), state_file=state).admit("nightly", ALERT) is ALERT


def test_a_window_without_a_timezone_starts_the_file_afresh(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A hand-edited time without a timezone is not the kit's JSON: the alert still goes out."""
    state = tmp_path / "alert-throttle.json"
    state.write_text(
        '{"windows": {"nightly": {"sent_at": "2026-09-14T12:00:00", "suppressed": 0}}}'
    )
    with caplog.at_level(logging.WARNING, logger="ff_prefect_kit"):
        assert AlertThrottle(clock=Clock(), state_file=state).admit("nightly", ALERT) is ALERT
    assert "is not the kit's JSON" in caplog.text


def test_a_window_from_another_machines_future_holds_nothing_back(tmp_path: Path) -> None:
    """A clock ahead elsewhere wrote a window in the future: this machine's alert is sent."""
    state = tmp_path / "alert-throttle.json"
    ahead = Clock()
    ahead.now = START + timedelta(hours=2)
    AlertThrottle(clock=ahead, state_file=state).admit("nightly", ALERT)
    assert AlertThrottle(clock=Clock(), state_file=state).admit("nightly", ALERT) is ALERT


def test_the_state_file_is_shared_with_other_accounts_as_the_umask_allows(tmp_path: Path) -> None:
    """The file is made as `open()` makes files (0o666 less the umask), not owner-only."""
    umask = os.umask(0)
    os.umask(umask)
    state = tmp_path / "alert-throttle.json"
    AlertThrottle(clock=Clock(), state_file=state).admit("nightly", ALERT)
    assert stat.S_IMODE(state.stat().st_mode) == 0o666 & ~umask


def test_resetting_a_state_file_whose_folder_is_gone_makes_nothing(tmp_path: Path) -> None:
    """A test tool's temporary folder removed before the reset is not made again for a lock."""
    from ff_prefect_kit.alerts._throttle import _forget

    gone = tmp_path / "removed" / "alert-throttle.json"
    _forget({gone})
    assert not gone.parent.exists()
