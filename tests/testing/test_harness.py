"""The kit's Prefect harness and run_record, against the real temporary API."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.artifacts import create_markdown_artifact
from prefect.settings import PREFECT_API_URL, PREFECT_HOME

from ff_prefect_kit import analytics_task, monitored_flow
from ff_prefect_kit.testing import HarnessHandle, is_testing, set_testing


def test_set_testing_as_a_context_manager_restores_the_previous_mode() -> None:
    """set_testing(True) switches the test mode on at once; leaving the block restores it."""
    assert not is_testing()
    with set_testing(True):
        assert is_testing()
        with set_testing(False):
            assert not is_testing()
        assert is_testing()
    assert not is_testing()


def test_set_testing_takes_effect_without_a_with_block() -> None:
    """Called plainly, set_testing switches the mode until switched back."""
    set_testing(True)
    try:
        assert is_testing()
    finally:
        set_testing(False)
    assert not is_testing()


def test_the_kits_own_server_answers(prefect_test_harness: HarnessHandle) -> None:
    """The harness API is the kit's server (its app and middleware), not Prefect's stock one."""
    import httpx

    response = httpx.get(f"{prefect_test_harness.api_url}/health")
    assert response.status_code == 200
    assert response.headers["x-ff-prefect-kit-harness"] == "1"


def test_harness_points_prefect_at_a_loopback_api(prefect_test_harness: HarnessHandle) -> None:
    """Inside the harness Prefect talks to the temporary API on loopback."""
    assert PREFECT_API_URL.value() == prefect_test_harness.api_url
    assert prefect_test_harness.api_url.startswith("http://127.0.0.1:")


def test_harness_home_is_temporary(prefect_test_harness: HarnessHandle) -> None:
    """PREFECT_HOME is a temporary directory, never ~/.prefect."""
    assert Path(PREFECT_HOME.value()) == prefect_test_harness.home
    assert prefect_test_harness.home != Path.home() / ".prefect"


@analytics_task(name="load")
def _load() -> list[int]:
    return [1, 2, 3]


@analytics_task(name="double")
def _double(values: list[int]) -> list[int]:
    create_markdown_artifact("doubled", key="doubled")
    return [2 * v for v in values]


@analytics_task(name="total")
def _total(values: list[int]) -> int:
    return sum(values)


@monitored_flow(name="graph")
def _graph() -> int:
    return _total(_double(_load()))


def test_run_record_has_every_task_run_final(prefect_test_harness: HarnessHandle) -> None:
    """run_record waits until all task runs are recorded in final states."""
    record = prefect_test_harness.run_record(_graph(return_state=True))
    assert record.state == "COMPLETED"
    assert [t.task_name for t in record.tasks] == ["load", "double", "total"]
    assert {t.state for t in record.tasks} == {"COMPLETED"}


def test_run_record_gives_the_task_graph(prefect_test_harness: HarnessHandle) -> None:
    """The record's dependencies follow the data passed between tasks."""
    record = prefect_test_harness.run_record(_graph(return_state=True), expected_tasks=3)
    assert record.dependencies == {"load": set(), "double": {"load"}, "total": {"double"}}


def test_run_record_includes_logs_and_artifacts(prefect_test_harness: HarnessHandle) -> None:
    """The record carries the run's log lines and artifacts."""
    record = prefect_test_harness.run_record(_graph(return_state=True))
    assert any(m.startswith("Task 'double' finished in") for m in record.logs)
    assert [a.key for a in record.artifacts] == ["doubled"]


@monitored_flow(name="talkative")
def _talkative() -> None:
    from prefect import get_run_logger

    for line in range(450):
        get_run_logger().info("line %d", line)


def test_run_record_reads_every_log_line_past_a_page(prefect_test_harness: HarnessHandle) -> None:
    """A run with more lines than the API gives at once: the record holds each, in order."""
    logs = prefect_test_harness.run_record(_talkative(return_state=True)).logs
    lines = [m for m in logs if m.startswith("line ")]
    assert lines == [f"line {n}" for n in range(450)]


def test_task_lookup_names_the_runs_when_missing(prefect_test_harness: HarnessHandle) -> None:
    """Asking for a task that did not run lists the task runs there were."""
    record = prefect_test_harness.run_record(_graph(return_state=True))
    with pytest.raises(
        LookupError, match=r"expected one run of task 'write', found 0; task runs: load-"
    ):
        record.task("write")


def test_run_record_refuses_something_that_is_not_a_run(
    prefect_test_harness: HarnessHandle,
) -> None:
    """Passing a value that is neither a state nor an id is a TypeError saying what to pass."""
    with pytest.raises(TypeError, match=r"flow\(return_state=True\)"):
        prefect_test_harness.run_record(42)


def test_run_record_times_out_with_what_it_saw(prefect_test_harness: HarnessHandle) -> None:
    """Waiting for more task runs than exist ends in a TimeoutError describing the run."""
    state = _graph(return_state=True)
    prefect_test_harness.run_record(state, expected_tasks=3)
    ticks = iter(range(1000))
    with pytest.raises(TimeoutError, match=r"3 task run\(s\).*expected 4"):
        prefect_test_harness.run_record(
            state,
            expected_tasks=4,
            clock=lambda: float(next(ticks)),
            sleep=lambda _s: None,
            timeout=5,
        )
