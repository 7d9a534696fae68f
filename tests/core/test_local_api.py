"""A monitored flow on Prefect's local API gives a first start time, unless told otherwise."""

from __future__ import annotations

import pytest
from prefect.settings import PREFECT_API_URL, Settings, temporary_settings

from ff_prefect_kit._settings import LOCAL_API_STARTUP_SECONDS
from ff_prefect_kit.core._local_api import ensure_local_api, startup_timeout

_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"


def test_an_unset_startup_timeout_waits_long_enough_for_a_first_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nobody set the start-up timeout: the kit waits LOCAL_API_STARTUP_SECONDS."""
    monkeypatch.delenv(_SETTING, raising=False)
    assert startup_timeout(Settings()) == LOCAL_API_STARTUP_SECONDS


def test_a_startup_timeout_someone_set_is_kept_as_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """A start-up timeout in the environment stands, even Prefect's own 20 s."""
    monkeypatch.setenv(_SETTING, "20")
    assert startup_timeout(Settings()) is None


def test_a_configured_api_url_starts_no_local_server() -> None:
    """With PREFECT_API_URL set, no local server is started or created."""
    from prefect.server.api.server import SubprocessASGIServer

    before = dict(SubprocessASGIServer._instances)
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        ensure_local_api()
    assert SubprocessASGIServer._instances == before
