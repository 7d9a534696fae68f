"""`ff-prefect-kit doctor`: each check, its fix, the exit status, and no secret printed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import version
from io import StringIO
from pathlib import Path

import pytest

from ff_prefect_kit.cli import main
from ff_prefect_kit.cli._doctor import CheckResult, Status, exit_code, render, run_checks
from ff_prefect_kit.cli._doctor._tools import check_just
from ff_prefect_kit.testing import HarnessHandle, mock_discord_webhook

DEAD_API = "http://127.0.0.1:9/api"
TOKEN = "doctor-canary-T0KEN-abcdefghijklmnopqrstuvwxyz"
WEBHOOK = f"https://discord.com/api/webhooks/123456789012345678/{TOKEN}"
API_KEY = "pnu_doctorCanaryApiKey0123456789abcdef"
AUTH_STRING = "doctor:canary-right-password-0123"
WRONG_AUTH_STRING = "doctor:canary-wrong-password-4567"
_VARIABLES = (
    "DISCORD_WEBHOOK_URL",
    "PREFECT_API_URL",
    "PREFECT_API_KEY",
    "PREFECT_API_AUTH_STRING",
    "FF_DATA_DIR",
    "FF_DUCKDB_PATH",
    "FF_DBT_PROJECT_DIR",
    "FF_ANALYTICS_URL",
)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in an empty folder outside any git repository, with none of the kit's variables."""
    from prefect.settings import (
        PREFECT_API_AUTH_STRING,
        PREFECT_API_KEY,
        PREFECT_API_URL,
        temporary_settings,
    )

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for variable in _VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    # Prefect read its settings when it was imported (a profile, or the session's
    # harness): a test that wants an API names it in the environment.
    defaults = {PREFECT_API_URL, PREFECT_API_KEY, PREFECT_API_AUTH_STRING}
    with temporary_settings(restore_defaults=defaults):
        yield work


