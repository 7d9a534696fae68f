"""One deadline for a whole delivery, whatever the webhook's server does (real loopback servers)."""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from tests.alerts._servers import ToLoopback, trickling

from ff_prefect_kit.alerts import DiscordClient

URL = "https://discord.com/api/webhooks/123456789012345678/trickled-token"
DEADLINE = 1.0
# A guard against a hang, not a speed target: the deadline is 1 s, the grace 1 s more.
GUARD = 30.0


def _within_guard(call: Callable[[], Any]) -> list[Any]:
    """Run `call` in a thread of this context; what it returned, once it has (or nothing)."""
    result: list[Any] = []
    done = threading.Event()

    def run() -> None:
        result.append(call())
        done.set()

    threading.Thread(target=contextvars.copy_context().run, args=(run,), daemon=True).start()
    done.wait(GUARD)
    return result


@pytest.mark.parametrize("status", [429, 500, 404])
def test_an_answer_trickling_past_the_deadline_ends_the_delivery(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Headers at once, then a byte every 0.2 s: the delivery ends undelivered at the deadline."""
    with trickling(status) as server:
        client = DiscordClient(URL, transport=ToLoopback(server.port), deadline=DEADLINE)
        with caplog.at_level(logging.ERROR, logger="ff_prefect_kit"):
            outcome = _within_guard(lambda: client.deliver({"content": "hi"}))
    assert outcome == [False], "the delivery outlived its deadline"
    assert server.requests == 1
    said = f"HTTP {status}, its body still arriving after 1 s"
    [record] = [r for r in caplog.records if said in r.getMessage()]
    assert "not delivered" in record.getMessage()
    assert "trickled-token" not in record.getMessage()


def test_trickled_headers_are_abandoned_once_the_deadline_passes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Even the status line trickling: the caller stops waiting and logs the alert undelivered."""
    with trickling(200, part="headers") as server:
        client = DiscordClient(URL, transport=ToLoopback(server.port), deadline=DEADLINE)
        with caplog.at_level(logging.ERROR, logger="ff_prefect_kit"):
            outcome = _within_guard(lambda: client.deliver({"content": "hi"}))
    assert outcome == [False], "the delivery outlived its deadline"
    assert any("the delivery was abandoned" in r.getMessage() for r in caplog.records)


def test_a_success_whose_body_trickles_is_delivered_at_once() -> None:
    """A 2xx means Discord stored the message: its body is not waited for."""
    with trickling(200) as server:
        client = DiscordClient(URL, transport=ToLoopback(server.port), deadline=DEADLINE)
        assert _within_guard(lambda: client.deliver({"content": "hi"})) == [True]
