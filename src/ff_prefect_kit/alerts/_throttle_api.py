"""Alert windows kept in the Prefect API the runs report to, shared by every process and machine.

Each throttled key (a flow's name) has one Prefect Variable, `ff_alert_window_<digest>`,
tagged `ff-prefect-kit` and `alert-window`, whose value holds the key and its windows
(per severity and cause: when the alert went, how many were held back since, whether
it reached anyone). A read-modify-write of a Variable is not atomic, so it happens
under a lease on the global concurrency limit `ff-alert-throttle` (one slot): the API's
one atomic primitive, used as a lock that every machine sees and that frees itself
when a holder dies (the lease expires after `LEASE_SECONDS`).

Why Variables and not a concurrency limit with slot decay per window: a window needs
the count of alerts it held back and whether its alert was delivered, which a limit's
slots cannot hold, and one Variable per key keeps the windows readable in the UI.

The API used is Prefect's current one: `PREFECT_API_URL`, or the local API this process
already started. With neither, or when the API does not answer, the caller keeps the
windows in its own memory (an alert sent twice beats an alert lost).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from ff_prefect_kit import _config
from ff_prefect_kit._internals import running_local_api_url

__all__ = [
    "LEASE_SECONDS",
    "LOCK_NAME",
    "VARIABLE_PREFIX",
    "ApiWindows",
    "current_api_windows",
    "forget_api_windows",
]

T = TypeVar("T")

LOCK_NAME = "ff-alert-throttle"
"""The one-slot global concurrency limit that serialises changes to the windows."""
VARIABLE_PREFIX = "ff_alert_window_"
"""The start of each key's Variable name; the rest is a digest of the key."""
LEASE_SECONDS = 60.0
"""How long a dead holder keeps the lock (Prefect's shortest lease); released at once normally."""
REQUEST_SECONDS = 5.0
"""Each request's timeout; the API is asked once, with no retry."""
_TAGS = ["ff-prefect-kit", "alert-window"]
_LOCKED = 423
_POLL = 0.05


def variable_name(key: str) -> str:
    """The Variable holding `key`'s windows: any key gives a valid, fixed-length name."""
    return VARIABLE_PREFIX + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def current_api_windows() -> ApiWindows | None:
    """The windows in the API runs report to now, or `None` when there is none to use.

    `None` without `PREFECT_API_URL` unless this process already runs Prefect's local
    API: starting one (tens of seconds) only to keep alert windows would cost more
    than it saves.
    """
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    url = settings.api.url
    if not url and settings.server.ephemeral.enabled:
        url = running_local_api_url()
    return ApiWindows(str(url)) if url else None


def _settings_without_retries() -> Any:
    """The current Prefect settings with the client's retries off.

    Deriving them validates Prefect's whole settings tree (about 0.1 s of CPU), and each
    alert asks the API several times: they are derived once per current settings and
    Prefect environment, and kept in `_config.state`.
    """
    import os

    from prefect.context import get_settings_context
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES

    base = get_settings_context().settings
    environment = tuple(sorted(kv for kv in os.environ.items() if kv[0].startswith("PREFECT_")))
    with _config.state.lock:
        kept = _config.state.settings_without_retries
    if kept is not None and kept[0] is base and kept[1] == environment:
        return kept[2]
    derived = base.copy_with_update(updates={PREFECT_CLIENT_MAX_RETRIES: 0})
    with _config.state.lock:
        _config.state.settings_without_retries = (base, environment, derived)
    return derived


@contextlib.contextmanager
def _client(api_url: str) -> Iterator[Any]:
    """A client of `api_url` asking once, within `REQUEST_SECONDS` (never Prefect's retries)."""
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.context import SettingsContext, get_settings_context

    context = get_settings_context()
    settings = context.settings
    key = settings.api.key.get_secret_value() if settings.api.key else None
    auth = settings.api.auth_string.get_secret_value() if settings.api.auth_string else None
    # What `temporary_settings` does, with settings derived once instead of every time.
    with SettingsContext(profile=context.profile, settings=_settings_without_retries()):
        client = SyncPrefectClient(
            api_url, api_key=key, auth_string=auth, httpx_settings={"timeout": REQUEST_SECONDS}
        )
        with client:
            yield client


