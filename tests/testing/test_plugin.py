"""The pytest plugin, used the way a user's project uses it: through pytester."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from tests.conftest import modules_after

pytest_plugins = ["pytester"]

USER_TESTS = """
import duckdb
import pytest

from ff_prefect_kit import analytics_task, monitored_flow


@analytics_task(name="load")
def load(db: str) -> list[float]:
    with duckdb.connect(db, read_only=True) as con:
        rows = con.sql("select fantasy_points from mrt_fantasy_actuals_weekly").fetchall()
    return [r[0] for r in rows]


@analytics_task(name="clean")
def clean(points: list[float]) -> list[float]:
    return [p for p in points if p is not None]


@analytics_task(name="total")
def total(points: list[float]) -> float:
    return round(sum(points), 2)


@analytics_task(name="report")
def report(value: float) -> str:
    return f"{value:.2f}"


@monitored_flow
def season_total(db: str) -> str:
    return report(total(clean(load(db))))


def test_marts_have_rows(synthetic_marts):
    with duckdb.connect(str(synthetic_marts), read_only=True) as con:
        assert con.sql("select count(*) from mrt_fantasy_actuals_weekly").fetchall()[0][0] > 0


def test_flow_and_its_graph(prefect_test_harness, synthetic_marts, tmp_path_factory):
    (tmp_path_factory.getbasetemp() / "api_url").write_text(prefect_test_harness.api_url)
    state = season_total(str(synthetic_marts), return_state=True)
    record = prefect_test_harness.run_record(state, expected_tasks=4)
    assert record.state == "COMPLETED"
    assert record.dependencies == {
        "load": set(), "clean": {"load"}, "total": {"clean"}, "report": {"total"},
    }


@pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")
def test_retries_without_waiting():
    attempts = []

    @analytics_task(retries=2, retry_delay_seconds=3600)
    def flaky() -> None:
        attempts.append(1)
        raise OSError("offline")

    @monitored_flow
    def nightly() -> None:
        flaky()

    assert nightly(return_state=True).is_failed()
    assert len(attempts) == 3
"""


def test_fixtures_work_from_a_plain_test_file(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A user's test file using only the fixtures passes, and the session leaves nothing behind."""
    home = tmp_path / "prefect-home"
    home.mkdir()
    monkeypatch.setenv("PREFECT_HOME", str(home))
    pytester.makepyfile(test_user=USER_TESTS)
    basetemp = tmp_path / "basetemp"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--basetemp={basetemp}")
    result.assert_outcomes(passed=3)
    host, port = (basetemp / "api_url").read_text().removeprefix("http://").split("/")[0].split(":")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=2).close()
    assert not any(home.rglob("*.db")), "the harness left a database in PREFECT_HOME"
    assert not (home / "storage").exists(), "the harness left results in PREFECT_HOME"


def test_fixtures_are_documented(pytester: pytest.Pytester) -> None:
    """`pytest --fixtures` lists each of the kit's fixtures with its docstring."""
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    out = result.stdout.str()
    for fixture, words in [
        ("prefect_test_harness [session scope]", "temporary Prefect API"),
        ("prefect_server [session scope]", "prefect server start"),
        ("no_retry_delays", "retry at once"),
        ("synthetic_marts", "mrt_fantasy_actuals_weekly"),
        ("synthetic_marts_factory", "synthetic marts"),
    ]:
        assert fixture in out
        assert words in out


