"""Monitored flows with analytics tasks on a Dask cluster of worker processes (prefect-dask).

Each task runs in another process: the tests count attempts and outcomes in files, not
in memory, and give tasks a zero retry delay themselves (`set_testing` is per process).
Prefect pickles the flow, its alert throttle included, into every task run sent to a
worker.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import BaseModel

from ff_prefect_kit import UnresolvedTaskFailureError, analytics_task, monitored_flow
from ff_prefect_kit.testing import DiscordWebhookMock

prefect_dask = pytest.importorskip(
    "prefect_dask", reason="prefect-dask is not installed: pip install 'ff-prefect-kit[dask]'"
)

pytestmark = pytest.mark.usefixtures("prefect_test_harness")


ALLOWED_FAILURES = 1
"""How many dead workers a task may outlive (Dask's default is 3): fewer kills to test."""


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """One LocalCluster of two single-threaded worker processes for the module."""
    import dask
    from distributed import LocalCluster

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}),
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
    ):
        yield cluster.scheduler_address


@pytest.fixture
def dask_runner(scheduler: str) -> Any:
    """A DaskTaskRunner on the module's cluster: its address survives `duplicate()`."""
    return prefect_dask.DaskTaskRunner(address=scheduler)


def _attempts(folder: Path, name: str) -> list[str]:
    path = folder / f"{name}.attempts"
    return path.read_text().split() if path.exists() else []


def _note(folder: Path, name: str, what: str) -> None:
    with (folder / f"{name}.attempts").open("a") as file:
        file.write(f"{what}\n")


def _task_runs(flow_run_id: UUID, expected: int, timeout: float = 30) -> list[Any]:
    """The flow run's task runs once `expected` of them are final in the API.

    Workers report task states through events, which the API records a little later.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            final = [r for r in runs if r.state is not None and r.state.is_final()]
            if len(final) >= expected or time.monotonic() > deadline:
                return runs
            time.sleep(0.2)


class _Row(BaseModel):
    points: float


def test_mapped_tasks_run_in_worker_processes(dask_runner: Any) -> None:
    """Mapped analytics tasks run in Dask worker processes and return their results."""

    @analytics_task
    def score(group: int) -> tuple[int, int]:
        return group * 10, os.getpid()

    @monitored_flow(name="dask-map", task_runner=dask_runner)
    def nightly() -> list[tuple[int, int]]:
        return [f.result() for f in score.map(range(6))]

    results = nightly()
    assert [value for value, _pid in results] == [0, 10, 20, 30, 40, 50]
    assert os.getpid() not in {pid for _value, pid in results}


def test_get_dask_client_reaches_the_flows_cluster(dask_runner: Any, scheduler: str) -> None:
    """prefect-dask's `get_dask_client()` in a monitored flow gives a client of its cluster."""

    @analytics_task
    def warm_up() -> None:
        """prefect-dask connects its client when the flow submits its first task."""

    @monitored_flow(name="dask-client", task_runner=dask_runner)
    def nightly() -> tuple[str, int]:
        warm_up.submit().result()
        with prefect_dask.get_dask_client() as client:
            return client.scheduler.address, client.submit(sum, [40, 2]).result()

    assert nightly() == (scheduler, 42)


def test_flow_with_the_default_alert_window_pickles() -> None:
    """A monitored flow with its default alert throttle pickles, as Dask task runs need."""
    import cloudpickle

    @monitored_flow
    def nightly() -> None:
        return None

    assert cloudpickle.loads(cloudpickle.dumps(nightly)).name == "nightly"


def test_task_options_survive_pickling() -> None:
    """An analytics task pickled for a worker keeps its retries, schedule and retry rule."""
    import cloudpickle
    from pydantic import ValidationError

    @analytics_task(name="score", retries=4, retry_delay_seconds=[1, 2], no_retry_on=KeyError)
    def score(group: int) -> int:
        return group

    copy = cloudpickle.loads(cloudpickle.dumps(score))
    assert (copy.name, copy.retries) == ("score", 4)
    assert list(copy.retry_delay_seconds) == list(score.retry_delay_seconds)
    with pytest.raises(ValidationError) as invalid:
        _Row(points="many")  # type: ignore[arg-type]
    errors = (OSError(), KeyError(), invalid.value)
    verdicts = [copy.retry_condition_fn(copy, None, _FailedWith(e)) for e in errors]
    assert verdicts == [True, False, False]
    assert copy.fn(7) == 7


