"""Reporting dbt's nodes never costs the flow's other task runs their records.

The nodes reach the API as a burst of events; `report_nodes` waits until the API has
recorded them, so the flow's later task runs never queue behind the burst (where the
ephemeral API lost them at exit: `test_dbt_ephemeral_api.py`).
"""

from __future__ import annotations

from uuid import uuid4

import pytest
from tests.conftest import FakeTime
from tests.dbt.adopter_flow import KIT_TASKS, adopter_flow
from tests.dbt.conftest import SIZE, Project

from ff_prefect_kit.core._recorded import wait_until_recorded
from ff_prefect_kit.testing import HarnessHandle


def test_every_task_run_of_a_flow_is_recorded_after_dbt_reports_its_nodes(
    seeded_project: Project,
    prefect_test_harness: HarnessHandle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """run-dbt-models, each node and each of the five kit tasks after it are in the API."""
    monkeypatch.setenv("FF_DATA_DIR", str(seeded_project.data_dir))
    state = adopter_flow(
        seeded_project.directory,
        "dim_scoring_rule",
        seeded_project.env,
        vars=SIZE,
        return_state=True,
    )
    nodes = state.result()
    record = prefect_test_harness.run_record(state, expected_tasks=nodes + len(KIT_TASKS))
    kit = sorted(t.task_name for t in record.tasks if " " not in t.name)
    assert (len(record.tasks), kit) == (nodes + len(KIT_TASKS), sorted(KIT_TASKS))
    assert {t.state for t in record.tasks} == {"COMPLETED"}


def test_waiting_for_task_runs_the_api_never_records_gives_up_with_a_warning(
    prefect_test_harness: HarnessHandle, caplog: pytest.LogCaptureFixture
) -> None:
    """With nothing recorded for `stall` seconds the wait ends, says so, and counts the rest."""
    fake = FakeTime()
    missing = [uuid4(), uuid4()]
    with caplog.at_level("WARNING", logger="ff_prefect_kit"):
        left = wait_until_recorded(missing, stall=3.0, clock=fake.clock, sleep=fake.sleep)
    assert left == 2
    assert "had recorded 0 of 2 dbt's node task runs" in caplog.text
    assert max(fake.sleeps) == 0.5


def test_waiting_for_no_task_run_asks_nothing() -> None:
    """No node reported: nothing to wait for, and no API is needed."""
    assert wait_until_recorded([]) == 0
