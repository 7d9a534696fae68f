"""The harness server's busy-database retry: a 503 on SQLite's lock is replayed in place."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from ff_prefect_kit.testing._middleware import RetryBusyDatabase

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
