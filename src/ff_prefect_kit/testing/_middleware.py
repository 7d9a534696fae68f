"""`RetryBusyDatabase`: the harness server retries, in place, requests that met SQLite's lock.

A write that meets SQLite's lock (the task-run recorder writing while the next flow run
is created) makes Prefect's API answer 503, and Prefect's client then sleeps about two
seconds before it tries again. This middleware retries such a request inside the
server after a few milliseconds instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["HARNESS_HEADER", "RetryBusyDatabase", "sqlite_busy"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

RETRY_DELAY = 0.005
RETRY_DEADLINE = 30.0

HARNESS_HEADER = (b"x-ff-prefect-kit-harness", b"1")
"""The header every answer of the harness server carries: proof of who serves."""


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
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), HARNESS_HEADER]
            if self.hold_503:
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