def test_no_fixture_is_autouse(pytester: pytest.Pytester) -> None:
    """Installing the kit starts nothing: a test that asks for no fixture gets none of them."""
    pytester.makepyfile(
        test_plain="""
        def test_plain(request):
            assert not {"prefect_test_harness", "synthetic_marts", "no_retry_delays"} & set(
                request.fixturenames
            )
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


XDIST_TESTS = """
import os
from pathlib import Path

from ff_prefect_kit import monitored_flow


@monitored_flow
def hello() -> str:
    return "hi"


def _record(harness) -> None:
    worker = os.environ["PYTEST_XDIST_WORKER"]
    (Path(os.environ["FF_TEST_OUT"]) / f"{worker}.url").write_text(harness.api_url)
    assert hello() == "hi"


def test_one(prefect_test_harness):
    _record(prefect_test_harness)


def test_two(prefect_test_harness):
    _record(prefect_test_harness)
"""


def test_each_xdist_worker_gets_its_own_server(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Under pytest-xdist every worker starts and uses a server of its own."""
    monkeypatch.setenv("FF_TEST_OUT", str(tmp_path))
    pytester.makepyfile(test_parallel=XDIST_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--dist", "each")
    result.assert_outcomes(passed=4)
    urls = {path.stem: path.read_text() for path in tmp_path.glob("gw*.url")}
    assert sorted(urls) == ["gw0", "gw1"]
    assert urls["gw0"] != urls["gw1"]


KEPT_DATABASE_TESTS = """
from ff_prefect_kit import monitored_flow


@monitored_flow
def hello() -> str:
    return "hi"


def test_flow(prefect_test_harness):
    assert hello() == "hi"
"""


def test_a_fresh_clone_starts_from_the_database_the_first_session_kept(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The migrated database is kept in the user's cache; another checkout runs on a copy."""
    import sqlite3
    from contextlib import closing

    import prefect

    cache = tmp_path / "user-cache"
    monkeypatch.setenv("FF_PREFECT_KIT_CACHE", str(cache))
    pytester.makepyfile(test_kept=KEPT_DATABASE_TESTS)
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    [kept] = cache.glob("prefect-*.db")
    assert kept.name.startswith(f"prefect-{prefect.__version__}-")
    with closing(sqlite3.connect(kept)) as db:
        assert db.execute("select count(*) from alembic_version").fetchone() == (1,)
    before = kept.read_bytes()
    clone = tmp_path / "fresh-clone"
    clone.mkdir()
    (clone / "test_kept.py").write_text(KEPT_DATABASE_TESTS)
    monkeypatch.chdir(clone)
    pytester.runpytest_subprocess(clone).assert_outcomes(passed=1)
    assert not (clone / ".pytest_cache" / "d" / "ff-prefect-kit").exists()
    assert kept.read_bytes() == before, "the second session changed the kept database"


def test_loading_the_plugin_imports_neither_the_kit_nor_prefect() -> None:
    """The entry module pytest loads first imports nothing heavy, so it costs nothing unused."""
    heavy = ("ff_prefect_kit", "prefect", "polars", "duckdb", "respx")
    assert modules_after("pytest_ff_prefect_kit", heavy) == []


COVERED_TESTS = """
from ff_prefect_kit import KitError
from ff_prefect_kit.alerts import redact


def test_redacts():
    assert "<redacted>" in redact("https://discord.com/api/webhooks/1234567/secret")
    assert issubclass(KitError, Exception)
"""


def test_a_downstream_cov_run_measures_the_kit(pytester: pytest.Pytester) -> None:
    """`pytest --cov=ff_prefect_kit` in a user's project measures the kit, with no warning."""
    pytester.makepyfile(test_cov=COVERED_TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:randomly", "--cov=ff_prefect_kit", "--cov-report=term"
    )
    result.assert_outcomes(passed=1)
    output = result.stdout.str() + result.stderr.str()
    assert "previously imported" not in output
    # Module-level lines run at import: measured only if coverage started before the kit.
    [errors_line] = [line for line in result.stdout.lines if "ff_prefect_kit/_errors.py" in line]
    _, statements, missed, _ = errors_line.split()
    assert int(missed) < int(statements)


SERVERS_AT_COLLECTION_END = """
import os
import pytest
from pathlib import Path


def _servers_of_this_process() -> int:
    count = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (proc / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid() and b"ff_prefect_kit.testing._server:create_app" in command:
            count += 1
    return count


def pytest_collection_finish(session):
    Path(os.environ["FF_TEST_OUT"]).write_text(str(_servers_of_this_process()))
    if os.environ.get("FF_TEST_STOP_AFTER_COLLECTION"):
        pytest.exit("counted", returncode=0)
"""

HARNESS_AND_PLAIN_TESTS = (
    KEPT_DATABASE_TESTS
    + """

def test_plain():
    assert True
"""
)


def _servers_when_collected(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str
) -> tuple[int, pytest.RunResult]:
    out = tmp_path / "servers"
    monkeypatch.setenv("FF_TEST_OUT", str(out))
    pytester.makeconftest(SERVERS_AT_COLLECTION_END)
    pytester.makepyfile(test_user=HARNESS_AND_PLAIN_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", *args)
    return int(out.read_text()), result


def test_the_server_starts_while_the_tests_are_collected(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A collected test using the harness launches its server before any test runs."""
    # Counted, the session ends: the launched server's later use is every harness test's.
    monkeypatch.setenv("FF_TEST_STOP_AFTER_COLLECTION", "1")
    servers, result = _servers_when_collected(pytester, monkeypatch, tmp_path)
    assert servers == 1
    assert result.ret == 0


def test_a_server_no_selected_test_uses_is_stopped_after_collection(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With the harness tests deselected (-k), the launched server is gone by the first test."""
    servers, result = _servers_when_collected(pytester, monkeypatch, tmp_path, "-k", "plain")
    assert servers == 0
    result.assert_outcomes(passed=1, deselected=1)


def test_the_early_start_can_be_turned_off(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """FF_PREFECT_KIT_PRESTART=0: the server starts when the fixture is first used."""
    monkeypatch.setenv("FF_PREFECT_KIT_PRESTART", "0")
    servers, result = _servers_when_collected(pytester, monkeypatch, tmp_path)
    assert servers == 0
    result.assert_outcomes(passed=2)
