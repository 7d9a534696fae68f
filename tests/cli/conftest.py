"""What the command-line tests share: an HTTP API on loopback that answers too slowly."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# How long the trickling server keeps a body going: past it the connection is closed, so a
# client without a deadline of its own ends with a broken body instead of hanging a test.
TRICKLE_FOR = 90.0


class _TricklingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, slow_path: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.slow_path = slow_path
        self.stopping = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    """Prefect's /health and /flows/filter, one of them sending its body a byte at a time."""

    server: _TricklingServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(b"true")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(b"[]")

    def _answer(self, body: bytes) -> None:
        slow = self.path.endswith(self.server.slow_path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(1_000_000 if slow else len(body)))
        self.end_headers()
        if not slow:
            self.wfile.write(body)
            return
        # Headers at once, then one byte every 50 ms: each read is quick, the body endless.
        waited = 0.0
        try:
            while waited < TRICKLE_FOR and not self.server.stopping.wait(0.05):
                waited += 0.05
                self.wfile.write(b" ")
                self.wfile.flush()
        except OSError:  # the client gave up
            return
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def trickling_api() -> Iterator[Callable[[str], str]]:
    """Start an API on loopback whose answers to paths ending in `slow_path` trickle.

    Call it with the path to slow down (`"/health"`, `"/flows/filter"`); it returns the
    API's URL, ending in `/api`.
    """
    servers: list[_TricklingServer] = []

    def start(slow_path: str) -> str:
        server = _TricklingServer(slow_path)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/api"

    try:
        yield start
    finally:
        for server in servers:
            server.stopping.set()
            server.shutdown()
            server.server_close()
