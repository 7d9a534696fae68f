"""The harness's API server: Prefect's own app, tuned for a test session.

Prefect's test harness starts `prefect.server.api.server:create_app` under uvicorn
in a subprocess. The kit's harness starts the same app through `create_app` below,
which changes two things that cost a flow test seconds on SQLite:

- A write that meets SQLite's lock (the task-run recorder writing while the next
  flow run is created) makes the API answer 503, and Prefect's client then sleeps
  about two seconds before it tries again. `RetryBusyDatabase` retries such a
  request inside the server after a few milliseconds instead.
- Prefect records each task-run event in its own transaction, a dozen for a
  four-task flow, each competing with the next flow's API calls. The prompt
  recorder writes the events that arrive within `RECORDER_GATHER` seconds as one
  batch, so task runs still show up in the API a few milliseconds after they end.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

from ff_prefect_kit._fsync import fsync_directory, fsync_file

__all__ = [
    "RetryBusyDatabase",
    "create_app",
    "database_path",
    "database_template",
    "harness_server_class",
    "install_prompt_recorder",
    "keep_database",
    "sqlite_busy",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

RETRY_DELAY = 0.005
RETRY_DEADLINE = 30.0
RECORDER_GATHER = 0.02

_log = logging.getLogger("ff_prefect_kit.testing.server")


class RetryBusyDatabase:
    """Retry, inside the server, the requests that failed on a busy database.

    When a transaction meets SQLite's lock, Prefect's API rolls it back, answers
    503 and re-raises the error; its client then retries the same request, but only
    after a back-off of seconds. This holds such a 503 back and replays the request
    after `delay` seconds, until it gets another answer or `deadline` seconds have
    passed, when the 503 goes to the client as before. Any other answer, a 503
    without such an error included, goes to the client unchanged.

    Args:
        app: The ASGI app to wrap.
        retryable: Whether an error raised by the app marks a request worth retrying.
        delay: Seconds between attempts.
        deadline: Seconds after which a 503 is passed on.
    """

    def __init__(
        self,
        app: ASGIApp,
        retryable: Callable[[Exception], bool],
        delay: float = RETRY_DELAY,
        deadline: float = RETRY_DEADLINE,
    ) -> None:
        self.app = app
        self.retryable = retryable
        self.delay = delay
        self.deadline = deadline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection; only plain HTTP requests are retried."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        first, body = await _read_body(receive)
        if first is not None:  # the client went away before sending its body
            await self.app(scope, _replay(first, receive), send)
            return
        request = {"type": "http.request", "body": body, "more_body": False}
        give_up = time.monotonic() + self.deadline
        while True:
            attempt = _Attempt(send, hold_503=time.monotonic() < give_up)
            try:
                # Starlette's routing writes into the scope; each attempt gets a copy.
                await self.app(dict(scope), _replay(request, receive), attempt)
            except Exception as error:
                if not (attempt.held and self.retryable(error)):
                    await attempt.release()
                    raise
            else:
                await attempt.release()
                return
            await asyncio.sleep(self.delay)


class _Attempt:
    """The `send` of one attempt: holds a 503 answer back until it is known to stand."""

    def __init__(self, send: Send, hold_503: bool) -> None:
        self.send = send
        self.hold_503 = hold_503
        self.held: list[Message] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start" and self.hold_503:
            self.hold_503 = message["status"] == 503
        if self.hold_503:
            self.held.append(message)
        else:
            await self.send(message)

    async def release(self) -> None:
        """Send the held answer on."""
        for message in self.held:
            await self.send(message)
        self.held = []


async def _read_body(receive: Receive) -> tuple[Message | None, bytes]:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return message, bytes(body)
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return None, bytes(body)


def _replay(first: Message, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first
        return await receive()

    return replay


class _PromptRecorder:
    """Task-run events, written in one batch per burst of arrivals.

    Args:
        record: Prefect's bulk writer of task-run events.
        parse: Turns a message's data into an event.
        gather: Seconds to collect events after the first one before writing.
        batch_size: Most events written at once.
        max_retries: Failed writes an event survives (a busy database is not counted).
    """

    def __init__(
        self,
        record: Callable[[list[Any]], Awaitable[None]],
        parse: Callable[[Any], Any],
        gather: float,
        batch_size: int,
        max_retries: int,
    ) -> None:
        self.record = record
        self.parse = parse
        self.gather = gather
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.pending: list[tuple[Any, int]] = []
        self.arrived = asyncio.Event()
        self.stopping = False

    async def handle(self, message: Any) -> None:
        """Take one message from the event stream; keep it if Prefect's recorder would."""
        event = self.parse(message.data)
        if not event.event.startswith("prefect.task-run"):
            return
        if event.resource.get("prefect.orchestration") != "client":
            return
        self.pending.append((event, 0))
        self.arrived.set()

    async def write(self) -> bool:
        """Write the oldest pending events; put them back if that fails."""
        batch = self.pending[: self.batch_size]
        del self.pending[: len(batch)]
        try:
            await self.record([event for event, _ in batch])
        # Database drivers can report a lost connection as CancelledError.
        except (Exception, asyncio.CancelledError) as error:
            # A busy database is no fault of the events: they wait for their turn.
            busy = sqlite_busy(error)
            kept = [(e, n if busy else n + 1) for e, n in batch if busy or n < self.max_retries]
            self.pending[:0] = kept
            _log.warning(
                "recording %d task-run events failed (%r); %d kept for another try",
                len(batch),
                error,
                len(kept),
            )
            if self.stopping and isinstance(error, asyncio.CancelledError):
                raise
            return False
        return True

    async def run(self) -> None:
        """Write each burst `gather` seconds after it starts, until stopped."""
        delay = self.gather
        while True:
            try:
                await self.arrived.wait()
                await asyncio.sleep(delay)
                self.arrived.clear()
                written = await self.write()
            except asyncio.CancelledError:
                if self.stopping:
                    return
                written = False
            # After a failed write, wait longer each time, up to a second.
            delay = self.gather if written else min(2 * delay, 1.0)
            if self.pending:
                self.arrived.set()

    async def stop(self, runner: asyncio.Task[None]) -> None:
        """Stop `runner`, then write what is still pending."""
        self.stopping = True
        runner.cancel()
        await asyncio.wait([runner])
        while self.pending:
            if not await self.write():
                _log.error("%d task-run events were not recorded at shutdown", len(self.pending))
                return


