"""The harness server's parts: the busy-database retry, the prompt recorder, the kept database."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest

from ff_prefect_kit.testing._harness import _keep
from ff_prefect_kit.testing._server import (
    RetryBusyDatabase,
    _start_from,
    database_path,
    database_template,
    harness_server_class,
    install_prompt_recorder,
    keep_database,
    sqlite_busy,
)

Message = dict[str, Any]


class ScriptedApp:
    """An ASGI app answering each attempt with the next status in `statuses`.

    Like Prefect's API on a busy database, it raises after answering 503 when
    `busy` is set (Starlette re-raises what its error handler answered).
    """

    def __init__(self, *statuses: int, busy: bool = True) -> None:
        self.statuses = list(statuses)
        self.busy = busy
        self.bodies: list[bytes] = []
        self.paths: list[str] = []

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        self.paths.append(scope["path"])
        scope["path"] = "/rewritten-by-routing"
        self.bodies.append((await receive())["body"])
        status = self.statuses.pop(0)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": str(status).encode()})
        if self.busy and status == 503:
            raise BusyError("database is locked")


class BusyError(Exception):
    """What the scripted app raises after a 503."""


def _busy(error: Exception) -> bool:
    return isinstance(error, BusyError)


def _request(
    app: Any, body: bytes = b'{"name": "x"}', sent: list[Message] | None = None
) -> list[Message]:
    chunks = [
        {"type": "http.request", "body": body[:3], "more_body": True},
        {"type": "http.request", "body": body[3:], "more_body": False},
    ]
    sent = [] if sent is None else sent

    async def receive() -> Message:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/flow_runs/"}
    asyncio.run(app(scope, receive, send))
    return sent


def _statuses(sent: list[Message]) -> list[int]:
    return [m["status"] for m in sent if m["type"] == "http.response.start"]


def test_a_busy_database_503_is_retried_inside_the_server() -> None:
    """The client sees the answer of the attempt after the busy 503s, not the 503."""
    app = ScriptedApp(503, 503, 201)
    sent = _request(RetryBusyDatabase(app, retryable=_busy, delay=0))
    assert _statuses(sent) == [201]
    assert sent[-1]["body"] == b"201"


def test_every_attempt_gets_the_whole_body_and_the_original_path() -> None:
    """The request body, read once, is replayed whole, under an unchanged scope."""
    app = ScriptedApp(503, 200)
    _request(RetryBusyDatabase(app, retryable=_busy, delay=0), body=b'{"name": "load"}')
    assert app.bodies == [b'{"name": "load"}'] * 2
    assert app.paths == ["/api/flow_runs/"] * 2


def test_a_503_without_an_error_reaches_the_client() -> None:
    """A deliberate 503 (an API that is not ready, say) is answered as it was, once."""
    app = ScriptedApp(503, 200, busy=False)
    sent = _request(RetryBusyDatabase(app, retryable=_busy, delay=0))
    assert _statuses(sent) == [503]
    assert len(app.bodies) == 1


def test_a_503_with_another_error_reaches_the_client() -> None:
    """A 503 whose error is not a busy database is answered, and its error raised."""
    app = ScriptedApp(503, 200)
    sent: list[Message] = []
    with pytest.raises(BusyError):
        _request(RetryBusyDatabase(app, retryable=lambda error: False, delay=0), sent=sent)
    assert _statuses(sent) == [503]


def test_a_503_past_the_deadline_reaches_the_client() -> None:
    """After the deadline the 503 is passed on, for the client's own retry."""
    app = ScriptedApp(503, 200)
    sent: list[Message] = []
    with pytest.raises(BusyError):
        _request(RetryBusyDatabase(app, retryable=_busy, delay=0, deadline=0), sent=sent)
    assert _statuses(sent) == [503]
    assert len(app.bodies) == 1


def test_other_errors_propagate() -> None:
    """An error raised before any answer is not retried."""

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise BusyError("bug")

    with pytest.raises(BusyError, match="bug"):
        _request(RetryBusyDatabase(broken, retryable=_busy, delay=0))


