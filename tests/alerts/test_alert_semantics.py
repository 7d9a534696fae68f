"""What an alert means: its own window per severity and cause, handled only when delivered."""

from __future__ import annotations

import contextvars
import logging
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from tests.conftest import Emitted

from ff_prefect_kit import Severity, analytics_task, monitored_flow
from ff_prefect_kit.alerts import Alert, AlertThrottle, LogSink, build_payload
from ff_prefect_kit.alerts._automations import ALERT_HANDLED_EVENT
from ff_prefect_kit.alerts._throttle import _MOST_READ
from ff_prefect_kit.testing import mock_discord_webhook

START = datetime(2026, 9, 14, 12, 0, tzinfo=UTC)
WARNING = Alert(Severity.FAILURE, "nightly failed")
RED = Alert(Severity.VALIDATION, "nightly failed")


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["memory", "shared"])
def throttle(request: pytest.FixtureRequest, tmp_path: Path) -> AlertThrottle:
    """A 10-minute throttle, its windows in memory or in a state file."""
    file = tmp_path / "alert-throttle.json" if request.param == "shared" else None
    return AlertThrottle(timedelta(minutes=10), clock=Clock(), state_file=file)


def test_a_more_severe_alert_is_never_held_behind_a_lesser_one(throttle: AlertThrottle) -> None:
    """A ⚠️ alert opens a window; a 🔴 one for the same flow inside it is still sent."""
    assert throttle.admit("nightly", WARNING) is WARNING
    assert throttle.admit("nightly", RED) is RED


def test_another_cause_opens_its_own_window(throttle: AlertThrottle) -> None:
    """Another exception type for the same flow and severity is sent; the same one is held."""
    assert throttle.admit("nightly", WARNING, cause="builtins.OSError") is WARNING
    assert throttle.admit("nightly", WARNING, cause="builtins.KeyError") is WARNING
    assert throttle.admit("nightly", WARNING, cause="builtins.OSError") is None


def test_held_back_counts_every_window_of_a_flow(throttle: AlertThrottle) -> None:
    """`held_back(flow)` adds up the alerts held in each of the flow's windows."""
    for alert in (WARNING, WARNING, RED, RED, RED):
        throttle.admit("nightly", alert)
    assert throttle.held_back("nightly") == 3


