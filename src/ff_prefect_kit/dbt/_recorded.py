"""Waiting until Prefect's API has recorded the dbt nodes' task runs: the kit's backpressure.

Prefect's server builds task runs from the events its clients send, and by default
writes each event in a transaction of its own. The nodes of a dbt run reach it as one
burst, three events per node (243 for 81 nodes), which it takes seconds to write,
while the flow's next tasks queue their events behind the burst. On the ephemeral API
(no `PREFECT_API_URL`) the server is a subprocess that Prefect terminates when the
script exits, and the events still in its in-memory queue are lost with it, as are
the writes under way (printed as `sqlalchemy.pool ... CancelledError` tracebacks): a
flow that reported 81 nodes kept 4 to 7 of its 87 task runs, and none of the tasks
after dbt. That is Prefect's shutdown, not the events: nothing the kit sends
differently avoids it. So `report_nodes` waits here until the API has the nodes in
their final states before the flow goes on, which leaves the flow's later task runs
no backlog to be lost behind, on the ephemeral API and on a server alike.

The wait stops early, with a warning, when the API records nothing for `stall`
seconds (a server too busy, or one that does not record task-run events): the
report is for the UI and must never hold a flow up for long or fail it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from uuid import UUID

__all__ = ["STALL_SECONDS", "wait_until_recorded"]

STALL_SECONDS = 15.0
"""How long the API may record nothing before the wait gives up."""

# One API read covers this many task runs (the server's default page limit is 200).
_PAGE = 200
_FIRST_POLL = 0.02
_LONGEST_POLL = 0.5
_FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})

_log = logging.getLogger("ff_prefect_kit.dbt")


def wait_until_recorded(
    task_run_ids: Sequence[UUID],
    *,
    stall: float = STALL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Wait until the API holds each of these task runs in a final state.

    Polls the API (every 20 ms at first, then less often, up to every 0.5 s). Never
    raises: an API error ends the wait, logged at debug level.

    Args:
        task_run_ids: The task runs sent as events.
        stall: Seconds without any new task run recorded after which to stop waiting.
        clock: The clock for `stall`.
        sleep: How to wait between reads.

    Returns:
        How many of them were not recorded when the wait ended (0 when all were).
    """
    pending = list(dict.fromkeys(task_run_ids))
    if not pending:
        return 0
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterId

    started = last_progress = clock()
    delay = _FIRST_POLL
    try:
        with get_client(sync_client=True) as client:
            while pending:
                page = pending[:_PAGE]
                runs = client.read_task_runs(
                    task_run_filter=TaskRunFilter(id=TaskRunFilterId(any_=page)), limit=len(page)
                )
                done = {run.id for run in runs if _final(run)}
                if done:
                    pending = [run_id for run_id in pending if run_id not in done]
                    last_progress = clock()
                    if not pending:
                        break
                elif clock() - last_progress > stall:
                    _log.warning(
                        "Prefect's API had recorded %d of dbt's %d node task runs after %.1f s; "
                        "not waiting for the rest (they may still appear)",
                        len(task_run_ids) - len(pending),
                        len(task_run_ids),
                        clock() - started,
                    )
                    break
                sleep(delay)
                delay = min(2 * delay, _LONGEST_POLL)
    except Exception as error:  # the report is for the UI: it never fails the run
        _log.debug("Stopped waiting for dbt's node task runs to be recorded: %r", error)
    return len(pending)


def _final(run: object) -> bool:
    state_type = getattr(run, "state_type", None)
    return state_type is not None and str(getattr(state_type, "value", state_type)) in _FINAL