@dataclass(frozen=True)
class ApiWindows:
    """The windows of every key in one Prefect API (see the module's docstring)."""

    api_url: str
    lock_timeout: float = 10.0

    def read(self, key: str) -> dict[str, Any]:
        """`key`'s windows as stored (kind to fields), `{}` when it has none."""
        with _client(self.api_url) as client:
            return _value(client, key)[1]

    def update(self, key: str, change: Callable[[dict[str, Any]], T]) -> T:
        """Apply `change` to `key`'s stored windows under the lock, and store them.

        `change` gets the stored windows (kind to fields) and changes them in place.

        Raises:
            TimeoutError: Another process held the lock for over `lock_timeout` s.
            httpx.HTTPError: The API did not answer.
        """
        with _client(self.api_url) as client:
            lease = self._acquire(client)
            try:
                exists, windows = _value(client, key)
                result = change(windows)
                _store(client, key, windows, exists=exists)
            finally:
                client.release_concurrency_slots_with_lease(lease)
        with _config.state.lock:
            _config.state.throttle_variables.add((self.api_url, variable_name(key)))
        return result

    def _acquire(self, client: Any) -> Any:
        from prefect.exceptions import PrefectHTTPStatusError

        _ensure_lock(client, self.api_url)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                response = client.increment_concurrency_slots_with_lease(
                    names=[LOCK_NAME], slots=1, mode="concurrency", lease_duration=LEASE_SECONDS
                )
                return response.json()["lease_id"]
            except PrefectHTTPStatusError as exc:
                if exc.response.status_code != _LOCKED:
                    raise
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"the alert windows' lock {LOCK_NAME!r} was held for over "
                        f"{self.lock_timeout:g} s"
                    ) from None
                time.sleep(_POLL)


def _ensure_lock(client: Any, api_url: str) -> None:
    """Create the one-slot limit `LOCK_NAME` in this API unless it exists."""
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with _config.state.lock:
        if api_url in _config.state.throttle_locks:
            return
    try:
        client.read_global_concurrency_limit_by_name(LOCK_NAME)
    except ObjectNotFound:
        with contextlib.suppress(ObjectAlreadyExists):  # another process created it first
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=LOCK_NAME, limit=1)
            )
    with _config.state.lock:
        _config.state.throttle_locks.add(api_url)


def _value(client: Any, key: str) -> tuple[bool, dict[str, Any]]:
    """Whether `key` has a Variable, and the windows it holds (`{}` if unreadable)."""
    variable = client.read_variable_by_name(variable_name(key))
    if variable is None:
        return False, {}
    kinds = variable.value.get("kinds") if isinstance(variable.value, dict) else None
    return True, dict(kinds) if isinstance(kinds, dict) else {}


def _store(client: Any, key: str, windows: dict[str, Any], *, exists: bool) -> None:
    from prefect.client.schemas.actions import VariableCreate, VariableUpdate

    name = variable_name(key)
    # The key shown for a reader of the UI (the name is a digest), cut to fit the value's limit.
    value = {"key": key[:200], "kinds": windows}
    if not exists:
        client.create_variable(VariableCreate(name=name, value=value, tags=_TAGS))
    else:
        client.update_variable(VariableUpdate(name=name, value=value, tags=_TAGS))


def forget_api_windows() -> None:
    """Delete every key's Variable this process wrote, in each API still answering."""
    import httpx
    from prefect.exceptions import ObjectNotFound

    with _config.state.lock:
        touched = set(_config.state.throttle_variables)
        _config.state.throttle_variables.clear()
    for api_url, name in sorted(touched):
        try:
            with _client(api_url) as client:
                client.delete_variable_by_name(name)
        except (ObjectNotFound, httpx.HTTPError, OSError):
            pass  # deleted already, or a test's server that stopped: nothing left to forget
