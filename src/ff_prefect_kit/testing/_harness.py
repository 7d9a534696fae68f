"""A Prefect test harness that is fast, isolated and always torn down."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ff_prefect_kit._context import environment
from ff_prefect_kit._internals import global_settings_context
from ff_prefect_kit.alerts._throttle import reset_throttles
from ff_prefect_kit.testing._database import database_template, keep_database
from ff_prefect_kit.testing._records import run_record as _run_record
from ff_prefect_kit.testing._server import HarnessServer, drain_client_workers

__all__ = ["HarnessHandle", "LaunchedHarness", "launch_harness", "prefect_harness"]

DEFAULT_STARTUP_TIMEOUT = 180.0

_log = logging.getLogger("ff_prefect_kit.testing")


@dataclass(frozen=True)
class HarnessHandle:
    """What a running harness offers a test.

    Attributes:
        api_url: The temporary API's URL (on loopback).
        home: The temporary `PREFECT_HOME`; results and local storage live below it.
        run_record: `ff_prefect_kit.testing.run_record` itself, at hand on the fixture:
            inside the harness it reads from the harness's API.
    """

    api_url: str
    home: Path

    run_record = staticmethod(_run_record)


@contextmanager
def prefect_harness(
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    settings: Mapping[Any, Any] | None = None,
    database_cache: Path | None = None,
    *,
    launched: LaunchedHarness | None = None,
) -> Iterator[HarnessHandle]:
    """Run a temporary Prefect API for tests, isolated from `~/.prefect`.

    A drop-in for Prefect's `prefect_test_harness`: a temporary SQLite database
    and API server on loopback, with `PREFECT_API_URL` pointing at it inside the
    block. On top of it: a temporary `PREFECT_HOME` and result storage, server
    telemetry off, flow heartbeats off (a trivial flow runs in ~0.1 s instead of
    ~1 s), a start-up timeout that fits a slow CI, and teardown in `finally` so
    that a failing test never leaks a server process.

    The server is Prefect's own app, tuned for speed: a request that meets
    SQLite's lock is retried inside the server after milliseconds (Prefect's client
    waits ~2 s), task-run events are written in batches (Prefect 3.7+), and the services no flow
    test uses (automations, the event store) are off. The client skips the CSRF
    token request and gets a one-certificate CA file for the plain-HTTP loopback
    API, so that it does not load the whole CA bundle for every flow run.

    A new server spends most of its start-up migrating an empty database. With
    `database_cache`, the first session keeps a copy of the migrated database there
    (one file per Prefect release) and later sessions start from it.

    Args:
        startup_timeout: Seconds to wait for the server to answer.
        settings: More Prefect settings for the session, client and server, e.g.
            `{PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED: True}` to keep events.
        database_cache: A folder for the migrated empty database, kept between
            sessions (the pytest fixture uses pytest's cache folder).
        launched: A server already starting (`launch_harness()`), to wait for and
            use instead of starting one; `settings` and `database_cache` are then
            those it was launched with.

    Yields:
        A handle with the API's URL and the temporary home.
    """
    from prefect.context import get_settings_context
    from prefect.settings import PREFECT_API_URL, temporary_settings

    launch = launched if launched is not None else launch_harness(settings, database_cache)
    try:
        with ExitStack() as stack:
            stack.enter_context(temporary_settings(updates=launch.updates))
            server = stack.enter_context(launch.server)
            server.wait(timeout=startup_timeout)
            stack.enter_context(temporary_settings(updates={PREFECT_API_URL: server.api_url}))
            stack.enter_context(global_settings_context(get_settings_context()))
            # The session's alert windows live in its own API (a new one has none), never
            # in a state file that a developer's environment or .env may name.
            stack.enter_context(environment({"FF_ALERT_STATE_FILE": ""}))
            if launch.template is not None and not launch.template.exists():
                _keep(launch.template)
            reset_throttles()
            try:
                yield HarnessHandle(api_url=server.api_url, home=launch.home)
            finally:
                drain_client_workers()
                reset_throttles()
    finally:
        launch.discard()


@dataclass
class LaunchedHarness:
    """A harness whose server process is starting: what `prefect_harness` takes over.

    Attributes:
        home: The temporary `PREFECT_HOME`.
        updates: The Prefect settings of the session, client and server.
        server: The server process, launched with those settings.
        template: The kept migrated database, when a cache folder was given.
    """

    home: Path
    updates: dict[Any, Any]
    server: HarnessServer
    template: Path | None

    def discard(self) -> None:
        """Stop the server and remove the home; idempotent."""
        self.server.stop()
        shutil.rmtree(self.home, ignore_errors=True)


def launch_harness(
    settings: Mapping[Any, Any] | None = None, database_cache: Path | None = None
) -> LaunchedHarness:
    """Start a harness's server process and return at once, for `prefect_harness` to wait on.

    The pytest plugin calls it as soon as it collects a test that uses the harness,
    so that the server starts while the rest of the tests are collected.

    Args:
        settings: More Prefect settings, as for `prefect_harness`.
        database_cache: The folder of the kept migrated database, as for `prefect_harness`.
    """
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL, temporary_settings

    home = Path(tempfile.mkdtemp(prefix="ff-prefect-kit-"))
    try:
        updates = {
            **_harness_settings(home),
            PREFECT_SERVER_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{home / 'prefect.db'}",
            **(settings or {}),
        }
        template = None if database_cache is None else database_template(Path(database_cache))
        server = HarnessServer(template)
        with temporary_settings(updates=updates):
            server.launch()
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise
    return LaunchedHarness(home, updates, server, template)


def _keep(template: Path) -> None:
    """Keep the database for later sessions; a cache that cannot be written costs only time."""
    import sqlite3

    try:
        keep_database(template)
    except (OSError, sqlite3.Error) as error:
        _log.warning("could not keep the migrated database in %s: %s", template.parent, error)


def _harness_settings(home: Path) -> dict[Any, Any]:
    import prefect.settings

    updates: dict[Any, Any] = {
        prefect.settings.PREFECT_HOME: home,
        prefect.settings.PREFECT_LOCAL_STORAGE_PATH: home / "storage",
        prefect.settings.PREFECT_SERVER_ANALYTICS_ENABLED: False,
        # The test server has no CSRF protection; asking it costs a request per flow run.
        prefect.settings.PREFECT_CLIENT_CSRF_SUPPORT_ENABLED: False,
        prefect.settings.PREFECT_API_SSL_CERT_FILE: str(_one_certificate(home / "api-ca.pem")),
    }
    # Settings that some supported Prefect releases lack: heartbeats arrived in 3.7.
    for name, value in (
        ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", None),
        ("PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED", False),
        ("PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED", False),
    ):
        setting = getattr(prefect.settings, name, None)
        if setting is not None:
            updates[setting] = value
    return updates


def _one_certificate(path: Path) -> Path:
    """Write the first certificate of certifi's bundle to `path`."""
    import certifi

    bundle = Path(certifi.where()).read_text(encoding="ascii")
    end = "-----END CERTIFICATE-----"
    path.write_text(
        bundle[bundle.index("-----BEGIN CERTIFICATE-----") : bundle.index(end) + len(end)] + "\n",
        encoding="ascii",
    )
    return path
