"""Against a real `prefect server start`: what the UI shows of the example analytics flow.

The flow runs in a subprocess pointed at the server, as a user runs it; the test reads
the run back through Prefect's client. Marked `prefect_server` by the plugin, so
`-m "not prefect_server"` skips these in a quick local run.
"""

from __future__ import annotations

import textwrap
import time
import uuid

import httpx
import pytest
from _example_on_server import TASKS, ExampleRun, run_on_server

from ff_prefect_kit.testing import HarnessHandle, PrefectServer

FAILS_AND_ALERTS = textwrap.dedent(
    """
    import json
    from prefect.client.orchestration import get_client
    from prefect.utilities.urls import url_for
    from ff_prefect_kit import monitored_flow
    from ff_prefect_kit.testing import mock_discord_webhook

    @monitored_flow(name="fails-on-a-real-server")
    def fails() -> None:
        raise RuntimeError("the provider sent nothing")

    with mock_discord_webhook() as discord:
        state = fails(return_state=True)
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(state.state_details.flow_run_id)
    [message] = discord.messages
    print(json.dumps({"url_for": url_for(flow_run), "alert_url": message.embed.get("url")}))
    """
)


def test_the_server_answers_on_loopback(prefect_server: PrefectServer) -> None:
    """The fixture's server is Prefect's own, healthy, on 127.0.0.1."""
    assert prefect_server.api_url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{prefect_server.api_url}/health", timeout=10).json() is True


def test_the_flow_and_every_task_go_through_running_to_completed(example_run: ExampleRun) -> None:
    """The UI's state history: the flow run and each task run, Running then Completed."""
    from prefect.client.orchestration import get_client

    record = example_run.record()
    with example_run.server.use(), get_client(sync_client=True) as client:
        histories = {
            "flow": [s.type.value for s in client.read_flow_run_states(example_run.flow_run_id)]
        }
        for task in record.tasks:
            if task.task_name not in TASKS:
                continue  # the dbt nodes, each a task run of its own (test_prefect_server_assets)
            states = client.read_task_run_states(task.id)
            histories[task.task_name] = [s.type.value for s in states]
    assert sorted(histories) == sorted(("flow", *TASKS))
    for name, history in histories.items():
        assert history[-1] == "COMPLETED", name
        assert history.index("RUNNING") < history.index("COMPLETED"), name


def test_the_task_graph_is_load_value_validate_write_dbt(example_run: ExampleRun) -> None:
    """The task runs' inputs draw the chain the UI shows: load, value, validate, write, dbt."""
    kit_tasks = {k: v for k, v in example_run.record().dependencies.items() if k in TASKS}
    assert kit_tasks == {
        "load-dbt-mart": set(),
        "value-players": {"load-dbt-mart"},
        "validate-frame": {"value-players"},
        "write-parquet": {"validate-frame"},
        "run-dbt-models": {"write-parquet"},
    }


def test_artifacts_hang_on_the_task_runs_that_made_them(example_run: ExampleRun) -> None:
    """The Parquet profile hangs on the write task run, the dbt results on the dbt one."""
    record = example_run.record()
    names = {task.id: task.task_name for task in record.tasks}
    owners = {names.get(artifact.task_run_id) for artifact in record.artifacts}
    assert {"write-parquet", "run-dbt-models"} <= owners
    assert None not in owners


def test_module_logger_lines_reach_the_run_logs(example_run: ExampleRun) -> None:
    """The example module's own `logging.getLogger(__name__)` lines are in the run's logs."""
    logs = example_run.record().logs
    assert any(line.startswith("valued ") and "player-seasons" in line for line in logs)


def test_the_alert_links_to_the_run_in_the_ui(prefect_server: PrefectServer) -> None:
    """A failing flow's alert carries `url_for(flow_run)`: the run's page in the UI."""
    outcome = run_on_server(prefect_server, FAILS_AND_ALERTS)
    base = prefect_server.api_url.removesuffix("/api")
    assert outcome["url_for"].startswith(f"{base}/runs/flow-run/")
    assert outcome["alert_url"] == outcome["url_for"]


def _event_names(api_url: str, resource: str) -> set[str]:
    body = {"filter": {"resource": {"id": [resource]}}, "limit": 10}
    deadline = time.monotonic() + 30
    while True:  # the server stores events a moment after they arrive
        answer = httpx.post(f"{api_url}/events/filter", json=body, timeout=10)
        answer.raise_for_status()
        names = {event["event"] for event in answer.json()["events"]}
        if names or time.monotonic() > deadline:
            return names
        time.sleep(0.2)


def test_events_inside_use_reach_that_server(
    prefect_server: PrefectServer, prefect_test_harness: HarnessHandle
) -> None:
    """An event inside `server.use()` reaches that server, though the client started elsewhere."""
    from prefect.events import emit_event

    resource = {"prefect.resource.id": f"ff-test.switch.{uuid.uuid4()}"}
    emit_event("ff-test.before", resource=resource)  # the client's worker starts on the harness
    with prefect_server.use():
        emit_event("ff-test.inside", resource=resource)
    assert _event_names(prefect_server.api_url, resource["prefect.resource.id"]) == {
        "ff-test.inside"
    }


def test_a_run_after_use_is_recorded_whole_on_the_harness(
    prefect_server: PrefectServer, prefect_test_harness: HarnessHandle
) -> None:
    """The client's events go back to the harness after `server.use()`: every task run recorded."""
    from prefect import flow, task
    from prefect.events import emit_event
    from prefect.events.worker import EventsWorker

    @task
    def one() -> int:
        return 1

    @flow
    def after_the_switch() -> None:
        one()

    EventsWorker.drain_all()  # no worker yet: the next one starts inside the block
    with prefect_server.use():
        emit_event("ff-test.inside", resource={"prefect.resource.id": "ff-test.switch"})
    record = prefect_test_harness.run_record(after_the_switch(return_state=True))
    assert [task.state for task in record.tasks] == ["COMPLETED"]


def test_use_switches_the_client_inside_a_running_event_loop(
    prefect_server: PrefectServer, prefect_test_harness: HarnessHandle
) -> None:
    """`server.use()` in async code: an event inside still reaches that server."""
    import asyncio

    from prefect.events import emit_event

    resource = {"prefect.resource.id": f"ff-test.async.{uuid.uuid4()}"}

    async def inside() -> None:
        with prefect_server.use():
            emit_event("ff-test.inside", resource=resource)

    emit_event("ff-test.before", resource=resource)  # the client's worker starts on the harness
    asyncio.run(inside())
    assert _event_names(prefect_server.api_url, resource["prefect.resource.id"]) == {
        "ff-test.inside"
    }


def test_use_starts_no_api_of_its_own_when_none_is_set(
    prefect_server: PrefectServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entering and leaving `use()` with no API URL set starts no ephemeral Prefect API."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    started: list[object] = []
    monkeypatch.setattr(SubprocessASGIServer, "start", lambda self, *a, **k: started.append(self))
    with temporary_settings(restore_defaults={PREFECT_API_URL}), prefect_server.use():
        pass
    assert started == []