class _FailedWith:
    """The little of a Failed state that a retry condition reads."""

    def __init__(self, exc: BaseException) -> None:
        self.data = exc


@pytest.mark.parametrize(
    ("error", "attempts", "completes"),
    [(OSError("database busy"), 3, True), (_Row, 1, False)],
    ids=["transient-retried", "validation-not-retried"],
)
def test_retry_rule_holds_on_workers(
    dask_runner: Any, tmp_path: Path, error: Any, attempts: int, completes: bool
) -> None:
    """A transient error is retried on the workers; a validation error is tried once."""

    @analytics_task(retries=3, retry_delay_seconds=0)
    def flaky() -> str:
        _note(tmp_path, "flaky", str(os.getpid()))
        if len(_attempts(tmp_path, "flaky")) < 3:
            if error is _Row:
                _Row(points="many")  # type: ignore[arg-type]
            raise error
        return "ok"

    @monitored_flow(name=f"dask-retry-{attempts}", task_runner=dask_runner)
    def nightly() -> str:
        return flaky.submit().result()

    state = nightly(return_state=True)
    assert state.is_completed() is completes
    assert len(_attempts(tmp_path, "flaky")) == attempts


def test_task_hooks_fire_on_the_worker(dask_runner: Any, tmp_path: Path) -> None:
    """A task's on_completion and on_failure hooks run, in the worker process."""

    def completed(task: Any, task_run: Any, state: Any) -> None:
        _note(tmp_path, "hooks", f"completed-{os.getpid()}")

    def failed(task: Any, task_run: Any, state: Any) -> None:
        _note(tmp_path, "hooks", f"failed-{os.getpid()}")

    @analytics_task(retries=0, on_completion=[completed], on_failure=[failed])
    def divide(x: int) -> float:
        return 1 / x

    @monitored_flow(name="dask-hooks", task_runner=dask_runner)
    def nightly() -> None:
        divide.map([1, 0]).wait()

    nightly(return_state=True)
    notes = sorted(_attempts(tmp_path, "hooks"))
    assert [n.split("-")[0] for n in notes] == ["completed", "failed"]
    assert str(os.getpid()) not in {n.split("-")[1] for n in notes}


def test_one_failing_task_sends_one_alert(
    dask_runner: Any, discord_webhook_mock: DiscordWebhookMock
) -> None:
    """A task failing on a worker after its retries fails the flow with exactly one alert."""

    @analytics_task(retries=1, retry_delay_seconds=0)
    def load() -> None:
        raise OSError("database busy")

    @monitored_flow(name="dask-one-alert", task_runner=dask_runner)
    def nightly() -> None:
        load.submit().result()

    assert nightly(return_state=True).is_failed()
    [message] = discord_webhook_mock.messages
    assert message.content.endswith("dask-one-alert failed")
    assert "OSError: database busy" in message.text


@pytest.mark.parametrize("given", ["decorator", "with_options"])
def test_unresolved_failed_future_fails_the_flow(dask_runner: Any, given: str) -> None:
    """A submitted task failing unobserved on Dask fails the flow, however the runner is given."""

    @analytics_task(name="write-parquet", retries=0)
    def write() -> None:
        raise OSError("disk full")

    if given == "decorator":

        @monitored_flow(name="dask-unresolved", task_runner=dask_runner)
        def nightly() -> str:
            write.submit()
            return "done"

    else:

        @monitored_flow(name="dask-unresolved")
        def threaded() -> str:
            write.submit()
            return "done"

        nightly = threaded.with_options(task_runner=dask_runner)

    state = nightly(return_state=True)
    assert state.is_failed()
    with pytest.raises(UnresolvedTaskFailureError, match=r"'write-parquet' \(OSError: disk full\)"):
        state.result()


