"""A monitored flow still alerts when the Prefect API itself goes away.

Prefect's engine records every state change through the API. When the API stops
answering (the server was stopped, the network dropped), the run cannot be marked
Failed, no failure hook runs, and the caller gets a raw `httpx` error once Prefect's
client has spent its retries (`PREFECT_CLIENT_MAX_RETRIES`, about a minute by
default). `MonitoredFlow` catches that error where the flow is called, sends the
alert on a path that needs no API (the webhook of the alert target, or of
`DISCORD_WEBHOOK_URL`, or the log), and raises `ApiUnreachableError` naming the API.
"""

from __future__ import annotations

import inspect
import socket
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from prefect import Flow

from ff_prefect_kit._errors import ApiUnreachableError, describe
from ff_prefect_kit._internals import retype
from ff_prefect_kit._logging import kit_logger
from ff_prefect_kit.alerts._model import Alert, Severity
from ff_prefect_kit.alerts._sinks import resolve_sink
from ff_prefect_kit.core._futures import TrackingTaskRunner

if TYPE_CHECKING:
    from ff_prefect_kit.alerts._sinks import AlertTarget

__all__ = ["MonitoredFlow"]

P = ParamSpec("P")
R = TypeVar("R")


def _api_url() -> str | None:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    return str(url) if url else None


def _transport_error(exc: BaseException) -> bool:
    """Whether `exc`, or what caused it, is an HTTP transport failure."""
    import httpx

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, httpx.TransportError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _api_lost(exc: BaseException) -> str | None:
    """The API's URL when `exc` means that API stopped answering, else `None`.

    A transport error can also be the flow's own (its code called a web service);
    the API is asked for its health to tell the two apart.
    """
    import httpx

    url = _api_url()
    if url is None or not _transport_error(exc):
        return None
    try:
        answered = httpx.get(f"{url.rstrip('/')}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        answered = False
    return None if answered else url


class MonitoredFlow(Flow[P, R], Generic[P, R]):
    """A Prefect `Flow` whose call alerts and raises `ApiUnreachableError` if the API is lost."""

    _ff_alerts: AlertTarget = None

    @classmethod
    def adopt(cls, flow: Flow[P, R], alerts: AlertTarget) -> MonitoredFlow[P, R]:
        """Make `flow` (built by `prefect.flow`) a monitored flow sending to `alerts`.

        Its task runner, whichever it is, is wrapped in a `TrackingTaskRunner`, so a
        submitted task that failed unobserved fails the run on any runner.
        """
        retype(flow, cls)
        monitored: MonitoredFlow[P, R] = flow  # type: ignore[assignment]
        monitored._ff_alerts = alerts
        if not isinstance(monitored.task_runner, TrackingTaskRunner):
            monitored.task_runner = TrackingTaskRunner(monitored.task_runner)
        return monitored

    def with_options(self, *args: Any, **kwargs: Any) -> MonitoredFlow[P, R]:
        """Prefect's `with_options`, keeping the copy monitored, a new task runner too."""
        return type(self).adopt(super().with_options(*args, **kwargs), self._ff_alerts)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the flow as Prefect does; a lost API becomes an alert and a clear error."""
        try:
            result = super().__call__(*args, **kwargs)
        except Exception as exc:
            if (url := _api_lost(exc)) is None:
                raise
            raise self._report(url, exc) from exc
        if inspect.isawaitable(result):
            return self._watch(result)
        return result

    async def _watch(self, pending: Any) -> Any:
        try:
            return await pending
        except Exception as exc:
            if (url := _api_lost(exc)) is None:
                raise
            raise self._report(url, exc) from exc

    def _report(self, url: str, exc: BaseException) -> ApiUnreachableError:
        alert = Alert(
            severity=Severity.CRITICAL,
            title=f"{self.name} lost the Prefect API",
            description=(
                "The run could not record its state: check the Prefect server, then run "
                "the flow again (its state in the UI may be stale)."
            ),
            fields=(("API", url), ("Error", describe(exc)), ("Host", socket.gethostname())),
        )
        try:
            # A block name cannot be loaded without the API: the default comes next.
            resolve_sink(self._ff_alerts, fallback="default").send(alert)
        except Exception:  # the error below must reach the caller whatever happens here
            kit_logger.exception("Could not send the alert for the lost API")
        return ApiUnreachableError(
            f"flow {self.name!r} could not reach the Prefect API at {url} ({describe(exc)}): "
            "start that server or fix PREFECT_API_URL, then run the flow again; Prefect's "
            "client retried for PREFECT_CLIENT_MAX_RETRIES before giving up"
        )