@pytest.fixture(scope="module")
def guarded_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prefect API on loopback that demands the credential `AUTH_STRING`."""
    from prefect.settings import (
        PREFECT_HOME,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        PREFECT_SERVER_API_AUTH_STRING,
        PREFECT_SERVER_DATABASE_CONNECTION_URL,
        temporary_settings,
    )

    from ff_prefect_kit.testing import default_database_cache
    from ff_prefect_kit.testing._database import database_template
    from ff_prefect_kit.testing._server import HarnessServer

    home = tmp_path_factory.mktemp("guarded-api")
    cache = default_database_cache()
    server = HarnessServer(None if cache is None else database_template(cache))
    settings = {
        PREFECT_HOME: home,
        PREFECT_SERVER_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        PREFECT_SERVER_API_AUTH_STRING: AUTH_STRING,
        PREFECT_SERVER_ANALYTICS_ENABLED: False,
    }
    try:
        # The server process takes its settings when it starts; the test's stay as they were.
        with temporary_settings(updates=settings):
            server.start(timeout=180)
        yield server.api_url
    finally:
        server.stop()


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    """The results keyed by check name."""
    return {result.name: result for result in results}


def check(name: str, *, send_test: bool = False) -> CheckResult:
    """Run every check and return the one called `name`."""
    return by_name(run_checks(send_test=send_test))[name]


def doctor_output(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run `ff-prefect-kit doctor` in this process: its exit code and stdout+stderr."""
    code = main(["doctor", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def run_doctor(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `ff-prefect-kit doctor` as a fresh process with this test's environment."""
    return subprocess.run(
        [sys.executable, "-m", "ff_prefect_kit.cli._main", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_no_secret(text: str) -> None:
    """None of the canary secrets appears in `text`, in any form."""
    for secret in (TOKEN, API_KEY, AUTH_STRING, WRONG_AUTH_STRING):
        assert secret not in text
    assert "canary" not in text.lower()  # nor a part of one


# --- versions and the report ------------------------------------------------------------


def test_versions_of_python_prefect_and_the_kit_are_reported() -> None:
    """The first checks name the Python, Prefect and kit releases."""
    results = by_name(run_checks())
    assert results["Python"].detail.startswith(".".join(map(str, sys.version_info[:3])))
    assert results["Prefect"].detail.startswith(version("prefect"))
    assert results["ff-prefect-kit"].detail == version("ff-prefect-kit")
    assert all(results[name].status is Status.OK for name in ("Python", "Prefect"))


def test_report_prints_each_fix_under_its_failure() -> None:
    """render() prints a ✘ line with the detail, then its fix, then a summary."""
    from rich.console import Console

    out = StringIO()
    results = [
        CheckResult("Thing", Status.FAIL, "is broken", "mend it"),
        CheckResult("Other", Status.OK, "fine"),
    ]
    render(results, Console(file=out, width=200))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("✘ Thing")
    assert lines[0].endswith("is broken")
    assert lines[1].strip() == "fix: mend it"
    assert lines[2].startswith("✔ Other")
    assert "1 required check failed" in lines[-1]


@pytest.mark.parametrize(
    ("status", "required", "code"),
    [
        (Status.FAIL, True, 1),
        (Status.FAIL, False, 0),
        (Status.WARN, False, 0),
        (Status.SKIP, False, 0),
        (Status.OK, True, 0),
    ],
)
def test_only_a_failed_required_check_fails_the_command(
    status: Status, required: bool, code: int
) -> None:
    """The exit status is 1 exactly when a required check failed."""
    assert exit_code([CheckResult("x", status, "detail", required=required)]) == code


def test_a_clean_setup_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """With nothing misconfigured the command exits 0 and says all required checks passed."""
    code, output = doctor_output(capsys)
    assert code == 0, output
    assert "All required checks passed" in output
    assert not [line for line in output.splitlines() if line.startswith("✘")]


# --- the Prefect API --------------------------------------------------------------------


def test_live_api_passes(
    prefect_test_harness: HarnessHandle,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A real Prefect server on loopback is reported as answering, with no credential needed."""
    monkeypatch.setenv("PREFECT_API_URL", prefect_test_harness.api_url)
    code, output = doctor_output(capsys)
    assert code == 0, output
    assert "✔ Prefect API " in output
    assert f"{prefect_test_harness.api_url} answers" in output
    assert check("Prefect API credential").detail == "the API needs no credential"


def test_unset_api_means_the_local_ephemeral_api() -> None:
    """Without PREFECT_API_URL the check passes and names the local ephemeral API."""
    result = check("Prefect API")
    assert result.status is Status.OK
    assert "local ephemeral API" in result.detail


def test_unreachable_api_fails_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An API that does not answer is a ✘ naming the URL and how to fix it; exit 1."""
    monkeypatch.setenv("PREFECT_API_URL", DEAD_API)
    code, output = doctor_output(capsys)
    assert code == 1
    assert f"✘ Prefect API             {DEAD_API} is not reachable" in output
    assert "fix: start that server (`prefect server start`)" in output


@pytest.mark.parametrize(
    "url", ["localhost:4200/api", "ftp://127.0.0.1/api", "http:///api", "http://host:port/api"]
)
def test_malformed_api_url_fails_with_the_fix(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PREFECT_API_URL that is no http(s) URL is a ✘ showing the expected form; exit 1."""
    monkeypatch.setenv("PREFECT_API_URL", url)
    code, output = doctor_output(capsys)
    assert code == 1
    assert f"PREFECT_API_URL={url} is not a URL the client can use" in output
    assert "fix: set it to http://127.0.0.1:4200/api" in output


def test_password_in_the_api_url_is_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A user:password in PREFECT_API_URL is left out of the report."""
    monkeypatch.setenv("PREFECT_API_URL", f"http://{AUTH_STRING}@127.0.0.1:9/api")
    result = check("Prefect API")
    assert result.status is Status.FAIL
    assert "http://127.0.0.1:9/api is not reachable" in result.detail
    assert_no_secret(result.detail)


@pytest.mark.parametrize(
    ("url", "pieces"),
    [
        ("http://user:pa/ss?wd@127.0.0.1:9/api", ["user:pa", "pa/ss", "ss?wd", "wd@"]),
        ("http://ops:Qx7#kZ9v@127.0.0.1:9/api", ["ops:", "Qx7", "kZ9v"]),
        ("http://ops:Qx7@kZ9v@127.0.0.1:9/api", ["ops:", "Qx7", "kZ9v"]),
        ("http://o/ps:Qx7kZ9v@127.0.0.1:9/api", ["o/ps", "Qx7kZ9v"]),
    ],
)
def test_a_password_with_url_characters_is_hidden_whole(
    url: str,
    pieces: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A userinfo holding '/', '?', '#' or '@' is left out whole; the URL shows without it."""
    monkeypatch.setenv("PREFECT_API_URL", url)
    code, output = doctor_output(capsys)
    assert code == 1
    assert "http://127.0.0.1:9/api" in output
    assert [piece for piece in pieces if piece in output] == []


def test_a_password_with_a_slash_gets_the_percent_encoding_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`http://user:pa/ss?wd@host/api` is a ✘ saying to percent-encode the password."""
    monkeypatch.setenv("PREFECT_API_URL", "http://user:pa/ss?wd@127.0.0.1:9/api")
    result = check("Prefect API")
    assert result.blocking
    assert result.detail.startswith(
        "PREFECT_API_URL=http://127.0.0.1:9/api is not a URL the client can use: its "
        "password (or user name) holds a '/', '?' or '#'"
    )
    assert "percent-encode them (%2F, %3F, %23" in result.detail


@pytest.mark.parametrize(
    ("slow", "row"), [("/health", "Prefect API"), ("/flows/filter", "Prefect API credential")]
)
def test_an_api_trickling_its_answer_fails_within_the_deadline(
    slow: str,
    row: str,
    trickling_api: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An API sending headers, then its body byte by byte, is a ✘ naming it, not a hang."""
    url = trickling_api(slow)
    monkeypatch.setenv("PREFECT_API_URL", url.replace("http://", "http://ops:s3cret-pass@"))
    result = by_name(run_checks(timeout=1.0))[row]
    assert result.blocking
    assert f"{url}{slow if row != 'Prefect API' else ''} did not answer in full within 1 s" in (
        result.detail
    )
    assert "s3cret" not in result.detail + result.fix


def test_a_trickling_api_stops_the_installed_command_too(
    trickling_api: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The doctor command against a trickling /health exits 1 with the ✘, in a fresh process."""
    url = trickling_api("/health")
    monkeypatch.setenv("PREFECT_API_URL", url)
    done = run_doctor()
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{url} did not answer in full within 5 s" in done.stdout


# --- the local ephemeral API's start-up --------------------------------------------------


def test_a_raised_startup_timeout_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without PREFECT_API_URL, a start-up timeout of 180 s or more is a ✔ saying it is raised."""
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    result = check("Local API start-up")
    assert result.status is Status.OK
    assert result.detail.startswith("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS is 180 s")
    assert "raised" in result.detail


@pytest.mark.parametrize("seconds", ["20", "60"])
def test_a_startup_timeout_not_raised_warns_to_run_init(
    seconds: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Prefect's 20 s (or any less than init's) is a ~ advising `ff-prefect-kit init`; exit 0."""
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", seconds)
    code, output = doctor_output(capsys)
    assert code == 0, output
    assert (
        f"~ Local API start-up      PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS is "
        f"{seconds} s, not raised to 180 s" in output
    )
    assert "fix: run `ff-prefect-kit init` in the project" in output


def test_with_an_api_the_startup_timeout_is_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """With PREFECT_API_URL set no local API starts: no start-up row."""
    monkeypatch.setenv("PREFECT_API_URL", DEAD_API)
    assert "Local API start-up" not in by_name(run_checks())


def test_after_init_a_fresh_doctor_sees_the_raised_timeout(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ff-prefect-kit init`, then doctor in a new process: the .env it wrote makes the row ✔."""
    monkeypatch.delenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(isolated / ".prefect-home"))
    assert main(["init"]) == 0
    done = run_doctor()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✔ Local API start-up" in done.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PREFECT_API_AUTH_STRING", WRONG_AUTH_STRING), ("PREFECT_API_KEY", API_KEY)],
)
def test_rejected_credential_fails_without_printing_it(
    guarded_api: str,
    variable: str,
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A server demanding a credential that answers 401 is a ✘ naming the variable; exit 1."""
    monkeypatch.setenv("PREFECT_API_URL", guarded_api)
    monkeypatch.setenv(variable, value)
    code, output = doctor_output(capsys)
    assert code == 1
    assert "✔ Prefect API " in output
    assert f"✘ Prefect API credential  {variable} was rejected (HTTP 401; value hidden)" in output
    assert f"fix: set {variable} to the credential this API accepts" in output
    assert_no_secret(output)


def test_missing_credential_fails_with_the_fix(
    guarded_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server demanding a credential when none is set is a ✘ naming both variables."""
    monkeypatch.setenv("PREFECT_API_URL", guarded_api)
    result = check("Prefect API credential")
    assert result.blocking
    assert result.detail == "the API requires a credential (HTTP 401) and none is set"
    assert "PREFECT_API_KEY" in result.fix
    assert "PREFECT_API_AUTH_STRING" in result.fix


def test_accepted_credential_passes(guarded_api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's own auth string in PREFECT_API_AUTH_STRING is accepted."""
    monkeypatch.setenv("PREFECT_API_URL", guarded_api)
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", AUTH_STRING)
    result = check("Prefect API credential")
    assert (result.status, result.detail) == (Status.OK, "PREFECT_API_AUTH_STRING accepted")


# --- the Discord webhook ----------------------------------------------------------------


def test_missing_webhook_is_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    """No DISCORD_WEBHOOK_URL is a ~ warning saying alerts go to the logs; exit 0."""
    code, output = doctor_output(capsys)
    assert code == 0
    assert "~ Discord webhook         DISCORD_WEBHOOK_URL is not set" in output
    assert "fix: set DISCORD_WEBHOOK_URL in .env" in output


def test_configured_webhook_passes_with_its_token_hidden(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A well-formed webhook is a ✔ showing the URL with `<redacted>` for its token."""
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", WEBHOOK)
    code, output = doctor_output(capsys)
    assert code == 0
    assert "(https://discord.com/api/webhooks/123456789012345678/<redacted>)" in output
    assert_no_secret(output)


@pytest.mark.parametrize(
    "url",
    [
        f"https://example.com/api/webhooks/1/{TOKEN}",
        f"http://discord.com/api/webhooks/123/{TOKEN}",
        f"discord.com/api/webhooks/123/{TOKEN}",
        f"https://discord.com/api/webhooks/{TOKEN}",
    ],
)
def test_malformed_webhook_fails_without_printing_it(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A DISCORD_WEBHOOK_URL that is no Discord webhook is a ✘ with the fix; exit 1."""
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", url)
    code, output = doctor_output(capsys)
    assert code == 1
    assert "✘ Discord webhook         DISCORD_WEBHOOK_URL is not a Discord webhook URL" in output
    assert "fix: copy the webhook's URL from the Discord channel's" in output
    assert_no_secret(output)


def test_send_test_delivers_one_alert(capsys: pytest.CaptureFixture[str]) -> None:
    """--send-test posts one test alert and reports Discord's confirmation; exit 0."""
    with mock_discord_webhook() as webhook:
        code, output = doctor_output(capsys, "--send-test")
    assert code == 0, output
    assert [message.title for message in webhook.messages] == [
        "Test alert from ff-prefect-kit doctor"
    ]
    assert "✔ Discord test alert      Discord confirmed the test alert" in output
    assert webhook.token not in output


@pytest.mark.parametrize("status", [401, 404])
def test_send_test_fails_when_discord_refuses(
    status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """A webhook answering 401 or 404 to the test alert is a ✘ naming the status; exit 1."""
    with mock_discord_webhook(responses=[status]) as webhook:
        code, output = doctor_output(capsys, "--send-test")
    assert code == 1
    assert webhook.messages == []
    assert "✘ Discord test alert      Discord did not confirm the test alert" in output
    assert f"HTTP {status}" in output
    assert webhook.token not in output


def test_send_test_without_a_webhook_fails() -> None:
    """--send-test with no DISCORD_WEBHOOK_URL is a ✘: nothing could be sent."""
    result = check("Discord test alert", send_test=True)
    assert result.blocking
    assert result.detail == "not sent: DISCORD_WEBHOOK_URL is not set"


def test_webhook_is_only_checked_not_sent_without_send_test() -> None:
    """Without --send-test nothing is posted and no test-alert check appears."""
    with mock_discord_webhook() as webhook:
        results = by_name(run_checks())
    assert webhook.requests == []
    assert "Discord test alert" not in results
    assert results["Discord webhook"].status is Status.OK


# --- settings and files -----------------------------------------------------------------


def test_malformed_settings_fail_naming_the_variable() -> None:
    """Settings that do not parse are a ✘ naming the variable, and the checks needing them skip."""
    from ff_prefect_kit._settings import KitSettings

    def malformed() -> KitSettings:
        return KitSettings(alert_username=["not", "a", "name"])

    results = by_name(run_checks(settings=malformed))
    assert results["Settings"].blocking
    assert "FF_ALERT_USERNAME" in results["Settings"].detail
    assert results["Data folder"].status is Status.SKIP


def test_undecodable_env_file_fails_naming_it(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A .env that is not UTF-8 is a ✘ naming the file and the fix, not a traceback; exit 1."""
    (isolated / ".env").write_bytes(b"FF_DATA_DIR=\xff\xfe\n")
    monkeypatch.delenv("FF_ENV_FILE")
    code, output = doctor_output(capsys)
    assert code == 1
    assert "✘ Settings" in output
    assert ".env is not UTF-8 text" in output
    assert "fix: save .env as UTF-8" in output
    assert "Traceback" not in output


def test_undecodable_env_file_in_a_fresh_process(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh process, whose Prefect cannot load such a .env, still reports and exits 1."""
    (isolated / ".env").write_bytes(b"FF_DATA_DIR=\xff\xfe\n")
    monkeypatch.delenv("FF_ENV_FILE")
    done = run_doctor()
    assert done.returncode == 1, done.stderr
    assert "cannot load its settings: UnicodeDecodeError" in done.stdout
    assert "✘ Settings" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_duckdb_file_that_opens_passes(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A DuckDB file in FF_DUCKDB_PATH that opens read-only is a ✔ counting its tables."""
    import duckdb

    path = isolated / "marts.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create table mart (x integer)")
    monkeypatch.setenv("FF_DUCKDB_PATH", str(path))
    result = check("DuckDB file")
    assert (result.status, result.detail) == (
        Status.OK,
        f"{path} opens read-only (1 tables and views)",
    )


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda path: None, "does not exist"),
        (lambda path: path.mkdir(), "is not a file"),
        (lambda path: path.write_text("not a database"), "does not open read-only"),
    ],
)
def test_unusable_duckdb_file_fails(
    make: Callable[[Path], object], says: str, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing, folder or non-DuckDB FF_DUCKDB_PATH is a required ✘ with a fix."""
    path = isolated / "marts.duckdb"
    make(path)
    monkeypatch.setenv("FF_DUCKDB_PATH", str(path))
    result = check("DuckDB file")
    assert result.blocking
    assert says in result.detail
    assert "FF_DUCKDB_PATH" in result.fix


def test_unset_duckdb_path_is_skipped() -> None:
    """Without FF_DUCKDB_PATH the DuckDB check is skipped, not failed."""
    assert check("DuckDB file").status is Status.SKIP


@pytest.mark.parametrize(
    ("layout", "says"),
    [
        ("file", "is not a folder"),
        ("file/data", "cannot be created: "),
    ],
)
def test_unusable_data_dir_fails(
    layout: str,
    says: str,
    isolated: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A data folder that is a file, or lies under one, is a ✘ with the fix; exit 1."""
    (isolated / "file").write_text("")
    monkeypatch.setenv("FF_DATA_DIR", layout)
    code, output = doctor_output(capsys)
    assert code == 1
    assert f"✘ Data folder             FF_DATA_DIR={layout} {says}" in output
    assert "fix: set FF_DATA_DIR to a folder you can write" in output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to a read-only folder")
def test_read_only_data_dir_fails(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A data folder without write permission is a ✘."""
    folder = isolated / "data"
    folder.mkdir(mode=0o500)
    monkeypatch.setenv("FF_DATA_DIR", str(folder))
    try:
        result = check("Data folder")
    finally:
        folder.chmod(0o700)
    assert result.blocking
    assert "is not writable" in result.detail


def test_missing_data_dir_passes_and_is_not_created(isolated: Path) -> None:
    """A data folder that does not exist but can be made passes; doctor does not make it."""
    result = check("Data folder")
    assert (result.status, result.detail) == (
        Status.OK,
        "data does not exist yet; it is created on the first write",
    )
    assert not (isolated / "data").exists()


def test_dbt_project_without_dbt_project_yml_fails(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FF_DBT_PROJECT_DIR naming a folder without dbt_project.yml is a required ✘."""
    monkeypatch.setenv("FF_DBT_PROJECT_DIR", str(isolated))
    result = check("dbt project")
    assert result.blocking
    assert "holds no dbt_project.yml" in result.detail


@pytest.fixture
def dbt_project(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A dbt project folder below the working directory, named by FF_DBT_PROJECT_DIR."""
    project = isolated / "dbt"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: x\n")
    monkeypatch.setenv("FF_DBT_PROJECT_DIR", str(project))
    return project


def test_relative_duckdb_path_away_from_the_dbt_project_is_a_warning(
    isolated: Path, dbt_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative FF_DUCKDB_PATH that flows and dbt read as two files is a ⚠ naming both."""
    monkeypatch.setenv("FF_DUCKDB_PATH", "ff.duckdb")
    result = check("DuckDB path")
    assert (result.status, result.blocking) == (Status.WARN, False)
    assert f"the mart loaders open {isolated / 'ff.duckdb'}" in result.detail
    assert f"(dbt runs in {dbt_project}) opens {dbt_project / 'ff.duckdb'}" in result.detail
    assert result.fix.endswith(f"e.g. FF_DUCKDB_PATH={isolated / 'ff.duckdb'}")


def test_absolute_duckdb_path_has_no_path_warning(
    isolated: Path, dbt_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An absolute FF_DUCKDB_PATH is one file for flows and dbt: no ⚠ about it."""
    monkeypatch.setenv("FF_DUCKDB_PATH", str(isolated / "ff.duckdb"))
    assert "DuckDB path" not in by_name(run_checks())


# --- just ---------------------------------------------------------------------------------


DBT_RECIPE = "# Build the marts.\ndbt-run *ARGS:\n    cd dbt && dbt build {{ARGS}}\n"


@pytest.mark.parametrize(
    "justfile", [None, "test:\n    pytest\n", "# dbt lives elsewhere\nlint:\n    ruff check .\n"]
)
def test_just_is_not_needed_without_a_dbt_recipe(
    justfile: str | None, isolated: Path, tmp_path: Path
) -> None:
    """No justfile, or one with no recipe running dbt: just is skipped even when missing."""
    if justfile is not None:
        (isolated / "justfile").write_text(justfile)
    result = check_just(search_path=str(tmp_path / "no-tools"))
    assert (result.status, result.blocking) == (Status.SKIP, False)
    assert result.detail == "not needed: no justfile here has a recipe that runs dbt"


def test_a_dbt_recipe_without_just_fails_with_advice_for_a_project(
    isolated: Path, tmp_path: Path
) -> None:
    """A justfile whose recipe runs dbt, and no just: a ✘ saying how to add it to the project."""
    (isolated / "justfile").write_text(DBT_RECIPE)
    result = check_just(search_path=str(tmp_path / "no-tools"))
    assert result.blocking
    assert result.detail == "not found, and ./justfile has recipes that run dbt"
    assert "uv add --dev rust-just" in result.fix
    assert "uv sync" not in result.fix  # the kit's own checkout is not the user's project


def test_a_dbt_recipe_with_just_passes(isolated: Path, tmp_path: Path) -> None:
    """A justfile whose recipe runs dbt, with just on the search path: a ✔ naming it."""
    (isolated / "justfile").write_text(DBT_RECIPE)
    tools = tmp_path / "tools"
    tools.mkdir()
    just = tools / "just"
    just.write_text("#!/bin/sh\n")
    just.chmod(0o755)
    result = check_just(search_path=str(tools))
    assert (result.status, result.detail) == (Status.OK, f"{just} (./justfile runs dbt)")


# --- .env and git -----------------------------------------------------------------------


def git(folder: Path, *args: str) -> None:
    """Run git in `folder`, failing the test if it fails."""
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


@pytest.fixture
def repository(isolated: Path) -> Path:
    """The test's folder as a fresh git work tree holding a .env file."""
    git(isolated, "init", "-q")
    (isolated / ".env").write_text("FF_ALERT_USERNAME=Doctor\n")
    return isolated


def test_env_not_ignored_by_git_fails_with_the_fix(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A .env that git would commit is a ✘ saying to add it to .gitignore; exit 1."""
    code, output = doctor_output(capsys)
    assert code == 1
    assert "✘ .env kept out of git    .env is not ignored by git" in output
    assert "fix: add a line `.env` to .gitignore" in output


def test_env_ignored_by_git_passes(repository: Path) -> None:
    """A .env listed in .gitignore is a ✔."""
    (repository / ".gitignore").write_text(".env\n")
    result = check(".env kept out of git")
    assert (result.status, result.detail) == (Status.OK, ".env is ignored by git")


def test_env_committed_to_git_fails(repository: Path) -> None:
    """A .env already committed is a ✘ saying to untrack it and replace its secrets."""
    git(repository, "add", ".env")
    (repository / ".gitignore").write_text(".env\n")
    result = check(".env kept out of git")
    assert result.blocking
    assert "git rm --cached .env" in result.fix


def test_env_outside_git_is_skipped(isolated: Path) -> None:
    """A .env in a folder that is no git work tree is skipped with a note."""
    (isolated / ".env").write_text("FF_ALERT_USERNAME=Doctor\n")
    result = check(".env kept out of git")
    assert (result.status, result.detail) == (Status.SKIP, ".env is not in a git work tree")


# --- secrets, end to end ----------------------------------------------------------------


def test_no_secret_is_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With every secret set and the checks using them failing, no output holds a secret."""
    monkeypatch.setenv("PREFECT_API_URL", f"http://{AUTH_STRING}@127.0.0.1:9/api?key={API_KEY}")
    monkeypatch.setenv("PREFECT_API_KEY", API_KEY)
    monkeypatch.setenv("PREFECT_API_AUTH_STRING", AUTH_STRING)
    with mock_discord_webhook(responses=[404]) as webhook:
        code, output = doctor_output(capsys, "--send-test")
    assert code == 1
    assert "✘ Discord test alert" in output
    assert "✘ Prefect API" in output
    assert webhook.token not in output
    assert_no_secret(output)


def test_no_secret_is_printed_by_a_fresh_process(
    guarded_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The installed command, against a server rejecting the key, prints no secret."""
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", f"https://example.com/webhooks/1/{TOKEN}")
    monkeypatch.setenv("PREFECT_API_URL", guarded_api)
    monkeypatch.setenv("PREFECT_API_KEY", API_KEY)
    done = run_doctor()
    assert done.returncode == 1, done.stderr
    assert "PREFECT_API_KEY was rejected" in done.stdout
    assert_no_secret(done.stdout + done.stderr)


def test_fresh_process_passes_against_a_live_api(
    prefect_test_harness: HarnessHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m ff_prefect_kit.cli._main doctor` against a live API exits 0."""
    monkeypatch.setenv("PREFECT_API_URL", prefect_test_harness.api_url)
    done = run_doctor()
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{prefect_test_harness.api_url} answers" in done.stdout
    assert "All required checks passed" in done.stdout
