"""The kit's pytest plugin, registered through the `pytest11` entry point.

Fixtures are opt-in (none is autouse) and each wraps a plain API of
`ff_prefect_kit.testing` that works without pytest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ff_prefect_kit.testing import HarnessHandle


@pytest.fixture(scope="session")
def prefect_test_harness() -> Iterator[HarnessHandle]:
    """A temporary Prefect API for the whole session, isolated from ~/.prefect.

    Started once (it takes seconds), torn down even when tests fail. Heartbeats
    and server telemetry are off, so a trivial flow runs in about 0.1 s.
    """
    from ff_prefect_kit.testing import prefect_harness

    with prefect_harness() as handle:
        yield handle


@pytest.fixture
def no_retry_delays() -> Iterator[None]:
    """Analytics tasks retry at once inside the test; the attempts still happen."""
    from ff_prefect_kit.testing import no_retry_delays as skip_delays

    with skip_delays():
        yield
