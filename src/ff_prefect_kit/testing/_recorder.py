"""The harness server's task-run recorder: each burst of events written in one batch.

Prefect 3.7 and later record each task-run event in its own transaction, a dozen for
a four-task flow, each competing with the next flow's API calls. The prompt recorder
writes the events that arrive within `RECORDER_GATHER` seconds as one batch, so task
runs still show up in the API a few milliseconds after they end.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from ff_prefect_kit._internals import replace_task_run_consumer, task_run_recorder
from ff_prefect_kit.testing._middleware import sqlite_busy

__all__ = ["RECORDER_GATHER", "install_prompt_recorder"]

RECORDER_GATHER = 0.02

_log = logging.getLogger("ff_prefect_kit.testing.server")


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
    record = task_run_recorder()
    if record is None:
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

    replace_task_run_consumer(consumer)
    return True