@pytest.mark.parametrize("delivered", [True, False])
def test_a_window_remembers_whether_its_alert_reached_anyone(
    throttle: AlertThrottle, delivered: bool
) -> None:
    """What `record_delivery` noted for the alert that opened a window, `delivered` tells."""
    throttle.admit("nightly", WARNING)
    throttle.record_delivery("nightly", WARNING, delivered)
    assert throttle.delivered("nightly", WARNING) is delivered
    assert throttle.delivered("nightly", RED) is False


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _zeros(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _huge(path: Path) -> None:
    with path.open("wb") as file:
        file.truncate(_MOST_READ + 1)


@pytest.mark.parametrize("make", [_fifo, _zeros, _huge], ids=["fifo", "dev-zero", "too-large"])
def test_a_state_file_that_is_no_regular_file_is_refused(
    make: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A FIFO, a link to /dev/zero or a huge file: logged, and the process decides alone."""
    state = tmp_path / "alert-throttle.json"
    make(state)
    throttle = AlertThrottle(clock=Clock(), state_file=state)
    decided: list[Alert | None] = []
    done = threading.Event()

    def decide() -> None:
        decided.extend([throttle.admit("nightly", WARNING), throttle.admit("nightly", WARNING)])
        done.set()

    with caplog.at_level(logging.WARNING, logger="ff_prefect_kit"):
        thread = threading.Thread(target=contextvars.copy_context().run, args=(decide,))
        thread.daemon = True
        thread.start()
        # A guard against a hang (a FIFO blocks the reader), not a speed target.
        assert done.wait(30), "reading the state file blocked"
    assert decided == [WARNING, None]
    assert "decides alone" in caplog.text
    assert state.is_symlink() or not state.is_file() or state.stat().st_size > _MOST_READ


@pytest.mark.parametrize(
    "sequence", ["\x1b[31mred\x1b[0m", "\x9b2J", "\x07bell", "a\rforged"], ids=repr
)
def test_control_characters_reach_no_console_raw(
    sequence: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An ANSI escape in an alert's text is written out, in the log and in the payload."""
    alert = Alert(Severity.FAILURE, f"nightly {sequence}", sequence, (("Error", sequence),))
    with caplog.at_level(logging.INFO, logger="ff_prefect_kit"):
        LogSink().send(alert)
    payload = build_payload(alert)
    texts = [caplog.records[-1].getMessage(), str(payload)]
    control = next(c for c in sequence if ord(c) < 32 or 127 <= ord(c) < 160)
    for text in texts:
        assert control not in text
    assert repr(control)[1:-1] in caplog.records[-1].getMessage()
    assert repr(control)[1:-1] in payload["embeds"][0]["fields"][0]["value"]


class _Row(BaseModel):
    points: float


@pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")
def test_a_validation_failure_after_a_warning_is_alerted() -> None:
    """⚠️ then, inside the window, 🔴: both reach Discord; a third ⚠️ is held back."""

    @analytics_task(retries=0)
    def compute() -> _Row:
        return _Row(points="many")  # type: ignore[arg-type]

    @monitored_flow(name="warning-then-red")
    def nightly(bad_rows: bool) -> None:
        if bad_rows:
            compute()
        raise RuntimeError("upstream file missing")

    with mock_discord_webhook() as discord:
        for bad_rows in (False, True, False):
            assert nightly(bad_rows, return_state=True).is_failed()
    assert [m.severity for m in discord.messages] == [Severity.FAILURE, Severity.VALIDATION]


@pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")
def test_an_alert_held_behind_one_only_logged_leaves_the_server_to_tell(
    emitted: Emitted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No webhook on the worker: neither the logged alert nor the one held behind it is handled."""
    monkeypatch.delenv("DISCORD_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)

    @monitored_flow(name="logged-then-held", alerts=LogSink())
    def fails() -> None:
        raise RuntimeError("boom")

    for _ in range(2):
        assert fails(return_state=True).is_failed()
    assert [e for e in emitted.events if e["event"] == ALERT_HANDLED_EVENT] == []


@pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")
def test_a_crash_held_behind_a_delivered_alert_is_handled(emitted: Emitted) -> None:
    """A crash inside the window of a crash that reached Discord is reported as handled."""

    class Interrupted(BaseException):
        pass

    @monitored_flow(name="crashes-twice")
    def doomed() -> None:
        raise Interrupted

    with mock_discord_webhook() as discord:
        for _ in range(2):
            with pytest.raises(Interrupted):
                doomed()
    outcomes = [
        e["payload"]["outcome"] for e in emitted.events if e["event"] == ALERT_HANDLED_EVENT
    ]
    assert outcomes == ["sent", "held back"]
    assert len(discord.messages) == 1


class _UnprintableRepr(Exception):
    def __repr__(self) -> str:
        raise AttributeError("no repr for this one")


@pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")
def test_an_exception_whose_repr_raises_is_reported_as_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its type and message reach the alert; it is retried as any other, and the run Fails."""
    monkeypatch.setenv("PREFECT_API_KEY", "pnu_reprTestKey0123456789abcdef")  # Prefect reprs
    attempts: list[int] = []

    @analytics_task(retries=1)
    def load() -> None:
        attempts.append(1)
        raise _UnprintableRepr("the feed is late")

    @monitored_flow(name="unprintable-repr")
    def nightly() -> None:
        load()

    with mock_discord_webhook() as discord:
        state = nightly(return_state=True)
    assert state.is_failed()
    assert len(attempts) == 2
    [message] = discord.messages
    assert message.fields["Error"] == "_UnprintableRepr: the feed is late"
