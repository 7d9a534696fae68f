"""`monitored_flow`: Prefect's `@flow` with alerting and the house defaults.

Over 350 lines because the alert of a run (what failed, how bad, its cause), the hook that
throttles and sends it, and the handled event the server's automation waits for are one
decision, read together.
"""

from __future__ import annotations

import functools
import inspect
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload
from uuid import uuid4

from ff_prefect_kit._errors import (
    InvalidOptionError,
    SchemaValidationError,
    UnresolvedTaskFailureError,
    describe,
)
from ff_prefect_kit._logging import bridge_logger, kit_logger
from ff_prefect_kit.alerts._automations import ALERT_HANDLED_EVENT
from ff_prefect_kit.alerts._model import Alert, Severity
from ff_prefect_kit.alerts._sinks import AlertTarget, check_alerts_option, resolve_sink
from ff_prefect_kit.alerts._throttle import DEFAULT_ALERT_WINDOW, AlertThrottle
from ff_prefect_kit.core._api_loss import MonitoredFlow
from ff_prefect_kit.core._futures import TrackingTaskRunner, raise_for_unresolved_failures
from ff_prefect_kit.core._instrument import instrument
from ff_prefect_kit.core._ledger import TaskFailure, ledger
from ff_prefect_kit.core._options import check_options
from ff_prefect_kit.core._retry import exception_of

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.client.schemas.objects import FlowRun, State, TaskRun

__all__ = ["flow_alert", "monitored_flow"]

P = ParamSpec("P")
R = TypeVar("R")


def is_validation_error(exc: BaseException | None) -> bool:
    """Whether `exc` says data did not match its schema."""
    from pydantic import ValidationError

    return isinstance(exc, ValidationError | SchemaValidationError)


def _failed_task_runs(flow_run: FlowRun) -> list[TaskRun]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        TaskRunFilter,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    with get_client(sync_client=True) as client:
        return client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])),
            task_run_filter=TaskRunFilter(
                state=TaskRunFilterState(
                    type=TaskRunFilterStateType(any_=[StateType.FAILED, StateType.CRASHED])
                )
            ),
        )


def _task_failures(flow_run: FlowRun, exc: BaseException | None) -> list[TaskFailure]:
    """The failed task runs of a flow run: noted locally, then any the API knows."""
    found = dict(ledger().collect(flow_run.id))
    if isinstance(exc, UnresolvedTaskFailureError):
        for name, cause, message in exc.failures:
            if not any(f.exception is cause for f in found.values()):
                found[uuid4()] = TaskFailure(name, name, cause, message)
    try:
        remote = _failed_task_runs(flow_run)
    except Exception:  # the API is unreachable: what is known locally must do
        remote = []
    for task_run in remote:
        if task_run.id not in found:
            message = (task_run.state.message if task_run.state else None) or ""
            found[task_run.id] = TaskFailure(task_run.task_key, task_run.name, None, message)
    return list(found.values())


def _duration(flow_run: FlowRun, state: State[Any]) -> str | None:
    start = flow_run.start_time
    if start is None:
        return None
    end = state.timestamp or datetime.now(UTC)
    seconds = max((end - start).total_seconds(), 0.0)
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _ui_url(flow_run: FlowRun) -> str | None:
    try:
        from prefect.utilities.urls import url_for

        return url_for(flow_run)
    except Exception:
        return None


def flow_alert(flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any]) -> Alert:
    """Describe a failed or crashed flow run as an `Alert`.

    The failing task runs are looked up in the API; a validation error anywhere
    makes it 🔴, a failed task or a crash 🚨, anything else ⚠️.

    Args:
        flow: The flow.
        flow_run: Its run.
        state: The run's final state.

    Returns:
        The alert.
    """
    return _alert_and_cause(flow, flow_run, state)[0]


def _cause(causes: list[BaseException | None]) -> str:
    """What failed, for the throttle: the type of the first exception known, else nothing."""
    for exc in causes:
        if exc is not None:
            kind = type(exc)
            return f"{kind.__module__}.{kind.__qualname__}"
    return ""


