"""A secret in the data dbt fails on never reaches Prefect: artifact, states, logs.

A database error quotes the value it failed on (`Could not convert string 'pnu_...'
to INT32`); when that value is a known secret (here the Prefect API key), every text
the dbt runner hands to Prefect has it redacted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.dbt.conftest import SIZE, Project

from ff_prefect_kit import run_dbt_models
from ff_prefect_kit.testing import HarnessHandle, RunRecord

SECRET = "pnu_0123456789abcdefghijklmnopqrstuvwxyz"
SEED_PROPERTIES = """
version: 2
seeds:
  - name: leaky_ids
    config:
      column_types:
        player_id: integer
"""


@pytest.fixture
def leaky_seed(seeded_project: Project) -> Iterator[Project]:
    """A seed whose integer column holds the secret, in the module's project for the test."""
    seeds = seeded_project.directory / "seeds"
    files = [seeds / "leaky_ids.csv", seeds / "_leaky_ids.yml"]
    files[0].write_text(f"player_id\n12\n{SECRET}\n")
    files[1].write_text(SEED_PROPERTIES)
    try:
        yield seeded_project
    finally:
        for path in files:
            path.unlink()


def texts_sent_to_prefect(record: RunRecord) -> dict[str, str]:
    """Every text of the run the API holds, by where it is."""
    return {
        "flow state": record.flow_run.state.message if record.flow_run.state else "",
        "task states": "\n".join(t.message for t in record.tasks),
        "logs": "\n".join(record.logs),
        "artifacts": "\n".join(
            f"{a.description} {json.dumps(a.data, default=str)}" for a in record.artifacts
        ),
    }


@pytest.mark.parametrize("command", [None, ["dbt", "build"]], ids=["in-process", "subprocess"])
def test_a_secret_in_failing_data_is_redacted_everywhere(
    leaky_seed: Project,
    prefect_test_harness: HarnessHandle,
    monkeypatch: pytest.MonkeyPatch,
    command: list[str] | None,
) -> None:
    """The secret is in no artifact, node state message, flow state message or log line."""
    from prefect import flow

    monkeypatch.setenv("PREFECT_API_KEY", SECRET)

    @flow
    def build(directory: Path) -> None:
        run_dbt_models(
            "leaky_ids", project_dir=directory, vars=SIZE, env=leaky_seed.env, command=command
        )

    record = prefect_test_harness.run_record(build(leaky_seed.directory, return_state=True))
    assert record.task("seed leaky_ids").state == "FAILED"
    sent = texts_sent_to_prefect(record)
    assert "Could not convert string" in sent["task states"]  # the error is there, redacted
    assert {where: SECRET in text for where, text in sent.items()} == dict.fromkeys(sent, False)
