"""A monitored flow still alerts when the Prefect API itself goes away.

Prefect's engine records every state change through the API. When the API stops
answering (the server was stopped, the network dropped), the run cannot be marked
Failed, no failure hook runs, and the caller gets a raw `httpx` error once Prefect's
client has spent its retries. `MonitoredFlow` catches that error where the flow is
called, sends the alert on a path that needs no API (the webhook of the alert target,
or of `DISCORD_WEBHOOK_URL`, or the log), and raises `ApiUnreachableError` naming the
API and how long Prefect's client may take to give up.

That time is Prefect's, not the kit's: an API that refuses connections fails the call at
once (Prefect 3.6) or after the retries' backoff (later releases retry a refused
connection once one succeeded), but an API that accepts connections and never answers
costs each call `1 + PREFECT_CLIENT_MAX_RETRIES` attempts of `PREFECT_API_REQUEST_TIMEOUT`
each, plus the backoff between them (2, 4, 8, ... s, jittered by
`PREFECT_CLIENT_RETRY_JITTER_FACTOR`): 6 x 60 s + 62 s, about 7 minutes with the
defaults. `give_up_seconds()` works it out from the settings in force.
"""

from __future__ import annotations

import inspect
import math
import socket
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from prefect import Flow

from ff_prefect_kit._errors import ApiUnreachableError, describe
from ff_prefect_kit._internals import retype
from ff_prefect_kit._logging import kit_logger
from ff_prefect_kit._secrets import redact
from ff_prefect_kit.alerts._model import Alert, Severity
from ff_prefect_kit.alerts._sinks import resolve_sink
from ff_prefect_kit.core._futures import TrackingTaskRunner
from ff_prefect_kit.core._local_api import ensure_local_api

if TYPE_CHECKING:
    from ff_prefect_kit.alerts._sinks import AlertTarget

__all__ = ["MonitoredFlow"]

P = ParamSpec("P")
R = TypeVar("R")


# How long the lost API's health is asked for, to tell a lost API from the flow's own error.
HEALTH_TIMEOUT = 3.0


def give_up_seconds() -> float:
    """The longest a call to a hung Prefect API takes to fail, from Prefect's settings.

    An API that accepts connections and never answers: every attempt waits the request
    timeout, and the retries wait their backoff (at its longest jitter); then the kit
    asks the API's health once.

    Returns:
        Seconds: `(1 + PREFECT_CLIENT_MAX_RETRIES) * PREFECT_API_REQUEST_TIMEOUT`, plus
        `2 + 4 + ... + 2**PREFECT_CLIENT_MAX_RETRIES` times `1 + jitter factor`, plus
        the health check's 3 s.
    """
    from prefect.settings import (
        PREFECT_API_REQUEST_TIMEOUT,
        PREFECT_CLIENT_MAX_RETRIES,
        PREFECT_CLIENT_RETRY_JITTER_FACTOR,
    )

    retries = max(int(PREFECT_CLIENT_MAX_RETRIES.value()), 0)
    timeout = float(PREFECT_API_REQUEST_TIMEOUT.value())
    jitter = max(float(PREFECT_CLIENT_RETRY_JITTER_FACTOR.value()), 0.0)
    backoff = sum(2.0**attempt for attempt in range(1, retries + 1)) * (1 + jitter)
    return (retries + 1) * timeout + backoff + HEALTH_TIMEOUT


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
        health = f"{url.rstrip('/')}/health"
        answered = httpx.get(health, timeout=HEALTH_TIMEOUT).status_code == 200
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
        """Run the flow as Prefect does; a lost API becomes an alert and a clear error.

        On Prefect's local API, its server is started first with time for a first start.
        """
        ensure_local_api()
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
        try:
            bound = f"up to {math.ceil(give_up_seconds())} s"
        except Exception:  # Prefect's settings unreadable: the names still help
            bound = "a while"
        return ApiUnreachableError(
            redact(
                f"flow {self.name!r} could not reach the Prefect API at {url} "
                f"({describe(exc)}): start that server or fix PREFECT_API_URL, then run the "
                f"flow again. Against an API that hangs, Prefect's client takes {bound} to "
                "give up (1 + PREFECT_CLIENT_MAX_RETRIES attempts of "
                "PREFECT_API_REQUEST_TIMEOUT each, with backoff): lower those to hear sooner"
            )
        )