def install_prompt_recorder(gather: float = RECORDER_GATHER) -> bool:
    """Make Prefect's task-run recorder write each burst of events in one batch.

    Replaces the recorder's consumer (Prefect 3.7 and later, which record events in
    bulk); on older releases nothing changes.

    Args:
        gather: Seconds to collect events after the first one before writing.

    Returns:
        Whether the recorder was replaced.
    """
    from prefect.server.services import task_run_recorder

    record = getattr(task_run_recorder, "record_bulk_task_run_events", None)
    if record is None or not hasattr(task_run_recorder, "consumer"):
        return False
    from prefect.server.events.schemas.events import ReceivedEvent

    @asynccontextmanager
    async def consumer(
        write_batch_size: int, flush_every: int, max_persist_retries: int = 5
    ) -> AsyncIterator[Callable[[Any], Awaitable[None]]]:
        # Same signature as Prefect's consumer. `flush_every` has no use here: a burst
        # is written `gather` seconds after it starts. `write_batch_size` defaults to
        # one event per write, the very cost this avoids, so it is only a lower bound.
        recorder = _PromptRecorder(
            record,
            ReceivedEvent.model_validate_json,
            gather,
            batch_size=max(write_batch_size, 1000),
            max_retries=max_persist_retries,
        )
        runner = asyncio.create_task(recorder.run())
        try:
            yield recorder.handle
        finally:
            await recorder.stop(runner)

    task_run_recorder.consumer = consumer
    return True


def sqlite_busy(error: BaseException) -> bool:
    """Whether `error` is SQLite refusing a write because another one holds the lock.

    Narrower than Prefect's own test for errors a client may retry, which also
    takes errors that fail the same way every time.
    """
    import sqlite3

    original = getattr(error, "orig", None)
    if not isinstance(original, sqlite3.OperationalError):
        return False
    name = getattr(original, "sqlite_errorname", None)
    return name in {"SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT"} or "database is locked" in str(original)


