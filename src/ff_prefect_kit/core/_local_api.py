"""A monitored flow's first run on Prefect's local API starts it in time, or says what to do.

With no `PREFECT_API_URL`, Prefect starts a local ("ephemeral") API server in a
subprocess the first time a process needs one, and waits
`PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS` (20 s by default) for it to answer.
The first start on a new Prefect home migrates a fresh database, and without compiled
bytecode every import is about 4 times slower: on a slow machine that start takes 30 to
55 s, and the first `python my_flow.py` fails with Prefect's "Timed out while
attempting to connect to ephemeral Prefect API server".

Before a monitored flow runs, `ensure_local_api()` starts that same server the way
Prefect would, with one difference: while the start-up timeout is Prefect's default
(nobody set it), it waits up to `LOCAL_API_STARTUP_SECONDS` and logs that it does. No
setting is changed: the wait is the argument of the server's own `start()`, and Prefect
then finds the server running. A timeout someone did set is kept as set; a server that
does not answer within it becomes `ApiUnreachableError` naming `ff-prefect-kit init`,
the setting, and the server's own words (redacted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ff_prefect_kit._errors import ApiUnreachableError
from ff_prefect_kit._logging import kit_logger
from ff_prefect_kit._secrets import redact
from ff_prefect_kit._settings import LOCAL_API_STARTUP_SECONDS

if TYPE_CHECKING:
    from prefect.settings import Settings

__all__ = ["ensure_local_api", "startup_timeout"]

_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
# How much of the server's own output an error keeps: its last lines say why.
_OUTPUT_TAIL = 1500


def startup_timeout(settings: Settings) -> int | None:
    """Seconds to wait for the local API, or `None` when Prefect's setting stands as set."""
    ephemeral = settings.server.ephemeral
    if "startup_timeout_seconds" in ephemeral.model_fields_set:
        return None
    return max(int(ephemeral.startup_timeout_seconds), LOCAL_API_STARTUP_SECONDS)


def ensure_local_api() -> None:
    """Start Prefect's local API for this process if it is the one runs will use.

    Does nothing when `PREFECT_API_URL` is set, ephemeral mode is off, or the server
    already runs.

    Raises:
        ApiUnreachableError: The local API did not answer in time, or its process
            exited; the message says how to give it more time.
    """
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    if server.running:
        return
    timeout = startup_timeout(settings)
    if timeout is not None:
        kit_logger.info(
            "Starting Prefect's local API (up to %d s; the first start on a new Prefect home "
            "migrates its database). `ff-prefect-kit init` or PREFECT_API_URL skips the wait.",
            timeout,
        )
    try:
        server.start(timeout=timeout)
    except RuntimeError as exc:
        server.stop()  # Prefect leaves the late server running until the process exits
        raise _start_failed(exc, timeout) from None


def _start_failed(exc: RuntimeError, timeout: int | None) -> ApiUnreachableError:
    """The error for a local API that did not start, with what to do about it."""
    from prefect.settings import get_current_settings

    waited = timeout or get_current_settings().server.ephemeral.startup_timeout_seconds
    said = str(exc)
    if len(said) > _OUTPUT_TAIL:
        said = "..." + said[-_OUTPUT_TAIL:]
    return ApiUnreachableError(
        redact(
            f"Prefect's local API did not start within {waited} s ({said}). Run "
            f"`ff-prefect-kit init` in the project (its .env sets {_SETTING}="
            f"{LOCAL_API_STARTUP_SECONDS}), or set {_SETTING} higher, or point "
            "PREFECT_API_URL at a running server (`prefect server start`), then run the "
            "flow again"
        )
    )
