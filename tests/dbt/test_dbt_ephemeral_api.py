"""Every task run of `python flow.py` on a fresh Prefect home is kept: the ephemeral API.

Without `PREFECT_API_URL`, Prefect runs its API in a subprocess that it terminates when
the script exits. A dbt run reporting 80 nodes sends a burst of task-run events; the
flow's later task runs, queued behind it, were lost at exit (4 to 20 of 87 kept). This
runs the adopter's flow as they do, in a process of its own, then reads its task runs
from the database the ephemeral API kept in that Prefect home.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from tests.dbt.adopter_flow import KIT_TASKS
from tests.dbt.conftest import copy_example

from ff_prefect_kit.cli._local_settings import LOCAL_SETTINGS

pytestmark = pytest.mark.slow

FLOW = Path(__file__).with_name("adopter_flow.py")
REPO = Path(__file__).parents[2]
CHAIN = 40
SELECTOR = "dim_scoring_rule chain"
DBT_KINDS = ("model", "seed", "test")

_RUN_SUFFIX = re.compile(r"-[0-9a-f]{3}$")


def add_chain(project: Path, length: int) -> int:
    """Add `length` models, each reading the one before, each with a not_null test."""
    chain = project / "models" / "chain"
    chain.mkdir()
    schema = ["version: 2", "models:"]
    for index in range(length):
        parent = f"{{{{ ref('chain_{index - 1:02d}') }}}}" if index else None
        query = f"select * from {parent}" if parent else "select 1 as id"
        (chain / f"chain_{index:02d}.sql").write_text(query + "\n")
        schema += [
            f"  - name: chain_{index:02d}",
            "    columns:",
            "      - name: id",
            "        data_tests: [not_null]",
        ]
    (chain / "_chain.yml").write_text("\n".join(schema) + "\n")
    return 2 * length


def fresh_prefect_home(tmp_path: Path) -> dict[str, str]:
    """This environment without any Prefect setting, on an empty Prefect home.

    With the settings `ff-prefect-kit init` writes into the adopter's `.env`: the flow is
    a plain Prefect flow, whose first start on a busy machine needs more than 20 s.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    env |= dict(LOCAL_SETTINGS)
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "FF_DUCKDB_PATH": str(tmp_path / "ff.duckdb"),
        "FF_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    }
    return env


def test_a_flow_reporting_many_nodes_keeps_every_task_run_on_the_ephemeral_api(
    tmp_path: Path,
) -> None:
    """After `python flow.py` exits, the API's database holds every node's and kit task's run."""
    project = copy_example(tmp_path / "dbt_project")
    nodes = 4 + add_chain(project, CHAIN)  # the seed and its 3 tests, then the chain
    env = fresh_prefect_home(tmp_path)
    ran = subprocess.run(
        [sys.executable, str(FLOW), str(project), SELECTOR],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    found = re.search(r"flow run (\S+) COMPLETED", ran.stdout)
    assert found, ran.stdout[-3000:]
    database = tmp_path / "prefect-home" / "prefect.db"
    with closing(sqlite3.connect(database)) as kept:
        recorded = kept.execute(
            "SELECT state_type, name FROM task_run WHERE flow_run_id = ?", (found.group(1),)
        ).fetchall()
    node_states = [state for state, name in recorded if name.split(" ")[0] in DBT_KINDS]
    kit_tasks = [_RUN_SUFFIX.sub("", name) for _, name in recorded if " " not in name]
    assert (len(node_states), sorted(kit_tasks)) == (nodes, sorted(KIT_TASKS))
    assert set(node_states) == {"COMPLETED"}
