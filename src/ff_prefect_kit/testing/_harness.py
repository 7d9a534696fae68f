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
from unittest import mock

from ff_prefect_kit._retry import is_testing, set_testing
from ff_prefect_kit.testing._records import RunRecord, run_record

__all__ = ["HarnessHandle", "no_retry_delays", "prefect_harness"]

DEFAULT_STARTUP_TIMEOUT = 180.0

_log = logging.getLogger("ff_prefect_kit.testing")


@dataclass(frozen=True)
class HarnessHandle:
    """What a running harness offers a test.

    Attributes:
        api_url: The temporary API's URL (on loopback).
        home: The temporary `PREFECT_HOME`; results and local storage live below it.
    """

    api_url: str
    home: Path

    def run_record(self, state_or_id: Any, **options: Any) -> RunRecord:
        """Read a finished flow run back from this API; see `run_record`."""
        return run_record(state_or_id, **options)


@contextmanager
def prefect_harness(
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    settings: Mapping[Any, Any] | None = None,
    database_cache: Path | None = None,
) -> Iterator[HarnessHandle]:
    """Run a temporary Prefect API for tests, isolated from `~/.prefect`.

    On top of Prefect's `prefect_test_harness`: a temporary `PREFECT_HOME` and
    result storage, server telemetry off, flow heartbeats off (a trivial flow runs
    in ~0.1 s instead of ~1 s), a start-up timeout that fits a slow CI, and
    teardown in `finally` so that a failing test never leaks a server process.

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

    Yields:
        A handle with the API's URL and the temporary home.
    """
    import prefect.testing.utilities
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    from ff_prefect_kit.testing._server import database_template, harness_server_class

    home = None
    try:
        home = Path(tempfile.mkdtemp(prefix="ff-prefect-kit-"))
        updates = {**_harness_settings(home), **(settings or {})}
        template = None if database_cache is None else database_template(Path(database_cache))
        with ExitStack() as stack:
            stack.enter_context(temporary_settings(updates=updates))
            # Prefect's harness, serving the kit's app: only the server class differs.
            with mock.patch.object(
                prefect.testing.utilities, "SubprocessASGIServer", harness_server_class(template)
            ):
                harness = prefect_test_harness(server_startup_timeout=int(startup_timeout))
                stack.enter_context(harness)
            if template is not None and not template.exists():
                _keep(template)
            yield HarnessHandle(api_url=str(PREFECT_API_URL.value()), home=home)
    finally:
        if home is not None:
            shutil.rmtree(home, ignore_errors=True)


def _keep(template: Path) -> None:
    """Keep the database for later sessions; a cache that cannot be written costs only time."""
    import sqlite3

    from ff_prefect_kit.testing._server import keep_database

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


@contextmanager
def no_retry_delays() -> Iterator[None]:
    """Make analytics tasks retry at once inside the block (attempts still happen)."""
    before = is_testing()
    set_testing(True)
    try:
        yield
    finally:
        set_testing(before)
