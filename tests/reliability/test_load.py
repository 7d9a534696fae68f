"""Under load: flows at once, a burst of failures, a rate-limited or hanging webhook."""

from __future__ import annotations

import contextvars
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from tests.alerts._servers import ToLoopback, trickling
from tests.conftest import FakeTime

from ff_prefect_kit import Severity, analytics_task, monitored_flow, write_parquet
from ff_prefect_kit.alerts import AlertThrottle, DiscordClient
from ff_prefect_kit.testing import DiscordWebhookMock, mock_discord_webhook

pytestmark = pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")

FLOWS_AT_ONCE = 8
BURST = 100


def _all_at_once(pool: ThreadPoolExecutor, flows: list[Any]) -> list[Any]:
    """Run the flows in the pool's threads, each in a copy of this thread's context.

    A new thread starts with an empty context, and Prefect releases before 3.7 keep the
    harness's API URL in the context only.
    """
    runs = [pool.submit(contextvars.copy_context().run, flow, return_state=True) for flow in flows]
    return [run.result() for run in runs]


def test_eight_flows_at_once_each_write_their_output_and_one_alerts(tmp_path: Path) -> None:
    """8 monitored flows running together: 7 write whole outputs, the failing one alerts once."""

    @analytics_task
    def compute(n: int) -> pl.DataFrame:
        if n == 5:
            raise ValueError("flow 5's input is broken")
        return pl.DataFrame({"flow": [n] * 1000, "value": list(range(1000))})

    def make(n: int) -> Any:
        @monitored_flow(name=f"load-{n}")
        def run() -> None:
            frame = compute(n)
            write_parquet(frame, tmp_path / f"out-{n}" / "latest.parquet", root=tmp_path)

        return run

    flows = [make(n) for n in range(FLOWS_AT_ONCE)]
    with mock_discord_webhook() as discord, ThreadPoolExecutor(FLOWS_AT_ONCE) as pool:
        states = _all_at_once(pool, flows)

    assert [state.is_completed() for state in states] == [n != 5 for n in range(FLOWS_AT_ONCE)]
    for n in range(FLOWS_AT_ONCE):
        output = tmp_path / f"out-{n}" / "latest.parquet"
        if n == 5:
            assert not output.exists()
        else:
            assert pl.read_parquet(output)["flow"].to_list() == [n] * 1000
    assert [m.content for m in discord.messages] == [f"{Severity.CRITICAL.emoji} load-5 failed"]
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_hundred_failures_in_a_minute_send_one_alert_then_one_with_the_count() -> None:
    """100 failures 0.6 s apart: one alert; the first after the window counts the other 99."""
    now = [datetime(2026, 9, 13, 12, 0, tzinfo=UTC)]
    throttle = AlertThrottle(timedelta(minutes=10), clock=lambda: now[0])
    with mock_discord_webhook() as discord:

        @monitored_flow(name="every-minute", alert_window=throttle)
        def every_minute() -> None:
            raise RuntimeError("upstream file missing")

        for _ in range(BURST):
            assert every_minute(return_state=True).is_failed()
            now[0] += timedelta(seconds=0.6)
        assert len(discord.messages) == 1
        assert throttle.held_back("every-minute") == BURST - 1

        now[0] += timedelta(minutes=10)
        every_minute(return_state=True)
    assert len(discord.messages) == 2
    assert discord.messages[1].fields["Also failed"] == (
        "and 99 more failures since 2026-09-13T12:00:00+00:00"
    )


def test_rate_limits_under_load_are_honoured_and_every_alert_arrives() -> None:
    """8 flows failing at once into a webhook answering 429s: each wait as asked, all delivered."""
    time = FakeTime()
    limited: list[Any] = [DiscordWebhookMock.rate_limited(0.25 * (n + 1)) for n in range(4)]
    with mock_discord_webhook(responses=limited) as discord:
        client = DiscordClient(discord.webhook_url, sleep=time.sleep, clock=time.clock)

        def make(n: int) -> Any:
            @monitored_flow(name=f"limited-{n}", alerts=client)
            def fails() -> None:
                raise RuntimeError(f"flow {n} failed")

            return fails

        flows = [make(n) for n in range(FLOWS_AT_ONCE)]
        with ThreadPoolExecutor(FLOWS_AT_ONCE) as pool:
            states = _all_at_once(pool, flows)

    assert all(state.is_failed() for state in states)
    assert sorted(m.content for m in discord.messages) == sorted(
        f"{Severity.FAILURE.emoji} limited-{n} failed" for n in range(FLOWS_AT_ONCE)
    )
    assert [r.status for r in discord.requests].count(429) == 4
    assert sorted(time.sleeps) == [0.25, 0.5, 0.75, 1.0]


class _Hanging:
    """A loopback server that accepts connections and never answers."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def hanging() -> Iterator[_Hanging]:
    """A webhook host that hangs."""
    server = _Hanging()
    yield server
    server.close()


def _failing_flow_state(name: str, client: DiscordClient) -> Any:
    """The final state of a monitored flow that fails and alerts through `client`, run in a
    thread; `None` when it has not returned after 60 s (a guard against a hang, not a
    speed target: the tests' deadlines are a second or two)."""

    @monitored_flow(name=name, alerts=client)
    def fails() -> None:
        raise RuntimeError("bad week")

    done = threading.Event()
    result: list[Any] = []

    def run() -> None:
        result.append(fails(return_state=True))
        done.set()

    threading.Thread(target=contextvars.copy_context().run, args=(run,), daemon=True).start()
    return result[0] if done.wait(60) else None


def test_a_hanging_webhook_costs_the_flow_at_most_the_delivery_deadline(
    hanging: _Hanging, caplog: pytest.LogCaptureFixture
) -> None:
    """A webhook that never answers: the run ends Failed once the deadline is spent."""
    client = DiscordClient(
        "https://discord.com/api/webhooks/123456789012345678/hanging-token",
        transport=ToLoopback(hanging.port),
        deadline=1.5,
        backoff=0.1,
    )

    state = _failing_flow_state("into-the-void", client)
    assert state is not None, "the flow did not return: the webhook's hang reached it"
    assert state.is_failed()
    assert hanging.accepted
    assert any(
        "Discord alert not delivered" in r.getMessage() and "hanging-token" not in r.getMessage()
        for r in caplog.records
    )


def test_a_webhook_trickling_its_answer_costs_the_flow_at_most_the_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Headers, then a byte every 0.2 s: the run still ends Failed once the deadline is spent."""
    with trickling(429) as server:
        client = DiscordClient(
            "https://discord.com/api/webhooks/123456789012345678/trickled-token",
            transport=ToLoopback(server.port),
            deadline=1.0,
        )

        state = _failing_flow_state("into-the-trickle", client)
    assert state is not None, "the flow did not return: the trickling answer held it"
    assert state.is_failed()
    assert any(
        "still arriving" in r.getMessage() and "trickled-token" not in r.getMessage()
        for r in caplog.records
    )
