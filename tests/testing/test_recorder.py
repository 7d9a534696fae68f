"""The harness server's prompt recorder: task-run events written in batches, none lost."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest

from ff_prefect_kit.testing._middleware import sqlite_busy
from ff_prefect_kit.testing._recorder import install_prompt_recorder

Message = dict[str, Any]


def _event(name: str, orchestration: str = "client") -> SimpleNamespace:
    from prefect.server.events.schemas.events import ReceivedEvent

    event = ReceivedEvent(
        occurred=datetime.now(UTC),
        event=name,
        resource={
            "prefect.resource.id": f"prefect.task-run.{uuid4()}",
            "prefect.orchestration": orchestration,
        },
        id=uuid4(),
    )
    return SimpleNamespace(data=event.model_dump_json())


def _bulk_recording() -> bool:
    from prefect.server.services import task_run_recorder

    return hasattr(task_run_recorder, "record_bulk_task_run_events")


needs_bulk_recording = pytest.mark.skipif(
    not _bulk_recording(), reason="Prefect before 3.7 records task-run events one by one"
)


@pytest.mark.skipif(_bulk_recording(), reason="this Prefect records task-run events in bulk")
def test_older_prefect_keeps_its_own_recorder() -> None:
    """Where Prefect has no bulk writer, its own recorder stays in place."""
    assert install_prompt_recorder() is False


def _locked() -> Exception:
    """What SQLAlchemy raises when SQLite refuses a write: the database is locked."""
    from sqlalchemy.exc import OperationalError

    return OperationalError(
        "INSERT INTO task_run ...", {}, sqlite3.OperationalError("database is locked")
    )


def _recorded(
    monkeypatch: pytest.MonkeyPatch,
    *messages: Any,
    settle: float = 0.1,
    failures: int = 0,
    error: Callable[[], Exception] = lambda: RuntimeError("disk I/O error"),
    max_retries: int = 5,
) -> list[list[str]]:
    """Feed `messages` to the prompt recorder; the batches it wrote, by event name."""
    from prefect.server.services import task_run_recorder

    batches: list[list[str]] = []

    async def record(events: list[Any]) -> None:
        batches.append([e.event for e in events])
        if len(batches) <= failures:
            raise error()

    monkeypatch.setattr(task_run_recorder, "record_bulk_task_run_events", record)
    monkeypatch.setattr(task_run_recorder, "consumer", task_run_recorder.consumer)
    assert install_prompt_recorder(gather=0.01)

    async def run() -> None:
        recorder = task_run_recorder.consumer(
            write_batch_size=1, flush_every=5, max_persist_retries=max_retries
        )
        async with recorder as handle:
            for message in messages:
                await handle(message)
            await asyncio.sleep(settle)

    asyncio.run(run())
    return batches


BURST = ("prefect.task-run.Pending", "prefect.task-run.Running", "prefect.task-run.Completed")


@needs_bulk_recording
def test_prompt_recorder_writes_a_burst_in_one_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Task-run events arriving together are recorded by one call."""
    assert _recorded(monkeypatch, *map(_event, BURST)) == [list(BURST)]


@needs_bulk_recording
def test_prompt_recorder_takes_only_client_task_run_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Flow-run events and server-side task-run events are left alone, as Prefect does."""
    flow_run = _event("prefect.flow-run.Running")
    server_side = _event("prefect.task-run.Running", orchestration="server")
    assert _recorded(monkeypatch, flow_run, server_side) == []


@needs_bulk_recording
def test_prompt_recorder_retries_a_failed_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch whose write failed is written again, with nothing lost."""
    done = "prefect.task-run.Completed"
    assert _recorded(monkeypatch, _event(done), failures=1) == [[done], [done]]


@needs_bulk_recording
def test_prompt_recorder_drops_events_that_keep_failing(monkeypatch: pytest.MonkeyPatch) -> None:
    """After `max_persist_retries` failed writes an event is given up, as in Prefect."""
    done = "prefect.task-run.Completed"
    batches = _recorded(monkeypatch, _event(done), failures=10, max_retries=1, settle=0.3)
    assert batches == [[done], [done]]


@needs_bulk_recording
def test_prompt_recorder_waits_out_a_busy_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes refused by SQLite's lock do not count against the retries."""
    done = "prefect.task-run.Completed"
    batches = _recorded(
        monkeypatch, _event(done), failures=3, error=_locked, max_retries=1, settle=0.5
    )
    assert batches == [[done]] * 4


@pytest.mark.parametrize(
    ("error", "busy"),
    [
        (_locked, True),
        (lambda: RuntimeError("database is locked"), False),
        (lambda: __import__("sqlalchemy.exc").exc.NoResultFound("no row"), False),
    ],
)
def test_only_sqlite_lock_errors_count_as_busy(error: Callable[[], Exception], busy: bool) -> None:
    """SQLite's lock is busy; an error that would fail again is not."""
    assert sqlite_busy(error()) is busy


@needs_bulk_recording
def test_prompt_recorder_writes_what_is_pending_when_it_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Events still waiting at shutdown are written before the recorder stops."""
    done = "prefect.task-run.Completed"
    assert _recorded(monkeypatch, _event(done), settle=0) == [[done]]
