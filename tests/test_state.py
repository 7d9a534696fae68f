"""The kit's per-process state: one object, one reset."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ff_prefect_kit._config import reset_state, set_testing, state
from ff_prefect_kit._secrets import known_secrets
from ff_prefect_kit.alerts import Alert, AlertThrottle, Severity


@pytest.fixture(autouse=True)
def _restore() -> object:
    yield
    reset_state()


def test_reset_state_forgets_what_the_kit_kept() -> None:
    """After `reset_state()`, caches, seen loggers, warnings and the ledger are empty."""
    known_secrets()
    throttle = AlertThrottle(timedelta(minutes=10))
    throttle.admit("flow", Alert(Severity.FAILURE, "flow failed"))
    state.warned_database_pairs.add((Path("a"), Path("b")))
    state.loggers_considered.add("someone")
    set_testing(True)

    reset_state()

    assert (state.secrets_key, state.secrets, state.ledger) == (None, (), None)
    assert not state.warned_database_pairs
    assert not state.loggers_considered
    assert state.testing is False
    assert throttle.admit("flow", Alert(Severity.FAILURE, "flow failed")) is not None


def test_reset_state_keeps_the_dbt_lock() -> None:
    """A reset never swaps the lock an in-process dbt run may be holding."""
    lock = state.dbt_lock
    reset_state()
    assert state.dbt_lock is lock
