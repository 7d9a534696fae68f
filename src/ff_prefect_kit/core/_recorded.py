"""Waiting until Prefect's API has recorded task runs: after dbt's nodes, and at exit.

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

The same loss ends any script on the ephemeral API: the events of its last task runs
are sent while Python exits, and the server is terminated moments later, before it
has written them (on Prefect 3.6 one of 85 task runs went missing this way). So the
first kit task run of a process on the local API registers `wait_at_exit`, which runs
before Prefect stops that server (`atexit` runs handlers last-registered first, and
Prefect registers its stop when the server starts) and waits, the same way, until
the API has every kit task run of the process in a final state. Task runs of plain
Prefect tasks are not known to the kit and are not waited for. Nothing is waited for
when `PREFECT_API_URL` names a server: a server that keeps running loses nothing.
"""

from __future__ import annotations

import atexit
import logging
import time
from collections.abc import Callable, Sequence
from uuid import UUID

from ff_prefect_kit import _config
from ff_prefect_kit._internals import running_local_api_url

__all__ = [
    "EXIT_STALL_SECONDS",
    "STALL_SECONDS",
    "note_task_run",
    "wait_at_exit",
    "wait_until_recorded",
]

STALL_SECONDS = 15.0
"""How long the API may record nothing before the wait gives up."""

EXIT_STALL_SECONDS = 10.0
"""The same, for the wait at exit: how long a script's end may be held up at most."""

# The most task runs the exit wait remembers: the latest, in a long-lived process.
_MAX_KEPT = 10_000

# One API read covers this many task runs (the server's default page limit is 200).
_PAGE = 200
_FIRST_POLL = 0.02
_LONGEST_POLL = 0.5
_FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})

_log = logging.getLogger("ff_prefect_kit")


def wait_until_recorded(
    task_run_ids: Sequence[UUID],
    *,
    stall: float = STALL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "dbt's node task runs",
) -> int:
    """Wait until the API holds each of these task runs in a final state.

    Polls the API (every 20 ms at first, then less often, up to every 0.5 s). Never
    raises: an API error ends the wait, logged at debug level.

    Args:
        task_run_ids: The task runs sent as events.
        stall: Seconds without any new task run recorded after which to stop waiting.
        clock: The clock for `stall`.
        sleep: How to wait between reads.
        what: What the task runs are, for the warning.

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
                        "Prefect's API had recorded %d of %d %s after %.1f s; "
                        "not waiting for the rest (they may still appear)",
                        len(task_run_ids) - len(pending),
                        len(task_run_ids),
                        what,
                        clock() - started,
                    )
                    break
                sleep(delay)
                delay = min(2 * delay, _LONGEST_POLL)
    except Exception as error:  # the report is for the UI: it never fails the run
        _log.debug("Stopped waiting for %s to be recorded: %r", what, error)
    return len(pending)


def note_task_run(task_run_id: UUID) -> None:
    """Remember a kit task run of this process, if it reports to Prefect's local API.

    The first one registers `wait_at_exit` with `atexit`; later ones only add their id.
    """
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        return
    state = _config.state
    with state.lock:
        kept = state.local_task_runs
        kept[task_run_id] = None
        while len(kept) > _MAX_KEPT:
            kept.pop(next(iter(kept)))
        if state.exit_wait_registered:
            return
        state.exit_wait_registered = True
    atexit.register(wait_at_exit)


def wait_at_exit(stall: float = EXIT_STALL_SECONDS) -> int:
    """Wait until the local API has recorded this process's kit task runs (see above).

    Returns:
        How many were not recorded when the wait ended.
    """
    state = _config.state
    with state.lock:
        task_run_ids = list(state.local_task_runs)
        state.local_task_runs.clear()
    if running_local_api_url() is None:
        # No local API runs in this process (e.g. a Dask worker's): asking would start one.
        return len(task_run_ids)
    return wait_until_recorded(task_run_ids, stall=stall, what="the kit's task runs")


def _final(run: object) -> bool:
    state_type = getattr(run, "state_type", None)
    return state_type is not None and str(getattr(state_type, "value", state_type)) in _FINAL