@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
def test_non_http_connections_pass_through(kind: str) -> None:
    """Lifespan and websocket connections reach the app untouched."""
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope, receive, send))

    async def receive() -> Message:
        return {}

    async def send(message: Message) -> None:
        return None

    scope = {"type": kind}
    asyncio.run(RetryBusyDatabase(app, retryable=_busy)(scope, receive, send))
    assert seen == [(scope, receive, send)]


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


def _database(path: Path) -> sqlite3.Connection:
    """A WAL database whose one row is still in the write-ahead log while it is open."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute("CREATE TABLE alembic_version (version_num TEXT)")
    db.execute("INSERT INTO alembic_version VALUES ('head')")
    db.commit()
    return db


def test_kept_database_is_a_whole_copy(tmp_path: Path) -> None:
    """The kept copy holds the server's rows, write-ahead log included."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL, temporary_settings

    live = tmp_path / "live.db"
    server = _database(live)
    template = tmp_path / "cache" / "prefect-test.db"
    url = f"sqlite+aiosqlite:///{live}"
    with closing(server), temporary_settings({PREFECT_SERVER_DATABASE_CONNECTION_URL: url}):
        assert database_path() == live
        keep_database(template)
    assert [p.name for p in template.parent.iterdir()] == [template.name]
    with closing(sqlite3.connect(template)) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [("head",)]


def test_a_new_server_starts_from_the_kept_database(tmp_path: Path) -> None:
    """A database file that does not exist yet starts as a copy of the kept one."""
    template = tmp_path / "kept.db"
    _database(template).close()
    database = tmp_path / "server.db"
    _start_from(template, database)
    assert database.read_bytes() == template.read_bytes()


def test_an_existing_database_is_never_replaced(tmp_path: Path) -> None:
    """A server database that already exists keeps its content."""
    template = tmp_path / "kept.db"
    _database(template).close()
    database = tmp_path / "server.db"
    database.write_bytes(b"in use")
    _start_from(template, database)
    assert database.read_bytes() == b"in use"


def test_a_damaged_kept_database_is_removed_not_copied(tmp_path: Path) -> None:
    """A kept copy SQLite cannot read is dropped, and the server migrates a new one."""
    template = tmp_path / "kept.db"
    template.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    database = tmp_path / "server.db"
    _start_from(template, database)
    assert not template.exists()
    assert not database.exists()


def test_keeping_a_database_removes_other_releases_copies(tmp_path: Path) -> None:
    """Only the copy for the installed Prefect stays in the cache folder."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL, temporary_settings

    live = tmp_path / "live.db"
    _database(live).close()
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "prefect-3.0.0-000000000000.db").write_bytes(b"old")
    template = database_template(cache)
    with temporary_settings(
        {PREFECT_SERVER_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{live}"}
    ):
        keep_database(template)
    assert [p.name for p in cache.iterdir()] == [template.name]


def test_the_kept_database_is_named_by_release_and_migrations(tmp_path: Path) -> None:
    """The name carries Prefect's version and a digest of its migrations."""
    import prefect

    name = database_template(tmp_path).name
    assert name.startswith(f"prefect-{prefect.__version__}-")
    assert name == database_template(tmp_path).name


def test_an_unwritable_cache_costs_only_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A cache folder that cannot be created is reported and the session goes on."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL, temporary_settings

    live = tmp_path / "live.db"
    _database(live).close()
    (tmp_path / "not-a-folder").write_text("")
    template = tmp_path / "not-a-folder" / "prefect.db"
    with temporary_settings(
        {PREFECT_SERVER_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{live}"}
    ):
        _keep(template)
    assert "could not keep the migrated database" in caplog.text


def test_a_stopped_harness_server_is_not_the_default_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After the session, Prefect's default server of the process is not the harness's."""
    from prefect.server.api.server import SubprocessASGIServer

    monkeypatch.setattr(SubprocessASGIServer, "_instances", {})
    server = harness_server_class()()  # Prefect before 3.7 registers it under port None
    server.port = 8123  # then picks a port when it starts
    server.stop()
    assert None not in SubprocessASGIServer._instances
