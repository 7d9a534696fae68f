"""analytics_task: house defaults, options, retries and logging, on a real Prefect API."""

from __future__ import annotations

import inspect
import logging
import re
from typing import Any

import polars as pl
import pytest
from prefect import Task, flow
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from ff_prefect_kit import InvalidOptionError, SchemaValidationError, analytics_task, monitored_flow
from ff_prefect_kit.alerts import LogSink
from ff_prefect_kit.testing import HarnessHandle

logger = logging.getLogger(__name__)


def test_bare_decorator_returns_a_prefect_task() -> None:
    """@analytics_task without parentheses makes a prefect.Task named after the function."""

    @analytics_task
    def load() -> int:
        return 1

    assert isinstance(load, Task)
    assert load.name == "load"


def test_house_defaults() -> None:
    """Three retries, delays 60/120/240 s, jitter 0.5, no input hashing."""

    @analytics_task()
    def load() -> int:
        return 1

    assert load.retries == 3
    assert list(load.retry_delay_seconds) == [60.0, 120.0, 240.0]  # type: ignore[arg-type]
    assert load.retry_delay_seconds.jitter == 0.5  # type: ignore[union-attr]
    assert load.cache_policy is NO_CACHE


def test_prefect_jitter_is_left_off_for_the_kits_own() -> None:
    """The kit jitters in its schedule; Prefect's jitter (ignored by 3.6) is not added on top."""

    @analytics_task(retry_jitter_factor=0.3)
    def load() -> int:
        return 1

    assert load.retry_jitter_factor is None
    assert load.retry_delay_seconds.jitter == 0.3  # type: ignore[union-attr]


def test_retries_wait_jittered_delays_on_every_prefect(
    prefect_test_harness: HarnessHandle,
) -> None:
    """The delays Prefect schedules between attempts vary around the configured ones."""

    @analytics_task(retries=3, retry_delay_seconds=[0.05, 0.05, 0.05], retry_jitter_factor=0.9)
    def flaky() -> None:
        raise OSError("offline")

    @monitored_flow(alerts=LogSink())
    def nightly() -> None:
        flaky()

    record = prefect_test_harness.run_record(nightly(return_state=True))
    delays = [
        float(match.group(1))
        for line in record.logs
        if (match := re.search(r"will start ([0-9.e-]+) second", line))
    ]
    assert len(delays) == 3
    assert all(0.005 - 1e-9 <= d <= 0.095 + 1e-9 for d in delays)
    assert delays != [0.05, 0.05, 0.05]


def test_retry_condition_is_a_plain_function() -> None:
    """The retry condition is a function: Prefect before 3.7 ignores callable objects."""

    @analytics_task
    def load() -> int:
        return 1

    assert inspect.isfunction(load.retry_condition_fn)


def test_options_pass_through_to_prefect() -> None:
    """Any prefect.task option reaches the task."""

    @analytics_task(name="load-dbt-mart", tags=["epic-1"], timeout_seconds=5, retries=1)
    def load() -> int:
        return 1

    assert load.name == "load-dbt-mart"
    assert load.tags == {"epic-1"}
    assert load.timeout_seconds == 5
    assert load.retries == 1


def test_explicit_delay_list_is_kept() -> None:
    """A list of delays is used as given, not grown."""

    @analytics_task(retries=2, retry_delay_seconds=[1, 5])
    def load() -> int:
        return 1

    assert list(load.retry_delay_seconds) == [1, 5]  # type: ignore[arg-type]


def test_cache_key_fn_replaces_the_no_cache_default() -> None:
    """Passing a cache_key_fn opts into caching instead of the NO_CACHE default."""

    @analytics_task(cache_key_fn=lambda _ctx, _params: "k")
    def load() -> int:
        return 1

    assert load.cache_policy is not NO_CACHE


def test_misspelled_option_names_it_and_suggests() -> None:
    """An unknown option raises TypeError naming it and the nearest known option."""
    with pytest.raises(TypeError, match="unknown option 'retires'; did you mean 'retries'"):
        analytics_task(retires=3)  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"retries": -1}, "retries"),
        ({"retry_delay_seconds": -5}, "retry_delay_seconds"),
        ({"retry_jitter_factor": -0.1}, "retry_jitter_factor"),
        ({"backoff_factor": 0.5}, "backoff_factor"),
    ],
)
def test_out_of_range_number_names_the_option(options: dict[str, Any], named: str) -> None:
    """A negative retry setting is refused, naming the option (TypeError and ValueError)."""
    with pytest.raises(InvalidOptionError, match=named) as caught:
        analytics_task(**options)
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, ValueError)


