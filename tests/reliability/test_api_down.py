"""The Prefect API going away: one alert on a path that needs no API, and a clear error.

Each case runs in its own interpreter: losing the API leaves Prefect's process-wide log
and event workers pointed at a dead server, which must not touch the rest of the suite.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import httpx
import pytest

from ff_prefect_kit import monitored_flow
from ff_prefect_kit.core import MonitoredFlow
from ff_prefect_kit.testing import mock_discord_webhook

SCRIPT = textwrap.dedent(
    """
    import json, sys, tempfile
    from pathlib import Path

    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_CLIENT_MAX_RETRIES,
        PREFECT_HOME,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        PREFECT_SERVER_DATABASE_CONNECTION_URL,
        temporary_settings,
    )

    from ff_prefect_kit import ApiUnreachableError, monitored_flow
    from ff_prefect_kit.testing import default_database_cache, mock_discord_webhook
    from ff_prefect_kit.testing._database import database_template
    from ff_prefect_kit.testing._server import HarnessServer

    mode = sys.argv[1]
    home = Path(tempfile.mkdtemp())
    cache = default_database_cache()
    local = {
        PREFECT_HOME: home,
        PREFECT_SERVER_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{home / 'p.db'}",
        PREFECT_SERVER_ANALYTICS_ENABLED: False,
        PREFECT_CLIENT_MAX_RETRIES: 0,  # what a real client spends a minute retrying
    }
    with temporary_settings(local):
        server = HarnessServer(database_template(cache) if cache else None)
        if mode == "mid-run":
            server.start(180)
            url = server.api_url
        else:
            url = "http://127.0.0.1:9/api"  # nothing listens there
        outcome = {"url": url}
        with temporary_settings({PREFECT_API_URL: url}), mock_discord_webhook() as discord:

            @monitored_flow(name="loses-the-api")
            def loses() -> int:
                server.stop()
                return 1

            try:
                loses()
            except ApiUnreachableError as error:
                outcome["error"] = str(error)
        outcome["alerts"] = [m.content for m in discord.messages]
        outcome["fields"] = discord.messages[0].fields if discord.messages else {}
    print(json.dumps(outcome))
    """
)


@pytest.mark.parametrize("mode", ["mid-run", "at-start"])
def test_a_lost_api_gives_one_alert_and_an_error_naming_it(mode: str) -> None:
    """Stopped mid-run or down from the start: ApiUnreachableError with the URL, one alert."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["error"].startswith(
        f"flow 'loses-the-api' could not reach the Prefect API at {outcome['url']}"
    )
    assert outcome["alerts"] == ["🚨 loses-the-api lost the Prefect API"]
    assert outcome["fields"]["API"] == outcome["url"]


HUNG_SCRIPT = textwrap.dedent(
    """
    import json, socket, sys, tempfile, threading
    from pathlib import Path

    from prefect.settings import (
        PREFECT_API_REQUEST_TIMEOUT,
        PREFECT_API_URL,
        PREFECT_CLIENT_MAX_RETRIES,
        PREFECT_HOME,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        temporary_settings,
    )

    from ff_prefect_kit import ApiUnreachableError, monitored_flow
    from ff_prefect_kit.core._api_loss import give_up_seconds
    from ff_prefect_kit.testing import mock_discord_webhook

    requests, connections = [], []
    server = socket.create_server(("127.0.0.1", 0))

    def read(connection):  # note each request's first line; never answer
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
            while b"\\r\\n\\r\\n" in data:
                head, _, data = data.partition(b"\\r\\n\\r\\n")
                requests.append(head.split(b"\\r\\n")[0].decode().rsplit(" ", 1)[0])

    def accept():
        while True:
            connection, _ = server.accept()
            connections.append(connection)
            threading.Thread(target=read, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/api"
    local = {
        PREFECT_HOME: Path(tempfile.mkdtemp()),
        PREFECT_SERVER_ANALYTICS_ENABLED: False,
        PREFECT_API_URL: url,
        PREFECT_CLIENT_MAX_RETRIES: int(sys.argv[1]),
        PREFECT_API_REQUEST_TIMEOUT: float(sys.argv[2]),
    }
    outcome = {"url": url}
    with temporary_settings(local), mock_discord_webhook() as discord:
        outcome["bound"] = give_up_seconds()

        @monitored_flow(name="meets-a-hung-api")
        def hangs() -> int:
            return 1

        try:
            hangs()
        except ApiUnreachableError as error:
            outcome["error"] = str(error)
    outcome["requests"] = requests
    outcome["alerts"] = [m.content for m in discord.messages]
    print(json.dumps(outcome))
    """
)


def test_a_hung_api_costs_each_call_its_timeout_once_per_attempt() -> None:
    """An API that never answers: the first call is tried 1 + MAX_RETRIES times, then the alert.

    What the error says it may cost (`give_up_seconds()`) follows from that: each attempt
    waits PREFECT_API_REQUEST_TIMEOUT; docs/reliability.md gives the figure for the defaults.
    """
    retries, timeout = 1, 0.5
    done = subprocess.run(
        [sys.executable, "-c", HUNG_SCRIPT, str(retries), str(timeout)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    first, *others = outcome["requests"]
    assert others == [first] * retries + ["GET /api/health"]
    assert outcome["bound"] == pytest.approx((1 + retries) * timeout + 2 * 1.2 + 3.0)
    assert f"takes up to {math.ceil(outcome['bound'])} s to give up" in outcome["error"]
    assert outcome["alerts"] == ["🚨 meets-a-hung-api lost the Prefect API"]


@pytest.mark.usefixtures("prefect_test_harness")
def test_a_flows_own_transport_error_is_not_taken_for_a_lost_api() -> None:
    """The flow's code failing to reach a web service fails the run as usual, with its error."""
    with mock_discord_webhook() as discord:

        @monitored_flow(name="calls-a-dead-service")
        def calls() -> None:
            raise httpx.ConnectError("the stats provider is down")

        with pytest.raises(httpx.ConnectError, match="stats provider"):
            calls()
    assert [m.content for m in discord.messages] == ["⚠️ calls-a-dead-service failed"]


def test_with_options_keeps_a_flow_monitored() -> None:
    """A copy made with `with_options` still watches for a lost API."""

    @monitored_flow
    def nightly() -> None:
        return None

    assert isinstance(nightly.with_options(name="nightly-copy"), MonitoredFlow)
