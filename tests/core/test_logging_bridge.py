"""bridge_logger: stdlib module loggers reach the run's logs in the Prefect API."""

from __future__ import annotations

import importlib
import logging
import uuid
from pathlib import Path

import pytest
from prefect import flow

from ff_prefect_kit import analytics_task, monitored_flow
from ff_prefect_kit._logging import RunLogBridge, _is_user_module
from ff_prefect_kit.core import bridge_logger
from ff_prefect_kit.testing import HarnessHandle

logger = logging.getLogger(__name__)


def test_bridge_is_idempotent() -> None:
    """Bridging a logger twice attaches one bridge."""
    name = f"tests.bridge.{uuid.uuid4().hex}"
    bridge_logger(name)
    bridge_logger(name)
    bridges = [h for h in logging.getLogger(name).handlers if isinstance(h, RunLogBridge)]
    assert len(bridges) == 1


def test_bridge_sets_info_only_when_level_unset() -> None:
    """A logger with no level gets INFO; an explicit level is respected."""
    fresh = f"tests.bridge.{uuid.uuid4().hex}"
    quiet = logging.getLogger(f"tests.bridge.{uuid.uuid4().hex}")
    quiet.setLevel(logging.ERROR)
    assert bridge_logger(fresh).level == logging.INFO
    assert bridge_logger(quiet.name).level == logging.ERROR


def test_prefect_loggers_are_left_alone() -> None:
    """Prefect's own loggers already reach the API and are not bridged again."""
    bridge_logger("prefect.flow_runs")
    handlers = logging.getLogger("prefect.flow_runs").handlers
    assert not any(isinstance(h, RunLogBridge) for h in handlers)


def test_task_module_info_line_reaches_the_run_logs(prefect_test_harness: HarnessHandle) -> None:
    """An INFO line from the task module's logger is stored with the flow run in the API."""
    marker = f"valued {uuid.uuid4().hex}"

    @analytics_task
    def value_players() -> int:
        logger.info(marker)
        return 1

    @monitored_flow
    def nightly() -> int:
        return value_players()

    messages = prefect_test_harness.run_record(nightly(return_state=True)).logs
    assert messages.count(marker) == 1
    assert any(m.startswith("Task 'value_players' finished in") for m in messages)


def test_nested_bridged_loggers_ship_a_record_once(prefect_test_harness: HarnessHandle) -> None:
    """A record passing two bridged loggers (parent and child) is stored once."""
    parent = f"tests.nested{uuid.uuid4().hex}"
    child = logging.getLogger(f"{parent}.child")
    bridge_logger(parent)
    bridge_logger(child.name)
    marker = f"once {uuid.uuid4().hex}"

    @flow
    def nightly() -> None:
        child.info(marker)
        logging.getLogger("ff_prefect_kit").info("Task 'x' finished")

    bridge_logger("ff_prefect_kit")
    assert prefect_test_harness.run_record(nightly(return_state=True)).logs.count(marker) == 1


HELPER = """
import logging

logger = logging.getLogger(__name__)


def value(marker):
    logger.info(marker)
    return 1
"""


def test_an_undecorated_helper_modules_info_line_reaches_the_run_logs(
    prefect_test_harness: HarnessHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A helper module with no decorator, logging at INFO, is heard in the run's logs."""
    name = f"valuation_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(HELPER)
    monkeypatch.syspath_prepend(str(tmp_path))
    helper = importlib.import_module(name)
    marker = f"helper {uuid.uuid4().hex}"

    @analytics_task
    def value_players() -> int:
        return int(helper.value(marker))

    @monitored_flow
    def nightly() -> int:
        return value_players()

    assert prefect_test_harness.run_record(nightly(return_state=True)).logs.count(marker) == 1


def test_third_party_loggers_stay_out_of_the_run_logs(prefect_test_harness: HarnessHandle) -> None:
    """A line an installed library logs during a run is not shipped to the run's logs."""
    marker = f"chatter {uuid.uuid4().hex}"

    @monitored_flow
    def nightly() -> None:
        logging.getLogger("polars").warning(marker)

    assert marker not in prefect_test_harness.run_record(nightly(return_state=True)).logs


@pytest.mark.parametrize(
    ("name", "user"),
    [(__name__, True), ("json", False), ("polars", False), ("prefect.flows", False)],
)
def test_user_modules_are_told_from_libraries(name: str, user: bool) -> None:
    """The user's own modules are bridged; the standard library and installed ones are not."""
    assert _is_user_module(name) is user