def create_app() -> ASGIApp:
    """Build the harness's API app (the uvicorn factory the harness server runs)."""
    from prefect.server.api.server import create_app as create_prefect_app

    install_prompt_recorder()
    return RetryBusyDatabase(create_prefect_app(), retryable=sqlite_busy)


def database_path() -> Path | None:
    """The current settings' SQLite database file, or `None` for another database."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    url = str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value() or "")
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix) or ":memory:" in url:
        return None
    return Path(url.removeprefix(prefix))


def database_template(folder: Path) -> Path:
    """Where in `folder` the migrated database of the installed Prefect is kept.

    Named by Prefect's release and its SQLite migrations, so that neither a new
    release nor a development install with new migrations starts from a stale copy.
    """
    import hashlib

    import prefect
    import prefect.server.database

    versions = Path(prefect.server.database.__file__).parent / "_migrations" / "versions" / "sqlite"
    names = sorted(p.name for p in versions.glob("*.py")) if versions.is_dir() else []
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:12]
    return folder / f"prefect-{prefect.__version__}-{digest}.db"


def keep_database(template: Path) -> None:
    """Copy the current SQLite database to `template`, consistently and atomically.

    Uses SQLite's backup API, so a running server's write-ahead log is included.
    Copies kept for other Prefect releases in the same folder are removed.

    Raises:
        OSError: The folder cannot be written.
        sqlite3.Error: The database could not be read.
    """
    import sqlite3
    import tempfile

    source = database_path()
    if source is None or not source.exists():
        return
    template.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=template.parent, prefix=f".{template.name}.")
    os.close(handle)
    try:
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)
            # One self-contained file, so that a plain file copy of it is whole.
            dst.execute("PRAGMA journal_mode = DELETE")
        fsync_file(partial)
        os.replace(partial, template)
    finally:
        Path(partial).unlink(missing_ok=True)
    fsync_directory(template.parent)
    for other in template.parent.glob("prefect-*.db"):
        if other != template:
            other.unlink(missing_ok=True)


def _sound(database: Path) -> bool:
    import sqlite3

    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            return bool(db.execute("PRAGMA quick_check").fetchone() == ("ok",))
    except sqlite3.Error:
        return False


def _start_from(template: Path | None, database: Path | None) -> None:
    """Copy `template` to a database file that does not exist yet.

    A kept copy that SQLite finds damaged is removed; the server then migrates a
    new database, and the session keeps that one instead.
    """
    if template is None or database is None:
        return
    if not template.exists() or database.exists():
        return
    if not _sound(template):
        _log.warning("removing the damaged kept database %s", template)
        template.unlink(missing_ok=True)
        return
    # Alembic finds the copy at its head revision and skips the migrations.
    shutil.copyfile(template, database)


def harness_server_class(template: Path | None = None) -> type[Any]:
    """Prefect's `SubprocessASGIServer`, serving `create_app` instead of Prefect's app.

    Args:
        template: A migrated database to start from when the server's database
            file does not exist yet.
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings

    class HarnessServer(SubprocessASGIServer):
        def stop(self) -> None:
            super().stop()
            # Prefect before 3.7 leaves its default (port None) entry behind; a later
            # ephemeral server in this process must not be this one.
            if self._instances.get(None) is self:
                del self._instances[None]

        def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
            _start_from(template, database_path())
            return subprocess.Popen(
                args=[
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--app-dir",
                    str(Path(__file__).resolve().parents[2]),
                    "--factory",
                    f"{__name__}:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "error",
                    "--lifespan",
                    "on",
                ],
                env={
                    **os.environ,
                    # What Prefect's own test server sets: no UI, no extra services.
                    "PREFECT_UI_ENABLED": "0",
                    "PREFECT__SERVER_EPHEMERAL": "1",
                    "PREFECT__SERVER_FINAL": "1",
                    **get_current_settings().to_environment_variables(exclude_unset=True),
                },
            )

    return HarnessServer
