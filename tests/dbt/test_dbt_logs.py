"""dbt's own log lines are in the run's logs in the UI, not only on the console.

dbt runs its nodes in worker threads of its own; the lines it logs there (one per
node) must reach the Prefect run's logs like those of the thread that called it.
"""

from __future__ import annotations

import pytest
from tests.dbt.conftest import SIZE, Project

from ff_prefect_kit import run_dbt_models
from ff_prefect_kit.testing import HarnessHandle


@pytest.mark.parametrize("command", [None, ["dbt", "build"]], ids=["in-process", "subprocess"])
def test_dbts_per_node_lines_are_in_the_run_logs(
    seeded_project: Project, prefect_test_harness: HarnessHandle, command: list[str] | None
) -> None:
    """Each node's line ("1 of 4 OK loaded seed file ...") and dbt's summary are run logs."""
    from prefect import flow

    @flow
    def build() -> None:
        run_dbt_models(
            "dim_scoring_rule",
            project_dir=seeded_project.directory,
            vars=SIZE,
            env=seeded_project.env,
            command=command,
        )

    logs = prefect_test_harness.run_record(build(return_state=True)).logs
    assert any("1 of 4 OK loaded seed file main.dim_scoring_rule" in line for line in logs)
    assert any("4 of 4 PASS unique_dim_scoring_rule" in line for line in logs)
    assert any("Done. PASS=4" in line for line in logs)
