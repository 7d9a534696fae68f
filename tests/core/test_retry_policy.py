"""RetryPolicy and BackoffSchedule: which failures retry, and how long they wait."""

from __future__ import annotations

import copy
import itertools
import pickle
import threading
from collections.abc import Callable

import duckdb
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from ff_prefect_kit import ConfigError, InvalidOptionError, KitError, SchemaValidationError
from ff_prefect_kit._internals import BackoffSchedule
from ff_prefect_kit.core import PROGRAMMING_ERRORS, RetryPolicy
from ff_prefect_kit.testing import set_testing


class _Model(BaseModel):
    x: int


def _validation_error() -> ValidationError:
    try:
        _Model(x="nope")  # type: ignore[arg-type]
    except ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


class _TransientKitError(KitError):
    transient = True


@pytest.mark.parametrize(
    "exc",
    [
        OSError("disk"),
        TimeoutError("slow"),
        httpx.ConnectError("refused"),
        duckdb.IOException("Could not set lock on file"),
        RuntimeError("anything else"),
        _TransientKitError("flaky"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_default_policy_retries_transient_errors(exc: BaseException) -> None:
    """Transient and unknown errors retry by default."""
    assert RetryPolicy().should_retry(exc)


@pytest.mark.parametrize(
    "exc",
    [_validation_error(), SchemaValidationError("bad rows"), ConfigError("missing"), KitError("x")],
    ids=lambda e: type(e).__name__,
)
def test_default_policy_never_retries_permanent_errors(exc: BaseException) -> None:
    """Validation and configuration errors fail at once."""
    assert not RetryPolicy().should_retry(exc)


def test_retry_on_restricts_retries_to_the_given_types() -> None:
    """With retry_on, only those types retry."""
    policy = RetryPolicy(retry_on=OSError)
    assert policy.should_retry(OSError("x"))
    assert not policy.should_retry(RuntimeError("x"))


def test_retry_on_never_overrides_validation_errors() -> None:
    """retry_on=Exception still does not retry a validation error."""
    assert not RetryPolicy(retry_on=Exception).should_retry(_validation_error())


def test_no_retry_on_adds_permanent_types() -> None:
    """no_retry_on stops the given types from retrying."""
    assert not RetryPolicy(no_retry_on=(KeyError,)).should_retry(KeyError("k"))


@pytest.mark.parametrize(
    "exc",
    [
        NameError("name 'weekly_points' is not defined"),
        TypeError("score() takes 1 positional argument but 2 were given"),
        AttributeError("'DataFrame' object has no attribute 'groupby'"),
        ImportError("cannot import name 'score'"),
        ModuleNotFoundError("No module named 'valuation'"),
        SyntaxError("invalid syntax"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_default_policy_never_retries_programming_errors(exc: BaseException) -> None:
    """A mistake in the code (an undefined name, a wrong call, a bad import) fails at once."""
    assert not RetryPolicy().should_retry(exc)


def test_programming_errors_are_a_constant_of_the_policy() -> None:
    """PROGRAMMING_ERRORS names the five kinds of mistake no attempt can fix."""
    expected = (NameError, TypeError, AttributeError, ImportError, SyntaxError)
    assert expected == PROGRAMMING_ERRORS


@pytest.mark.parametrize(
    ("retry_on", "exc", "retried"),
    [
        ((Exception, ImportError), ImportError("share offline"), True),
        ((Exception, ImportError), ModuleNotFoundError("share offline"), True),
        ((Exception, ModuleNotFoundError), ImportError("cannot import name"), False),
        ((Exception, ImportError), NameError("undefined"), False),
        ((Exception, ImportError), OSError("disk"), True),
        (Exception, ImportError("broad types re-enable nothing"), False),
        (AttributeError, AttributeError("lazy attribute not ready"), True),
    ],
    ids=[
        "named-import-error",
        "narrower-than-named",
        "wider-than-named",
        "other-programming-error",
        "others-still-retry",
        "exception-alone",
        "attribute-error-named",
    ],
)
def test_retry_on_naming_a_programming_error_retries_it(
    retry_on: type[BaseException] | tuple[type[BaseException], ...],
    exc: BaseException,
    retried: bool,
) -> None:
    """A programming error named in retry_on (or a narrower one) retries; a broad type does not."""
    assert RetryPolicy(retry_on=retry_on).should_retry(exc) is retried


def test_no_retry_on_wins_over_a_re_enabled_programming_error() -> None:
    """A type in both retry_on and no_retry_on never retries."""
    policy = RetryPolicy(retry_on=ImportError, no_retry_on=ImportError)
    assert not policy.should_retry(ImportError("x"))


def test_returned_failed_state_follows_prefect() -> None:
    """With no exception to inspect, the policy leaves Prefect's rule (retry) alone."""
    assert RetryPolicy().should_retry(None)


def test_policy_refuses_non_exception_types() -> None:
    """retry_on must name exception classes; anything else is refused by name."""
    with pytest.raises(InvalidOptionError, match="'OSError'"):
        RetryPolicy(retry_on=["OSError"])  # type: ignore[list-item]


@given(
    base=st.floats(min_value=0, max_value=3600),
    retries=st.integers(min_value=1, max_value=10),
    factor=st.floats(min_value=1, max_value=4),
)
def test_exponential_schedule_grows_by_factor(base: float, retries: int, factor: float) -> None:
    """Each delay is the previous one times the factor, starting at the base."""
    schedule = BackoffSchedule.exponential(base, retries, factor)
    assert len(schedule) == retries
    assert schedule[0] == base
    for before, after in itertools.pairwise(schedule):
        assert after == pytest.approx(before * factor)


def test_testing_mode_reads_every_delay_as_zero() -> None:
    """Under set_testing, every delay reads as zero; afterwards the real ones return."""
    schedule = BackoffSchedule([60.0, 120.0])
    set_testing(True)
    try:
        assert schedule[0] == 0.0
        assert schedule[1] == 0.0
        assert schedule[0:2] == [0.0, 0.0]
    finally:
        set_testing(False)
    assert schedule[1] == 120.0


def _shared(schedule: BackoffSchedule) -> BackoffSchedule:
    return schedule


@pytest.mark.parametrize(
    "handed",
    [
        _shared,
        copy.deepcopy,
        lambda schedule: pickle.loads(pickle.dumps(schedule)),
        lambda schedule: __import__("cloudpickle").loads(__import__("cloudpickle").dumps(schedule)),
    ],
    ids=["shared", "deep-copied", "pickled", "cloudpickled"],
)
def test_each_task_run_draws_its_own_jittered_delay(
    handed: Callable[[BackoffSchedule], BackoffSchedule],
) -> None:
    """Eight threads, each with the schedule as a task run gets it, wait eight different delays."""
    schedule = BackoffSchedule([60.0], jitter=0.5)
    delays: list[float] = []
    lock = threading.Lock()

    def retry() -> None:
        delay = handed(schedule)[0]
        with lock:
            delays.append(delay)

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(delays)) == 8
    assert all(30.0 <= delay <= 90.0 for delay in delays)