def _alert_and_cause(
    flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any]
) -> tuple[Alert, str]:
    crashed = state.is_crashed()
    exc = exception_of(state)
    failures = _task_failures(flow_run, exc)
    causes = [exc, *(f.exception for f in failures)]
    if any(is_validation_error(c) for c in causes) or any(
        "ValidationError" in f.message for f in failures
    ):
        severity = Severity.VALIDATION
    elif crashed or failures:
        severity = Severity.CRITICAL
    else:
        severity = Severity.FAILURE

    fields: list[tuple[str, str]] = [("Flow run", flow_run.name)]
    if failures:
        label = "Failed task" if len(failures) == 1 else "Failed tasks"
        fields.append((label, ", ".join(f.task_run_name for f in failures)))
    if exc is not None:
        fields.append(("Error", describe(exc)))
    for failure in failures:
        if failure.exception is not exc and failure.message:
            fields.append((f"Error in {failure.task_run_name}", failure.message))
    duration = _duration(flow_run, state)
    if duration:
        fields.append(("Duration", duration))
    fields.append(("Host", socket.gethostname()))
    alert = Alert(
        severity=severity,
        title=f"{flow.name} {'crashed' if crashed else 'failed'}",
        description="" if exc is not None else (state.message or ""),
        fields=tuple(fields),
        url=_ui_url(flow_run),
        timestamp=state.timestamp or datetime.now(UTC),
    )
    return alert, _cause(causes)


def _throttle_for(alert_window: timedelta | AlertThrottle | None) -> AlertThrottle | None:
    if alert_window is None or isinstance(alert_window, AlertThrottle):
        return alert_window
    if not isinstance(alert_window, timedelta):
        raise InvalidOptionError(
            f"alert_window must be a timedelta, an AlertThrottle or None, got {alert_window!r}"
        )
    return AlertThrottle.shared(alert_window) if alert_window > timedelta(0) else None


def _alert_hook(
    alerts: AlertTarget, throttle: AlertThrottle | None = None
) -> Callable[[Flow[Any, Any], FlowRun, State[Any]], None]:
    def send_alert_for_state(flow: Flow[Any, Any], flow_run: FlowRun, state: State[Any]) -> None:
        # A hook must never change the run's final state nor raise: Prefect would
        # swallow the error, but it would also hide the alert that went missing.
        try:
            alert, cause = _alert_and_cause(flow, flow_run, state)
            if throttle is not None:
                admitted = throttle.admit(flow.name, alert, cause=cause)
                if admitted is None:
                    kit_logger.warning(
                        "Alert for %r held back: %d failure(s) in the current %s window "
                        "are counted and reported with the next alert.",
                        flow.name,
                        throttle.held_back(flow.name),
                        throttle.window,
                    )
                    # Held back behind an alert that reached nobody (a log line on a
                    # worker without a webhook): the server's automation must still tell.
                    if throttle.delivered(flow.name, alert, cause=cause):
                        _record_handled(flow, flow_run, "held back")
                    return
                alert = admitted
            # Only an alert that reached someone tells the server's crash automation
            # to stay quiet: one written to the logs alone, or lost, is sent by it.
            delivered = resolve_sink(alerts, fallback="log").send(alert) is not False
            if throttle is not None:
                throttle.record_delivery(flow.name, alert, delivered, cause=cause)
            if delivered:
                _record_handled(flow, flow_run, "sent")
        except Exception:
            kit_logger.exception("Could not build or send the alert for flow run %r", flow_run.name)

    return send_alert_for_state


def _record_handled(flow: Flow[Any, Any], flow_run: FlowRun, outcome: str) -> None:
    try:
        from prefect.events import emit_event

        emit_event(
            ALERT_HANDLED_EVENT,
            resource={
                "prefect.resource.id": f"prefect.flow-run.{flow_run.id}",
                "prefect.resource.name": flow_run.name,
            },
            # The flow, as Prefect relates its own run events: an automation limited to
            # some flows (`--flow`) matches this event too.
            related=[
                {
                    "prefect.resource.id": f"prefect.flow.{flow_run.flow_id}",
                    "prefect.resource.role": "flow",
                    "prefect.resource.name": flow.name,
                }
            ],
            payload={"outcome": outcome},
        )
    except Exception:  # an event lost costs at most a second alert, from the server
        kit_logger.debug("Could not emit %s for %r", ALERT_HANDLED_EVENT, flow_run.name)


