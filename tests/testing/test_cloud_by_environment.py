"""Prefect Cloud by environment variables alone: `PREFECT_API_URL` and `PREFECT_API_KEY`.

The same code that runs on the local ephemeral API is pointed at another API by the two
variables Prefect Cloud needs, here aimed at a real `prefect server start`. Marked
`prefect_server` by the plugin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from uuid import UUID

from ff_prefect_kit.testing import PrefectServer, run_record

KEY = "pnu_canaryKEY0123456789abcdefghijklmnopq"

RUNS = textwrap.dedent(
    """
    import json

    from prefect.client.orchestration import get_client

    from ff_prefect_kit import analytics_task, monitored_flow


    @analytics_task
    def score(x: int) -> int:
        return x * 10


    @monitored_flow(name="runs-where-the-environment-says")
    def runs() -> int:
        return score(4)


    state = runs(return_state=True)
    with get_client(sync_client=True) as client:
        authorization = client._client.headers.get("authorization")
        api = str(client._client.base_url)
    print(json.dumps({
        "flow_run_id": str(state.state_details.flow_run_id),
        "state": state.type.value,
        "result": state.result(),
        "api": api,
        "sends_the_key": authorization == "Bearer " + __import__("os").environ["PREFECT_API_KEY"],
    }))
    """
)


def test_the_api_url_and_key_come_from_the_environment_alone(
    prefect_server: PrefectServer,
) -> None:
    """With only the two variables set, runs are recorded there and the key goes with them."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_", "FF_", "DISCORD_"))
    }
    env |= {
        "PREFECT_API_URL": prefect_server.api_url,
        "PREFECT_API_KEY": KEY,
        "PREFECT_HOME": prefect_server.environment()["PREFECT_HOME"],
        "FF_ENV_FILE": os.devnull,
    }
    done = subprocess.run(
        [sys.executable, "-c", RUNS],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["state"] == "COMPLETED"
    assert outcome["result"] == 40
    assert outcome["api"].rstrip("/") == prefect_server.api_url
    assert outcome["sends_the_key"] is True
    with prefect_server.use():
        record = run_record(UUID(outcome["flow_run_id"]), expected_tasks=1)
    assert record.state == "COMPLETED"
    assert [task.task_name for task in record.tasks] == ["score"]
    assert KEY not in done.stdout.replace(outcome["api"], "") + done.stderr
    assert not any(KEY in line for line in record.logs)
