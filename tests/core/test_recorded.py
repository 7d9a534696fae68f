"""Kit task runs on Prefect's local API are waited for at exit; on a server they are not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_ALLOW_EPHEMERAL_MODE,
    temporary_settings,
)

from ff_prefect_kit import _config
from ff_prefect_kit.core import _recorded


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> list[Callable[..., Any]]:
    """What `atexit.register` was given, on a process whose exit hook is not yet registered."""
    calls: list[Callable[..., Any]] = []
    monkeypatch.setattr(_recorded.atexit, "register", calls.append)
    monkeypatch.setattr(_config.state, "exit_wait_registered", False)
    monkeypatch.setattr(_config.state, "local_task_runs", {})
    return calls


def test_task_runs_on_the_local_api_register_one_exit_wait(
    registered: list[Callable[..., Any]],
) -> None:
    """Two task runs with no API URL: both kept, the exit wait registered once."""
    first, second = uuid4(), uuid4()
    with temporary_settings(
        updates={PREFECT_SERVER_ALLOW_EPHEMERAL_MODE: True}, restore_defaults={PREFECT_API_URL}
    ):
        _recorded.note_task_run(first)
        _recorded.note_task_run(second)
    assert (registered, list(_config.state.local_task_runs)) == (
        [_recorded.wait_at_exit],
        [first, second],
    )


def test_task_runs_on_a_server_are_not_waited_for(
    registered: list[Callable[..., Any]],
) -> None:
    """With `PREFECT_API_URL` set nothing is kept and no exit hook is registered."""
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        _recorded.note_task_run(uuid4())
    assert (registered, _config.state.local_task_runs) == ([], {})


def test_the_exit_wait_asks_nothing_where_no_local_api_runs(
    registered: list[Callable[..., Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No local API in this process: the exit wait returns at once, asking no API."""
    asked: list[object] = []
    monkeypatch.setattr(_recorded, "running_local_api_url", lambda: None)
    monkeypatch.setattr(_recorded, "wait_until_recorded", lambda *a, **k: asked.append(a))
    _config.state.local_task_runs[uuid4()] = None
    assert (_recorded.wait_at_exit(), asked) == (1, [])
