"""Per-flow overhead on a real `prefect server start` against the kit's test harness.

Both servers run at once, started from the kept migrated database; the same monitored
flow of four tasks runs in this process against each in turns (A, B, A, B, ...), after
one warm-up each, so both see the same caches and machine load. A run counts until the
API has recorded the flow run and its four task runs in a final state, as a test or the
UI would read them. Prints each median with its spread and the ratio server / harness.

    uv run python bench/bench_server.py [repeats]
"""

from __future__ import annotations

import sys
from typing import Any

from _common import FOUR_TASK_FLOW, alternate, print_results


def main() -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from ff_prefect_kit import analytics_task, monitored_flow
    from ff_prefect_kit.testing import (
        PrefectServer,
        default_database_cache,
        prefect_harness,
        run_record,
    )
    from ff_prefect_kit.testing._database import database_template

    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    namespace: dict[str, Any] = {"analytics_task": analytics_task, "monitored_flow": monitored_flow}
    exec(FOUR_TASK_FLOW, namespace)
    flow = namespace["four_tasks"]
    cache = default_database_cache()
    template = database_template(cache) if cache else None
    if template is not None and not template.exists():
        template = None

    with prefect_harness(database_cache=cache) as harness, PrefectServer(template) as server:

        def run_on(url: str) -> None:
            with temporary_settings(updates={PREFECT_API_URL: url}):
                state = flow(return_state=True)
                run_record(state, expected_tasks=4, timeout=60)

        times = alternate(
            {
                "harness": lambda: run_on(harness.api_url),
                "prefect server start": lambda: run_on(server.api_url),
            },
            repeats=repeats,
        )
    print_results(
        "one monitored flow of four tasks, recorded",
        times,
        {},
        [("prefect server start", "harness", "the real server's cost per flow, for reference")],
    )


if __name__ == "__main__":
    main()
