"""Shared helpers for the suite."""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
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


# The slow tests whose subject is the stack itself, not the kit's own logic: the adopter's
# first hour (a new project, `python my_flow.py` on a fresh Prefect home, per-node dbt records
# on the ephemeral API), the alert windows of a rerun test file, the plugin under the user's
# pytest and `--cov`. CI runs them again on the adopting project's pins (`-m "not slow or
# stack"`); every other slow test runs once, on the newest stack.
STACK_TESTS = frozenset(
    {
        "tests/test_new_project.py",
        "tests/test_local_run.py",
        "tests/dbt/test_dbt_ephemeral_api.py",
        "tests/alerts/test_throttle_rerun.py",
        "tests/testing/test_plugin.py::test_fixtures_work_from_a_plain_test_file",
        "tests/testing/test_plugin.py::test_a_downstream_cov_run_measures_the_kit",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the suite's own markers."""
    config.addinivalue_line(
        "markers", "slow: a test of a slow family (tests/conftest.py SLOW_FILES); CI runs them"
    )
    config.addinivalue_line(
        "markers",
        "stack: a slow test about the stack, run again on the adopting project's pins "
        "(tests/conftest.py STACK_TESTS)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of a slow family `slow`, and those about the stack `stack`.

    The slow families then run first, each file still whole and in pytest-randomly's
    order: pytest-xdist hands tests out in this order, so the long ones start early
    and the run ends on short ones, with no worker left alone on a minute-long test.
    """
    root = config.rootpath
    for item in items:
        if not item.path.is_relative_to(root):
            continue
        path = item.path.relative_to(root).as_posix()
        if path in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
        name = getattr(item, "originalname", item.name)
        if path in STACK_TESTS or f"{path}::{name}" in STACK_TESTS:
            item.add_marker(pytest.mark.stack)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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


# --- A real S3 API on loopback for the object-store tests: moto's server, one per session ---


@dataclass(frozen=True)
class Bucket:
    """A bucket of its own on the loopback S3 server, and a client to look inside it."""

    name: str
    endpoint: str
    client: Any

    def keys(self) -> list[str]:
        """Every key in the bucket, sorted."""
        listed = self.client.list_objects_v2(Bucket=self.name).get("Contents", [])
        return sorted(item["Key"] for item in listed)

    def get(self, key: str) -> bytes:
        """The object's bytes."""
        body: bytes = self.client.get_object(Bucket=self.name, Key=key)["Body"].read()
        return body


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1, on a free port, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Bucket:
    """A new bucket, with this process's AWS_* settings pointing at the loopback server."""
    import boto3

    settings = {
        "AWS_ACCESS_KEY_ID": "ff-test-key-id",
        "AWS_SECRET_ACCESS_KEY": "ff-test-secret-" + uuid.uuid4().hex,
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ALLOW_HTTP": "true",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_METADATA_ENDPOINT", "FF_ANALYTICS_URL"):
        monkeypatch.delenv(name, raising=False)
    name = f"ff-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=settings["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=settings["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=name)
    return Bucket(name, s3_endpoint, client)
