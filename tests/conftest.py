"""Shared helpers for the suite."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

from ff_prefect_kit.alerts import Alert

# Tests assert behaviour, never wall-clock time: no per-example deadline.
settings.register_profile("kit", deadline=None)
settings.load_profile("kit")


# The slow families: each test here starts processes of its own (a real server and its
# workers, pytester sessions, the demo, dbt builds killed at random points, wheel builds,
# fresh Prefect homes). `uv run pytest -n auto -m "not slow"` is the quick local loop; CI runs all.
SLOW_FILES = frozenset(
    {
        "tests/alerts/test_throttle_rerun.py",
        "tests/cli/test_demo.py",
        "tests/cli/test_new_flow.py",
        "tests/cli/test_wheel.py",
        "tests/dbt/test_dbt_ephemeral_api.py",
        "tests/reliability/test_crash_leftovers.py",
        "tests/reliability/test_crash_writers.py",
        "tests/reliability/test_dbt_killed.py",
        "tests/reliability/test_load.py",
        "tests/scale/test_dask.py",
        "tests/test_docs.py",
        "tests/test_local_run.py",
        "tests/test_new_project.py",
        "tests/testing/test_automations_on_a_server.py",
        "tests/testing/test_deployments.py",
        "tests/testing/test_plugin.py",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the suite's own marker."""
    config.addinivalue_line(
        "markers", "slow: a test of a slow family (tests/conftest.py SLOW_FILES); CI runs them"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of a slow family `slow`."""
    root = config.rootpath
    for item in items:
        if item.path.is_relative_to(root) and (
            item.path.relative_to(root).as_posix() in SLOW_FILES
        ):
            item.add_marker(pytest.mark.slow)


def modules_after(module: str, packages: tuple[str, ...]) -> list[str]:
    """The modules of `packages` loaded once a fresh interpreter imports `module`."""
    code = (
        f"import sys, {module}; "
        f"print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] in {packages!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return done.stdout.split()


class FakeTime:
    """A monotonic clock that moves only when code sleeps on it: tests never really wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingSink:
    """An alert sink that keeps what it is sent: the kit's own seam, not a mock."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.alerts.append(alert)


@pytest.fixture
def sink() -> RecordingSink:
    """A fresh recording alert sink."""
    return RecordingSink()


@pytest.fixture
def kit_records(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture the kit's and the tests' log records at INFO."""
    with caplog.at_level(logging.INFO):
        yield caplog


class Emitted:
    """The events Prefect emits (asset materializations among them), kept instead of sent."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: str, resource: dict[str, str], **kwargs: Any) -> None:
        self.events.append({"event": event, "resource": resource, **kwargs})

    def materialized(self) -> dict[str, dict[str, Any]]:
        """The materialization events, by asset key."""
        return {
            e["resource"]["prefect.resource.id"]: e
            for e in self.events
            if e["event"].startswith("prefect.asset.materialization.")
        }


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch) -> Emitted:
    """Prefect's asset events of the test, caught."""
    import prefect.events

    caught = Emitted()
    monkeypatch.setattr(prefect.events, "emit_event", caught)
    return caught
