"""The harness's API server process: started on loopback, always stopped."""

from __future__ import annotations

import pytest

from ff_prefect_kit.testing import HarnessStartError
from ff_prefect_kit.testing._server import HarnessServer


def test_a_server_that_does_not_answer_in_time_is_stopped_and_named() -> None:
    """A start-up past its timeout raises HarnessStartError and leaves no process behind."""
    server = HarnessServer()
    with pytest.raises(HarnessStartError, match=r"did not answer within 0 s.*startup_timeout"):
        server.start(timeout=0)
    assert server.process is None
