"""monitored_flow: alerts, unresolved failures and options, on a real Prefect API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prefect import Flow, task
from prefect.utilities.annotations import allow_failure
from pydantic import BaseModel
from tests.conftest import RecordingSink

from ff_prefect_kit import (
    InvalidOptionError,
    Severity,
    UnresolvedTaskFailureError,
    analytics_task,
    monitored_flow,
)
from ff_prefect_kit.alerts import Alert


def test_bare_decorator_returns_a_prefect_flow() -> None:
    """@monitored_flow without parentheses makes a prefect.Flow named after the function."""

    @monitored_flow
    def nightly() -> None:
        return None

    assert isinstance(nightly, Flow)
    assert nightly.name == "nightly"


def test_log_prints_on_by_default() -> None:
    """print() in a monitored flow goes to the run's logs unless turned off."""

    @monitored_flow
    def nightly() -> None:
        return None

    @monitored_flow(log_prints=False)
    def quiet() -> None:
        return None

    assert nightly.log_prints is True
    assert quiet.log_prints is False


def test_flow_options_pass_through() -> None:
    """Any prefect.flow option reaches the flow."""

    @monitored_flow(name="valuation", retries=2, timeout_seconds=30, version="7")
    def nightly() -> None:
        return None

    assert nightly.name == "valuation"
    assert nightly.retries == 2
    assert nightly.timeout_seconds == 30
    assert nightly.version == "7"


def test_user_hooks_run_after_the_kit_hook() -> None:
    """Hooks the user passes are kept, after the kit's alert hook."""

    def mine(*_args: Any) -> None:
        return None

    @monitored_flow(on_failure=[mine], on_crashed=[mine])
    def nightly() -> None:
        return None

    assert nightly.on_failure_hooks[-1] is mine
    assert nightly.on_crashed_hooks[-1] is mine
    assert len(nightly.on_failure_hooks) == 2


def test_misspelled_option_names_it() -> None:
    """An unknown flow option raises TypeError naming it."""
    with pytest.raises(TypeError, match="unknown option 'log_print'; did you mean 'log_prints'"):
        monitored_flow(log_print=True)  # type: ignore[call-overload]


def test_alerts_must_be_a_sink() -> None:
    """An alerts target that cannot send is refused when the flow is defined."""
    with pytest.raises(InvalidOptionError, match="alerts must be a block name"):
        monitored_flow(alerts=42)  # type: ignore[call-overload]


def test_decorating_a_non_callable_is_a_type_error() -> None:
    """Decorating something that is not callable raises TypeError naming it."""
    with pytest.raises(TypeError, match="can only decorate a callable, got 'x'"):
        monitored_flow()("x")  # type: ignore[arg-type]


class _Row(BaseModel):
    points: float


class _BrokenSink:
    def send(self, alert: Alert) -> None:
        raise RuntimeError("webhook exploded")


@pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")
class TestOnARealAPI:
    """Monitored flows run by Prefect's engine."""

    def test_success_sends_no_alert(self, sink: RecordingSink) -> None:
        """A completed flow sends nothing."""

        @monitored_flow(alerts=sink)
        def fine() -> int:
            return 1

        assert fine() == 1
        assert sink.alerts == []

    def test_failure_sends_exactly_one_alert(self, sink: RecordingSink) -> None:
        """A flow failing after its own retries alerts once, ⚠️ when no task failed."""

        @monitored_flow(alerts=sink, retries=1, retry_delay_seconds=0)
        def broken() -> None:
            raise ValueError("bad input file")

        state = broken(return_state=True)
        assert state.is_failed()
        assert len(sink.alerts) == 1
        alert = sink.alerts[0]
        assert alert.severity is Severity.FAILURE
        assert alert.headline == "⚠️ broken failed"
        assert ("Error", "ValueError: bad input file") in alert.fields

    def test_failed_task_alert_names_the_task(self, sink: RecordingSink) -> None:
        """A task failing after its retries gives one 🚨 alert naming the task run."""

        @analytics_task(name="load-dbt-mart", retries=1)
        def load() -> None:
            raise OSError("database busy")

        @monitored_flow(alerts=sink)
        def nightly() -> None:
            load()

        assert nightly(return_state=True).is_failed()
        assert len(sink.alerts) == 1
        alert = sink.alerts[0]
        assert alert.severity is Severity.CRITICAL
        fields = dict(alert.fields)
        assert fields["Failed task"].startswith("load-dbt-mart-")
        assert fields["Error"] == "OSError: database busy"

    def test_validation_failure_alert_is_red(self, sink: RecordingSink) -> None:
        """A validation error gives one 🔴 alert."""

        @analytics_task
        def compute() -> _Row:
            return _Row(points="many")  # type: ignore[arg-type]

        @monitored_flow(alerts=sink)
        def nightly() -> None:
            compute()

        assert nightly(return_state=True).is_failed()
        assert [a.severity for a in sink.alerts] == [Severity.VALIDATION]
        assert sink.alerts[0].headline.startswith("🔴 nightly failed")

    def test_crash_sends_a_critical_alert(self, sink: RecordingSink) -> None:
        """A flow that crashes (a BaseException, not an Exception) alerts 🚨 crashed."""

        class Interrupted(BaseException):
            pass

        @monitored_flow(alerts=sink)
        def doomed() -> None:
            raise Interrupted

        with pytest.raises(Interrupted):
            doomed()
        assert len(sink.alerts) == 1
        assert sink.alerts[0].severity is Severity.CRITICAL
        assert sink.alerts[0].headline == "🚨 doomed crashed"

    def test_broken_sink_never_changes_the_final_state(self) -> None:
        """An alert sink that raises leaves the flow Failed (not Crashed) and raises nothing."""

        @monitored_flow(alerts=_BrokenSink())
        def broken() -> None:
            raise ValueError("bad")

        state = broken(return_state=True)
        assert state.is_failed()
        assert not state.is_crashed()

    def test_unresolved_failed_submission_fails_the_flow(self, sink: RecordingSink) -> None:
        """A submitted task that failed unobserved ends the flow Failed, naming the task."""

        @analytics_task(name="write-parquet", retries=0)
        def write() -> None:
            raise OSError("disk full")

        @monitored_flow(alerts=sink)
        def nightly() -> str:
            write.submit()
            return "done"

        state = nightly(return_state=True)
        assert state.is_failed()
        with pytest.raises(
            UnresolvedTaskFailureError, match=r"'write-parquet' \(OSError: disk full\)"
        ):
            state.result()
        assert len(sink.alerts) == 1

    def test_unresolved_failure_of_a_plain_prefect_task_is_caught(self) -> None:
        """Plain @task tasks submitted in a monitored flow are tracked too."""

        @task
        def plain() -> None:
            raise OSError("disk full")

        @monitored_flow
        def nightly() -> None:
            plain.submit()

        assert nightly(return_state=True).is_failed()

    def test_resolved_failure_handled_by_user_completes(self) -> None:
        """A failure the flow resolved with .result() and handled is the flow's business."""

        @analytics_task(retries=0)
        def optional() -> int:
            raise OSError("source offline")

        @monitored_flow
        def nightly() -> int:
            future = optional.submit()
            try:
                return future.result()
            except OSError:
                return 0

        assert nightly() == 0

    def test_allow_failure_marks_a_failure_as_handled(self) -> None:
        """Passing a failed future on under allow_failure() counts as handling it."""

        @analytics_task(retries=0)
        def optional() -> int:
            raise OSError("source offline")

        @analytics_task
        def summarise(_value: object) -> str:
            return "summary"

        @monitored_flow
        def nightly() -> str:
            return summarise(allow_failure(optional.submit()))

        assert nightly() == "summary"

    def test_mapped_failures_are_tracked(self) -> None:
        """A failed run among .map() futures also fails the flow when unobserved."""

        @analytics_task(retries=0)
        def divide(x: int) -> float:
            return 1 / x

        @monitored_flow
        def nightly() -> None:
            divide.map([1, 0, 2])

        state = nightly(return_state=True)
        assert state.is_failed()
        with pytest.raises(UnresolvedTaskFailureError, match="ZeroDivisionError"):
            state.result()

    def test_successful_submissions_complete(self) -> None:
        """Submitted tasks that all succeed leave the flow Completed."""

        @analytics_task
        def double(x: int) -> int:
            return 2 * x

        @monitored_flow
        def nightly() -> int:
            futures = [double.submit(i) for i in range(3)]
            return sum(f.result() for f in futures)

        assert nightly() == 6

    def test_async_flow_is_monitored(self, sink: RecordingSink) -> None:
        """An async monitored flow alerts and catches unresolved failures like a sync one."""

        @analytics_task(retries=0)
        async def fetch() -> None:
            raise OSError("timeout")

        @monitored_flow(alerts=sink)
        async def nightly() -> None:
            fetch.submit()

        state = asyncio.run(nightly(return_state=True))
        assert state.is_failed()
        assert len(sink.alerts) == 1

    @pytest.mark.parametrize("as_class", [False, True], ids=["instance", "class"])
    def test_a_runner_given_by_with_options_is_tracked(self, as_class: bool) -> None:
        """with_options(task_runner=...) keeps the unresolved-failure check, whatever the runner."""
        from prefect.task_runners import ThreadPoolTaskRunner

        @task
        def plain() -> None:
            raise OSError("disk full")

        @monitored_flow(alert_window=None)
        def nightly() -> None:
            plain.submit()

        runner = ThreadPoolTaskRunner if as_class else ThreadPoolTaskRunner(max_workers=2)
        assert nightly.with_options(task_runner=runner)(return_state=True).is_failed()
