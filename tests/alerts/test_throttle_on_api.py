"""Alert windows live in the Prefect API the runs report to: shared by machines, per server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from tests.alerts._servers import Receiver

from ff_prefect_kit.alerts import AlertThrottle, reset_throttles
from ff_prefect_kit.alerts._model import Alert, Severity
from ff_prefect_kit.alerts._throttle_api import ApiWindows, _settings_without_retries, variable_name
from ff_prefect_kit.testing import HarnessHandle, PrefectServer

FLOW = """
from ff_prefect_kit import monitored_flow


@monitored_flow(name="shared-window-flow")
def breaks() -> None:
    raise RuntimeError("the feed is down")


if __name__ == "__main__":
    try:
        breaks()
    except RuntimeError:
        print("failed as planned")
"""

ALERT = Alert(severity=Severity.FAILURE, title="t", description="d")


class Clock:
    """A clock that stands still unless moved."""

    def __init__(self) -> None:
        self.now = datetime(2026, 9, 6, 13, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback, serving for the test."""
    served = Receiver()
    try:
        yield served
    finally:
        served.close()


def _machine(root: Path, server: PrefectServer, webhook: str) -> tuple[Path, dict[str, str]]:
    """A working folder and environment of their own, as a second machine has."""
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FF_", "DISCORD"))}
    env |= server.environment()
    env |= {
        "PREFECT_HOME": str(root / "prefect-home"),
        "FF_DATA_DIR": str(root / "data"),
        "FF_ENV_FILE": os.devnull,
        "FF_ALERT_ALLOW_LOOPBACK": "1",
        "DISCORD_WEBHOOK_URL": webhook,
    }
    (root / "flow.py").write_text(FLOW)
    return root, env


def test_two_machines_share_one_alert_window_through_the_server(
    prefect_server: PrefectServer, tmp_path: Path, receiver: Receiver
) -> None:
    """Two processes with their own data dirs on one server: one alert, one held back."""
    for name in ("machine-a", "machine-b"):
        root, env = _machine(tmp_path / name, prefect_server, f"http://127.0.0.1:{receiver.port}/a")
        done = subprocess.run(
            [sys.executable, "flow.py"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert "failed as planned" in done.stdout, done.stdout + done.stderr
        assert not (root / "data").exists()  # nothing written under the working folder
    assert len(receiver.posts) == 1
    stored = ApiWindows(prefect_server.api_url).read("shared-window-flow")
    assert sum(window["suppressed"] for window in stored.values()) == 1


def test_a_window_held_in_the_api_holds_back_another_throttle(
    prefect_test_harness: HarnessHandle,
) -> None:
    """A second throttle (another process's) on the same API sees the first one's window."""
    first, second = AlertThrottle(), AlertThrottle()
    first._store = second._store = lambda: ApiWindows(prefect_test_harness.api_url)
    try:
        assert first.admit("api-window", ALERT) is ALERT
        assert second.admit("api-window", ALERT) is None
        assert second.held_back("api-window") == 1
    finally:
        reset_throttles()


def test_reset_throttles_deletes_the_windows_this_process_wrote(
    prefect_test_harness: HarnessHandle,
) -> None:
    """After reset_throttles(), the API holds no window this process wrote."""
    api = ApiWindows(prefect_test_harness.api_url)
    throttle = AlertThrottle()
    throttle._store = lambda: api
    throttle.admit("forgotten-window", ALERT)
    reset_throttles()
    assert api.read("forgotten-window") == {}


def test_an_api_that_does_not_answer_leaves_the_windows_in_memory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No API at the URL: the first alert goes, the next is held back by this process."""
    clock = Clock()
    throttle = AlertThrottle(clock=clock)
    throttle._store = lambda: ApiWindows("http://127.0.0.1:9/api")
    assert throttle.admit("no-api", ALERT) is ALERT
    clock.now += timedelta(minutes=1)
    assert throttle.admit("no-api", ALERT) is None
    assert "decides alone" in caplog.text


def test_a_shared_throttle_uses_the_api_runs_report_to(
    prefect_test_harness: HarnessHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no FF_ALERT_STATE_FILE, the shared store is the current Prefect API."""
    from ff_prefect_kit.alerts._throttle import shared_store

    monkeypatch.delenv("FF_ALERT_STATE_FILE", raising=False)
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    with temporary_settings({PREFECT_API_URL: prefect_test_harness.api_url}):
        assert shared_store() == ApiWindows(prefect_test_harness.api_url)


def test_any_key_has_a_valid_variable_name() -> None:
    """Keys of any text and length map to names Prefect accepts."""
    from prefect.client.schemas.actions import VariableCreate

    for key in ("flow", "Ünïcode flow / with spaces", "x" * 500, "\ud800"):
        VariableCreate(name=variable_name(key), value=1)


def test_the_windows_client_never_retries_whatever_prefect_is_set_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Prefect's client retries are off for the windows' requests, even when set higher."""
    monkeypatch.setenv("PREFECT_CLIENT_MAX_RETRIES", "7")
    assert _settings_without_retries().client.max_retries == 0


def test_settings_without_retries_are_derived_once_per_settings() -> None:
    """Each request of an alert reuses them: deriving validates all of Prefect's settings."""
    assert _settings_without_retries() is _settings_without_retries()


def test_settings_without_retries_follow_the_current_settings() -> None:
    """Inside other settings (another API), they are derived from those."""
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert _settings_without_retries().api.url == "http://127.0.0.1:9/api"
    assert _settings_without_retries().api.url != "http://127.0.0.1:9/api"


def test_settings_without_retries_follow_a_changed_prefect_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Prefect variable set since they were derived derives them again."""
    before = _settings_without_retries()
    monkeypatch.setenv("PREFECT_CLIENT_CSRF_SUPPORT_ENABLED", "false")
    assert _settings_without_retries() is not before
