"""A user's test file on Prefect's own test harness passes every time it is run, not once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ff_prefect_kit.cli._local_settings import LOCAL_SETTINGS

USERS_TESTS = """
import httpx
import pytest
import respx
from prefect.testing.utilities import prefect_test_harness

from ff_prefect_kit import monitored_flow

WEBHOOK = "https://discord.com/api/webhooks/123456789012345678/users-own-token"


# None: Prefect's start-up timeout setting, which the project's .env raises (its 30 s
# default can pass on a loaded machine).
@pytest.fixture(scope="session", autouse=True)
def harness():
    with prefect_test_harness(server_startup_timeout=None):
        yield


@pytest.fixture
def discord(monkeypatch):
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", WEBHOOK)
    with respx.mock(assert_all_called=False) as router:
        router.route(host__in=("127.0.0.1", "localhost")).pass_through()
        posts = router.post(WEBHOOK).mock(return_value=httpx.Response(204))
        yield posts


@monitored_flow(name="breaks-for-the-test")
def breaks():
    raise RuntimeError("the feed is down")


def test_a_failure_is_alerted(discord):
    with pytest.raises(RuntimeError):
        breaks()
    assert discord.call_count == 1
"""


def test_a_test_file_on_prefects_harness_passes_when_run_again_at_once(tmp_path: Path) -> None:
    """Run twice in a row: the second session alerts too, and nothing lands in the project."""
    (tmp_path / "test_users_flow.py").write_text(USERS_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FF_", "DISCORD"))}
    env |= {"FF_ENV_FILE": os.devnull, "PYTHONDONTWRITEBYTECODE": "1", **dict(LOCAL_SETTINGS)}
    for attempt in (1, 2):
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"run {attempt}:\n{done.stdout[-4000:]}{done.stderr[-2000:]}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test_users_flow.py"]