def test_decorating_a_non_callable_is_a_type_error() -> None:
    """Decorating something that is not callable raises TypeError naming it."""
    with pytest.raises(TypeError, match="can only decorate a callable, got 42"):
        analytics_task()(42)  # type: ignore[arg-type]


class _Row(BaseModel):
    points: float


@pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")
class TestRetriesOnARealAPI:
    """Retries as Prefect's engine runs them."""

    def test_validation_error_runs_once(self) -> None:
        """A task raising a Pydantic ValidationError is attempted exactly once."""
        attempts: list[int] = []

        @analytics_task
        def compute() -> _Row:
            attempts.append(1)
            return _Row(points="lots")  # type: ignore[arg-type]

        @flow
        def run() -> Any:
            return compute(return_state=True)

        assert run(return_state=True).is_failed()
        assert len(attempts) == 1

    def test_schema_validation_error_runs_once(self) -> None:
        """The kit's SchemaValidationError is never retried."""
        attempts: list[int] = []

        @analytics_task
        def compute() -> None:
            attempts.append(1)
            raise SchemaValidationError("3 rows failed")

        @flow
        def run() -> Any:
            return compute(return_state=True)

        assert run(return_state=True).is_failed()
        assert len(attempts) == 1

    def test_an_undefined_name_runs_once(self) -> None:
        """A task using a name that does not exist fails at its first attempt, not after retries."""
        attempts: list[int] = []

        @analytics_task(retries=3)
        def compute() -> int:
            attempts.append(1)
            return weekly_points  # type: ignore[name-defined]  # noqa: F821

        @flow
        def run() -> Any:
            return compute(return_state=True)

        assert run(return_state=True).is_failed()
        assert len(attempts) == 1

    def test_os_error_runs_retries_plus_one_times(self) -> None:
        """A transient OSError is attempted retries + 1 times."""
        attempts: list[int] = []

        @analytics_task(retries=2)
        def load() -> None:
            attempts.append(1)
            raise OSError("disk busy")

        @flow
        def run() -> Any:
            return load(return_state=True)

        assert run(return_state=True).is_failed()
        assert len(attempts) == 3

    def test_exception_reaches_the_caller_unchanged(self) -> None:
        """After the last retry the caller gets the task's own exception object."""
        raised = OSError("disk busy")

        @analytics_task(retries=1)
        def load() -> None:
            raise raised

        @flow
        def run() -> None:
            load()

        with pytest.raises(OSError, match="disk busy") as caught:
            run()
        assert caught.value is raised

    def test_success_after_a_transient_failure(self) -> None:
        """A task that fails once then succeeds completes with its value."""
        attempts: list[int] = []

        @analytics_task(retries=2)
        def load() -> int:
            attempts.append(1)
            if len(attempts) == 1:
                raise OSError("first try")
            return 7

        @flow
        def run() -> int:
            return load()

        assert run() == 7
        assert len(attempts) == 2


@pytest.mark.usefixtures("prefect_test_harness")
class TestLogging:
    """What an analytics task logs."""

    def test_logs_start_and_completion_with_duration(
        self, kit_records: pytest.LogCaptureFixture
    ) -> None:
        """Start and completion lines name the task and give the duration."""

        @analytics_task(name="hello")
        def hello() -> int:
            return 1

        @flow
        def run() -> int:
            return hello()

        run()
        messages = [r.getMessage() for r in kit_records.records if r.name == "ff_prefect_kit"]
        assert "Task 'hello' started" in messages
        assert any(m.startswith("Task 'hello' finished in ") and m.endswith(" s") for m in messages)

    def test_logs_dataframe_shape(self, kit_records: pytest.LogCaptureFixture) -> None:
        """A returned Polars DataFrame is described by its rows and columns."""

        @analytics_task
        def frame() -> pl.DataFrame:
            return pl.DataFrame({"a": range(1500), "b": range(1500)})

        @flow
        def run() -> pl.DataFrame:
            return frame()

        run()
        assert "returned a DataFrame of 1,500 rows x 2 columns" in kit_records.text

    def test_user_module_logger_reaches_info(self, kit_records: pytest.LogCaptureFixture) -> None:
        """INFO lines of the task module's own logger are emitted without any setup."""

        @analytics_task
        def chatty() -> int:
            logger.info("computed 42 valuations")
            return 1

        @flow
        def run() -> int:
            return chatty()

        run()
        assert logging.getLogger(__name__).getEffectiveLevel() <= logging.INFO
        assert "computed 42 valuations" in kit_records.text
