"""Real loopback HTTP servers for alert tests: one that trickles, one that records posts."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx


def _read_request(connection: socket.socket) -> tuple[str, bytes]:
    """Read one HTTP request from `connection`: its path and its (Content-Length) body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return "", b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    return (request_line[1] if len(request_line) > 1 else ""), body


class TricklingServer:
    """A loopback server that answers each request one byte every `interval` seconds.

    `part="body"` sends the status line and headers at once, then the body a byte at a
    time; `part="headers"` trickles the status line and headers themselves. It stops
    when closed, so a client it holds is released at the test's end.
    """

    def __init__(self, status: int, *, part: str = "body", interval: float = 0.2) -> None:
        self.status = status
        self.part = part
        self.interval = interval
        self.requests = 0
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self._connections.append(connection)
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket, data: bytes) -> None:
        for byte in data:
            if self._stop.wait(self.interval):
                return
            connection.sendall(bytes([byte]))

    def _answer(self, connection: socket.socket) -> None:
        try:
            _read_request(connection)
            self.requests += 1
            head = (
                f"HTTP/1.1 {self.status} Status\r\nContent-Type: application/json\r\n"
                "Content-Length: 100000\r\n\r\n"
            ).encode()
            body = b'{"message": "' + b"x" * 99_985 + b'"}'
            if self.part == "headers":
                self._trickle(connection, head + body)
            else:
                connection.sendall(head)
                self._trickle(connection, body)
        except OSError:  # the client gave up and closed: nothing more to send
            return

    def close(self) -> None:
        """Stop answering and close every connection."""
        self._stop.set()
        self._server.close()
        for connection in self._connections:
            connection.close()


class ToLoopback(httpx.HTTPTransport):
    """Send every request to a loopback port: the webhook's host is on this machine."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return super().handle_request(request)


class Receiver:
    """A loopback webhook that answers 204 and keeps each posted JSON body and path."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, Any]] = []
        self.received = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            with connection:
                path, body = _read_request(connection)
                self.posts.append((path, json.loads(body or b"null")))
                connection.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                self.received.set()

    def close(self) -> None:
        """Stop listening."""
        self._server.close()


@contextmanager
def trickling(status: int, **options: Any) -> Iterator[TricklingServer]:
    """A `TricklingServer`, closed on exit."""
    server = TricklingServer(status, **options)
    try:
        yield server
    finally:
        server.close()
