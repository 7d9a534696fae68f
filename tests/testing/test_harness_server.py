"""The harness's API server process: started on loopback, always stopped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ff_prefect_kit.testing import HarnessStartError
from ff_prefect_kit.testing._server import HarnessServer, ServerProcess, free_port


def test_a_server_that_does_not_answer_in_time_is_stopped_and_named() -> None:
    """A start-up past its timeout raises HarnessStartError and leaves no process behind."""
    server = HarnessServer()
    with pytest.raises(HarnessStartError, match=r"did not answer within 0 s.*startup_timeout"):
        server.start(timeout=0)
    assert server.process is None


class _HealthServer(ServerProcess):
    """A tiny HTTP server on loopback that answers `/api/health` with 200."""

    _what = "the health server"

    @property
    def database(self) -> Path | None:
        return None

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.port = free_port()
        return subprocess.Popen(
            [sys.executable, "-c", HEALTH_SERVER, str(self.port)],
            stdout=self._output,
            stderr=self._output,
        )


HEALTH_SERVER = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""


def test_a_server_answering_when_first_asked_is_taken_after_its_deadline() -> None:
    """wait() asks once even past the deadline: a session that ran other tests first finds it."""
    with _HealthServer() as server:
        server.launch()
        server.wait(timeout=60)  # it answers
        server.wait(timeout=0)  # the deadline has passed, and it still answers
        assert server.process is not None
