"""Fixtures of the tests against a real `prefect server start`."""

from __future__ import annotations

import pytest
from _example_on_server import ExampleRun, run_the_example

from ff_prefect_kit.testing import PrefectServer


@pytest.fixture(scope="session")
def example_run(
    prefect_server: PrefectServer, tmp_path_factory: pytest.TempPathFactory
) -> ExampleRun:
    """The example dbt project built, then the example flow run once against the server."""
    return run_the_example(prefect_server, tmp_path_factory.mktemp("example"))