def _guard_unresolved(fn: Callable[P, R]) -> Callable[P, R]:
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            result = await fn(*args, **kwargs)
            raise_for_unresolved_failures(result)
            return result

        return run_async  # type: ignore[return-value]
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        return fn  # type: ignore[return-value]

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        result = fn(*args, **kwargs)
        raise_for_unresolved_failures(result)
        return result

    return run


@overload
def monitored_flow(fn: Callable[P, R], /) -> Flow[P, R]: ...


@overload
def monitored_flow(
    *,
    name: str | None = None,
    alerts: AlertTarget = None,
    alert_window: timedelta | AlertThrottle | None = DEFAULT_ALERT_WINDOW,
    log_prints: bool = True,
    **flow_options: Any,
) -> Callable[[Callable[P, R]], Flow[P, R]]: ...


def monitored_flow(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    alerts: AlertTarget = None,
    alert_window: timedelta | AlertThrottle | None = DEFAULT_ALERT_WINDOW,
    log_prints: bool = True,
    **flow_options: Any,
) -> Flow[P, R] | Callable[[Callable[P, R]], Flow[P, R]]:
    """Make a function a Prefect flow that alerts when it fails or crashes.

    Works bare (`@monitored_flow`) and called (`@monitored_flow(name=...)`). On top
    of Prefect's flow: one alert per failed or crashed run (after the flow's own
    retries), start/completion/duration logging, `log_prints=True`, and a run
    that ends Failed when a task submitted with `.submit()` failed and its future
    was never resolved (Prefect would call it Completed). Your own `on_failure` and
    `on_crashed` hooks run after the kit's. Every other `prefect.flow` option
    passes through.

    Args:
        fn: The function, when used bare.
        name: The flow's name; defaults to the function's name.
        alerts: Where alerts go: a block name (loaded when an alert is sent), a
            `DiscordAlerts` or any Prefect `NotificationBlock`, an `AlertSink`. By
            default the webhook in `DISCORD_WEBHOOK_URL`, or with none set the run's
            logs and the console.
        alert_window: One alert per window for a flow that keeps failing; the
            failures in between are counted in the next alert. `None` sends every one.
        log_prints: Send `print` output to the run's logs.
        **flow_options: Any other `prefect.flow` option.

    Returns:
        A `prefect.Flow`, or a decorator making one.

    Raises:
        InvalidOptionError: An unknown option, an unusable `alerts`, or `fn` is not
            callable. It is a `TypeError` and a `ValueError`.
        ConfigError: `alerts` is not given and `DISCORD_WEBHOOK_URL` is set but is not
            a Discord webhook URL: a typo fails where the flow is defined, not
            silently when it first fails.
    """
    from prefect import flow

    check_options("monitored_flow", flow_options, flow)
    check_alerts_option(alerts)
    throttle = _throttle_for(alert_window)

    def decorate(func: Callable[P, R]) -> Flow[P, R]:
        if not callable(func):
            raise InvalidOptionError(f"monitored_flow can only decorate a callable, got {func!r}")
        from prefect.task_runners import ThreadPoolTaskRunner

        label = str(name or getattr(func, "__name__", repr(func)))
        bridge_logger(kit_logger.name)
        bridge_logger(getattr(func, "__module__", None) or "__main__")
        options = dict(flow_options)
        hook = _alert_hook(alerts, throttle)
        options["on_failure"] = [hook, *(options.get("on_failure") or [])]
        options["on_crashed"] = [hook, *(options.get("on_crashed") or [])]
        runner = options.pop("task_runner", None) or ThreadPoolTaskRunner()
        if isinstance(runner, type):
            runner = runner()
        make_flow: Any = flow  # options are checked above; Prefect's overloads cannot see them
        made: Flow[P, R] = make_flow(
            instrument(_guard_unresolved(func), "Flow", label),
            name=name,
            log_prints=log_prints,
            task_runner=TrackingTaskRunner(runner),
            **options,
        )
        return MonitoredFlow.adopt(made, alerts)

    if fn is None:
        return decorate
    return decorate(fn)
