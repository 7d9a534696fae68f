"""`automations install` on a real `prefect server start`: alerts for runs that cannot send theirs.

The server's automations post to a loopback receiver through Prefect's custom-webhook
block, as they post to Discord in production. Flows run under a `process` worker, which
reports a killed flow process as Crashed and runs the flow's crash hooks itself.
Marked `prefect_server` by the plugin.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from ff_prefect_kit.alerts._automations import AUTOMATION_PREFIX, _webhook_block
from ff_prefect_kit.cli import main
from ff_prefect_kit.testing import PrefectServer

POOL = "ff-automations"
RECEIVER_BLOCK = "automation-receiver"
CRASH_GRACE = 10
HEARTBEAT_TIMEOUT = 35
INSTALL = (
    "--block",
    RECEIVER_BLOCK,
    "--crash-grace",
    str(CRASH_GRACE),
    "--heartbeat-timeout",
    str(HEARTBEAT_TIMEOUT),
    # Limited to this module's flows, as a user limits them: the kit's own alert event
    # must match the filter too, or the server would alert a second time.
    *("--flow", "monitored-killed", "--flow", "plain-killed", "--flow", "worker-lost"),
)

FLOWS = textwrap.dedent(
    f"""
    import os
    import time
    from pathlib import Path

    from prefect import flow

    from ff_prefect_kit import monitored_flow


    def _sleep_here(pid_file: str) -> None:
        Path(pid_file).write_text(str(os.getpid()))
        time.sleep(600)


    @monitored_flow(name="monitored-killed", alerts="custom-webhook/{RECEIVER_BLOCK}")
    def monitored_killed(pid_file: str) -> None:
        _sleep_here(pid_file)


    @flow(name="plain-killed")
    def plain_killed(pid_file: str) -> None:
        _sleep_here(pid_file)


    @monitored_flow(name="worker-lost", alerts="custom-webhook/{RECEIVER_BLOCK}")
    def worker_lost(pid_file: str) -> None:
        _sleep_here(pid_file)
    """
)


@dataclass
class Receiver:
    """A loopback HTTP endpoint that records every JSON body posted to it."""

    url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def about(self, text: str) -> list[dict[str, Any]]:
        """The posts whose JSON mentions `text`."""
        with self.lock:
            return [post for post in self.posts if text in json.dumps(post, ensure_ascii=False)]

    def wait_for(self, text: str, timeout: float) -> list[dict[str, Any]]:
        """Wait until a post mentions `text`; the posts that do."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := self.about(text):
                return found
            time.sleep(0.25)
        raise AssertionError(f"no post mentioning {text!r} within {timeout} s: {self.posts}")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """The loopback receiver, for the module."""
    received = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with received.lock:
                received.posts.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{server.server_port}/api/webhooks/1/receiver-token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Setup:
    """The server with the receiver's block, the automations and the deployments."""

    server: PrefectServer
    root: Path
    env: dict[str, str]
    receiver: Receiver

    def prefect(self, *args: str) -> str:
        """Run the `prefect` command against the server; its output."""
        done = subprocess.run(
            [_prefect(), *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start_run(self, deployment: str, **env: str) -> tuple[subprocess.Popen[bytes], int]:
        """Run a deployment on a new worker; the worker and the flow run's process id."""
        worker, pid, _ = self.start_run_with_id(deployment, **env)
        return worker, pid

    def start_run_with_id(
        self, deployment: str, **env: str
    ) -> tuple[subprocess.Popen[bytes], int, str]:
        """Run a deployment on a new worker; the worker, the run's process id, the run's id."""
        pid_file = self.root / f"{deployment.replace('/', '-')}-{time.monotonic_ns()}.pid"
        out = self.prefect(
            "deployment", "run", deployment, "--params", json.dumps({"pid_file": str(pid_file)})
        )
        found = re.search(r"UUID: *([0-9a-f-]{36})", out)
        assert found, out
        worker = subprocess.Popen(
            [_prefect(), "worker", "start", "--pool", POOL, "--run-once", "--limit", "1"],
            cwd=self.root,
            env={**self.env, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while not pid_file.exists() or not pid_file.read_text():
            assert worker.poll() is None, "the worker ended before the flow run started"
            assert time.monotonic() < deadline, "the flow run did not start within 120 s"
            time.sleep(0.1)
        return worker, int(pid_file.read_text()), found[1]

    def wait_for_event(self, name: str, flow_run_id: str, timeout: float = 60) -> None:
        """Wait until the server has recorded event `name` of the flow run."""
        query = {
            "filter": {
                "event": {"name": [name]},
                "resource": {"id": [f"prefect.flow-run.{flow_run_id}"]},
            },
            "limit": 1,
        }
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = httpx.post(f"{self.server.api_url}/events/filter", json=query, timeout=10)
            if answer.json()["events"]:
                return
            time.sleep(0.25)
        raise AssertionError(f"the server recorded no {name} of {flow_run_id} in {timeout} s")


def _prefect() -> str:
    found = shutil.which("prefect", path=str(Path(sys.executable).parent))
    assert found, "the prefect command is not installed beside this Python"
    return found


def _install(server: PrefectServer, *args: str) -> int:
    with server.use():
        return main(["automations", "install", *args])


@pytest.fixture(scope="module")
def setup(
    prefect_server: PrefectServer, receiver: Receiver, tmp_path_factory: pytest.TempPathFactory
) -> Setup:
    """The receiver saved as a block, the automations installed, the flows deployed."""
    root = tmp_path_factory.mktemp("automations")
    (root / "flows.py").write_text(FLOWS)
    with prefect_server.use():
        _webhook_block(SecretStr(receiver.url), username="automations test").save(
            RECEIVER_BLOCK, overwrite=True
        )
    assert _install(prefect_server, *INSTALL) == 0
    env = {
        **os.environ,
        **prefect_server.environment(),
        "FF_ENV_FILE": os.devnull,
        "FF_DATA_DIR": str(root / "data"),
        "PREFECT_WORKER_QUERY_SECONDS": "1",
    }
    for name in ("DISCORD_WEBHOOK_URL", "FF_ALERT_STATE_FILE"):
        env.pop(name, None)
    ready = Setup(prefect_server, root, env, receiver)
    ready.prefect("work-pool", "create", POOL, "--type", "process", "--overwrite")
    for name in ("monitored_killed", "plain_killed", "worker_lost"):
        ready.prefect("deploy", f"flows.py:{name}", "--name", "d", "--pool", POOL)
    return ready


def _automation_names(server: PrefectServer) -> list[str]:
    from prefect.client.orchestration import get_client

    with server.use(), get_client(sync_client=True) as client:
        return sorted(a.name for a in client.read_automations() if a.name.startswith("ff-"))


def test_install_creates_the_three_automations(setup: Setup) -> None:
    """Crashed, no heartbeats and running too long: one automation each."""
    assert _automation_names(setup.server) == sorted(
        AUTOMATION_PREFIX + name
        for name in (
            "flow run crashed",
            "flow run stopped sending heartbeats",
            "flow run running too long",
        )
    )


def test_installing_again_leaves_one_of_each(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second install updates the three automations; it adds none."""
    before = _automation_names(setup.server)
    assert _install(setup.server, *INSTALL) == 0
    assert _automation_names(setup.server) == before
    assert capsys.readouterr().out.count("Updated automation") == 3


def test_a_killed_monitored_flow_alerts_once(setup: Setup) -> None:
    """SIGKILL mid-run: the worker's crash hook alerts, and the server holds its own back."""
    worker, pid = setup.start_run("monitored-killed/d")
    os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=120)
    [alert] = setup.receiver.wait_for("monitored-killed crashed", timeout=60)
    time.sleep(CRASH_GRACE + 10)  # the server's automation would have fired by now
    assert setup.receiver.about("monitored-killed") == [alert]
    assert "Sent by the Prefect server" not in json.dumps(alert)  # the kit's own alert


def test_a_crash_no_process_reported_is_alerted_by_the_server(setup: Setup) -> None:
    """A plain flow killed under a worker: the server's automation sends one alert."""
    worker, pid = setup.start_run("plain-killed/d")
    os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=120)
    [alert] = setup.receiver.wait_for("plain-killed crashed", timeout=CRASH_GRACE + 60)
    text = json.dumps(alert, ensure_ascii=False)
    assert "🚨" in text
    assert "Sent by the Prefect server" in text
    time.sleep(5)
    assert len(setup.receiver.about("plain-killed")) == 1


def test_a_killed_worker_is_alerted_through_its_missing_heartbeats(setup: Setup) -> None:
    """Worker and flow killed together: no Crashed state, and the heartbeats' silence alerts."""
    heartbeats = {
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
        "PREFECT_RUNNER_HEARTBEAT_FREQUENCY": "30",
    }
    worker, pid, flow_run_id = setup.start_run_with_id("worker-lost/d", **heartbeats)
    setup.wait_for_event("prefect.flow-run.heartbeat", flow_run_id)
    # The machine is lost: the worker and the flow's process (a session of its own) die
    # together, and nobody reports a state.
    os.killpg(worker.pid, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=60)
    [alert] = setup.receiver.wait_for(
        "worker-lost stopped sending heartbeats", timeout=HEARTBEAT_TIMEOUT + 60
    )
    assert "No heartbeat" in json.dumps(alert)
    assert len(setup.receiver.about("worker-lost")) == 1


def test_a_limit_of_zero_removes_its_automation(setup: Setup) -> None:
    """`--running-limit 0` removes the running-too-long automation; installing restores it."""
    try:
        assert _install(setup.server, *INSTALL, "--running-limit", "0") == 0
        assert AUTOMATION_PREFIX + "flow run running too long" not in _automation_names(
            setup.server
        )
    finally:
        assert _install(setup.server, *INSTALL) == 0
    assert len(_automation_names(setup.server)) == 3