def _retry_delays(state: Any, expected: int) -> list[str]:
    """The delay each task run of the flow run was given before its retry, as logged.

    Prefect's task engine logs the delay it drew, on the worker, and ships the line to
    the API with the run's logs.
    """
    import re

    from ff_prefect_kit.testing import run_record

    _task_runs(state.state_details.flow_run_id, expected)
    pattern = re.compile(r"will start ([0-9.e-]+) second")
    deadline = time.monotonic() + 30
    while True:
        record = run_record(state, expected_tasks=expected)
        delays = [m.group(1) for line in record.logs if (m := pattern.search(line))]
        if len(delays) >= expected or time.monotonic() > deadline:
            return delays
        time.sleep(0.2)


def test_mapped_tasks_on_the_workers_wait_different_retry_delays(
    dask_runner: Any, tmp_path: Path
) -> None:
    """Six mapped tasks failing once on the workers: each waits its own jittered delay."""

    @analytics_task(retries=1, retry_delay_seconds=[0.2], retry_jitter_factor=0.9)
    def score(group: int) -> int:
        if not _attempts(tmp_path, f"group-{group}"):
            _note(tmp_path, f"group-{group}", "failed")
            raise OSError("the first try fails")
        return group

    @monitored_flow(name="dask-jitter", task_runner=dask_runner)
    def nightly() -> list[int]:
        return [f.result() for f in score.map(range(6))]

    state = nightly(return_state=True)
    assert state.result() == list(range(6))
    delays = _retry_delays(state, expected=6)
    assert len(delays) == 6
    assert len(set(delays)) == 6, delays


def _killing_task(folder: Path, kills: int) -> Any:
    """A mapped task whose run for group 1 kills its worker process on its first `kills` tries."""

    @analytics_task(retries=1, retry_delay_seconds=0, task_run_name="group-{group}")
    def score(group: int) -> int:
        if group == 1 and len(_attempts(folder, "kills")) < kills:
            _note(folder, "kills", str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies mid-task
        (folder / f"group-{group}.done").touch()
        return group * 10

    return score


def _completed_runs(flow_run_id: UUID | None, expected: int) -> set[str]:
    assert flow_run_id is not None
    runs = _task_runs(flow_run_id, expected)
    return {r.name for r in runs if r.state is not None and r.state.is_completed()}


def test_task_on_a_killed_worker_runs_again(
    dask_runner: Any, tmp_path: Path, discord_webhook_mock: DiscordWebhookMock
) -> None:
    """A worker killed mid-task: Dask runs the task again elsewhere and the flow completes."""
    score = _killing_task(tmp_path, kills=1)

    @monitored_flow(name="dask-killed-once", task_runner=dask_runner)
    def nightly() -> list[int]:
        return [f.result() for f in score.map(range(3))]

    state = nightly(return_state=True)
    assert state.result() == [0, 10, 20]
    assert len(_attempts(tmp_path, "kills")) == 1
    assert discord_webhook_mock.messages == []
    completed = _completed_runs(state.state_details.flow_run_id, expected=3)
    assert completed == {"group-0", "group-1", "group-2"}


def test_task_killing_every_worker_fails_the_flow_with_one_alert(
    dask_runner: Any, tmp_path: Path, discord_webhook_mock: DiscordWebhookMock
) -> None:
    """A task whose worker dies more often than Dask allows fails the flow, with one alert.

    Its task run is never reported Completed: every Completed run's done file exists.
    """
    score = _killing_task(tmp_path, kills=ALLOWED_FAILURES + 1)

    @monitored_flow(name="dask-killed-always", task_runner=dask_runner)
    def nightly() -> list[int]:
        return [f.result() for f in score.map(range(3))]

    state = nightly(return_state=True)
    assert state.is_failed()
    [message] = discord_webhook_mock.messages
    assert "KilledWorker" in message.text
    completed = _completed_runs(state.state_details.flow_run_id, expected=2)
    assert "group-1" not in completed
    assert completed <= {p.stem for p in tmp_path.glob("*.done")}
