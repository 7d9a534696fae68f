"""`doctor`: check that this machine can run the kit's flows, and say how to fix what is not.

`run_checks()` computes the results (a list of `CheckResult`) without printing;
`render()` prints them; `exit_code()` turns them into the command's exit status.

Required checks (a ✘ exits 1): Prefect loads and is a supported release; the
settings (environment and `.env`) parse; `PREFECT_API_URL`, when set, is an http(s)
URL whose `/health` answers, and the API accepts the credential Prefect would send
(`PREFECT_API_AUTH_STRING`, else `PREFECT_API_KEY`); `DISCORD_WEBHOOK_URL`, when set,
is a Discord webhook URL (and, with `--send-test`, Discord confirms a test alert);
`FF_DUCKDB_PATH`, when set, is a DuckDB file that opens read-only; the data folder
(`FF_DATA_DIR`) exists or can be created, and is writable; a `.env` file inside a
git work tree is ignored by git.

Optional checks (a miss is a ~ warning): no webhook (alerts go to the logs); dbt,
unless `FF_DBT_PROJECT_DIR` names a dbt project; `just`, unless the working directory
has a justfile; a DuckDB file locked by a writer (dbt), which is transient.

No check prints a secret: the webhook URL appears with its token hidden, a credential
never appears, and every line goes through `redact()` on its way out.
"""

from __future__ import annotations

import enum
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ff_prefect_kit._errors import DUCKDB_LOCK_TEXTS, JUST_HINT
from ff_prefect_kit.cli._api import api_client, prefect_value, shown_url
from ff_prefect_kit.cli._output import console, run_command

if TYPE_CHECKING:
    from rich.console import Console

    from ff_prefect_kit._settings import KitSettings

__all__ = ["CheckResult", "Status", "doctor", "exit_code", "render", "run_checks"]

_TIMEOUT = 5.0
_JUSTFILES = ("justfile", "Justfile", ".justfile")


class Status(enum.Enum):
    """How a check came out; the value is the symbol printed for it."""

    OK = "✔"
    WARN = "~"
    FAIL = "✘"
    SKIP = "-"


@dataclass(frozen=True)
class CheckResult:
    """One line of the report.

    Attributes:
        name: What was checked, e.g. `"Prefect API"`.
        status: How it came out.
        detail: What was found (never a secret).
        fix: What to do about a failure or a warning; empty when nothing is to do.
        required: Whether a `FAIL` makes the command exit 1.
    """

    name: str
    status: Status
    detail: str
    fix: str = ""
    required: bool = True

    @property
    def blocking(self) -> bool:
        """Whether this result makes the command fail."""
        return self.required and self.status is Status.FAIL


def _ok(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.OK, detail)


def _skip(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.SKIP, detail, required=False)


def _fail(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.FAIL, detail, fix)


def _warn(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.WARN, detail, fix, required=False)


def _describe(exc: BaseException) -> str:
    from ff_prefect_kit._errors import describe
    from ff_prefect_kit._secrets import redact

    return " ".join(redact(describe(exc)).split())


# --- versions -------------------------------------------------------------------------


def _check_versions() -> list[CheckResult]:
    from importlib.metadata import PackageNotFoundError, version

    from ff_prefect_kit._internals import SUPPORTED

    python = ".".join(str(part) for part in sys.version_info[:3])
    results = [_ok("Python", f"{python} ({sys.executable})")]
    try:
        results.append(_ok("ff-prefect-kit", version("ff-prefect-kit")))
    except PackageNotFoundError:
        results.append(
            _fail(
                "ff-prefect-kit",
                "imported, but not installed as a distribution",
                "install it: `uv sync` in a checkout, or `pip install ff-prefect-kit`",
            )
        )
    results.append(_check_prefect(SUPPORTED["prefect"]))
    return results


def _check_prefect(supported: str) -> CheckResult:
    from importlib.metadata import PackageNotFoundError, version

    from packaging.specifiers import SpecifierSet

    try:
        installed = version("prefect")
    except PackageNotFoundError:
        return _fail("Prefect", "not installed", f"install prefect{supported}")
    try:
        import prefect.settings

        # Prefect reads .env, prefect.toml and the profile on import, or on first use.
        prefect.settings.get_current_settings()
    except Exception as exc:
        return _fail(
            "Prefect",
            f"{installed} cannot load its settings: {_describe(exc)}",
            "Prefect reads .env and prefect.toml in this folder, and its profile "
            "(prefect profile inspect): make them valid (.env: UTF-8, one NAME=value a line)",
        )
    if installed not in SpecifierSet(supported):
        return _fail(
            "Prefect",
            f"{installed}, outside the supported {supported}",
            f"install prefect{supported}",
        )
    return _ok("Prefect", f"{installed} (supported: {supported})")


# --- settings -------------------------------------------------------------------------


def _settings_file() -> Path:
    return Path(os.environ.get("FF_ENV_FILE") or ".env")


def _load_settings(load: Callable[[], KitSettings]) -> tuple[KitSettings | None, CheckResult]:
    from ff_prefect_kit._errors import ConfigError

    name = "Settings"
    file = _settings_file()
    try:
        if file.is_file():
            file.read_bytes().decode("utf-8")
        settings = load()
    except UnicodeDecodeError as exc:
        return None, _fail(
            name,
            f"{file} is not UTF-8 text ({exc.reason} at byte {exc.start})",
            f"save {file} as UTF-8, one NAME=value a line",
        )
    except ConfigError as exc:
        return None, _fail(
            name,
            _describe(exc).removeprefix("ConfigError: "),
            "correct the variable named above in the environment or in .env",
        )
    except OSError as exc:
        return None, _fail(name, f"cannot read {file}: {_describe(exc)}", f"check {file}")
    source = f"the environment and {file}" if file.is_file() else "the environment (no .env)"
    return settings, _ok(name, f"read from {source}")


# --- Prefect API ----------------------------------------------------------------------


def _url_problem(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return "it does not start with http:// or https://"
    if not parts.hostname:
        return "it names no host"
    return None


def _credential() -> tuple[str, dict[str, str]]:
    """The credential Prefect's client sends, by name, and its header."""
    import base64

    if auth_string := prefect_value("PREFECT_API_AUTH_STRING"):
        token = base64.b64encode(auth_string.encode("utf-8")).decode("ascii")
        return "PREFECT_API_AUTH_STRING", {"Authorization": f"Basic {token}"}
    if api_key := prefect_value("PREFECT_API_KEY"):
        return "PREFECT_API_KEY", {"Authorization": f"Bearer {api_key}"}
    return "", {}


def _check_api(timeout: float) -> list[CheckResult]:
    name, auth = "Prefect API", "Prefect API credential"
    try:
        url = prefect_value("PREFECT_API_URL")
    except Exception as exc:  # Prefect failed to load: its own row says why
        return [_skip(name, f"Prefect's settings could not be read ({_describe(exc)})")]
    if not url:
        return [
            _ok(name, "PREFECT_API_URL is not set: runs use Prefect's local ephemeral API"),
            _skip(auth, "no API to sign in to"),
        ]
    shown = shown_url(url)
    if problem := _url_problem(url):
        return [
            _fail(
                name,
                f"PREFECT_API_URL={shown} is not a URL the client can use: {problem}",
                "set it to http://127.0.0.1:4200/api for `prefect server start`, or to "
                "https://api.prefect.cloud/api/accounts/<account_id>/workspaces/<workspace_id>"
                " for Prefect Cloud; unset it to use the local ephemeral API",
            ),
            _skip(auth, "no usable API URL"),
        ]
    import httpx

    base = url.rstrip("/")
    with api_client(url, timeout) as client:
        try:
            health = client.get(f"{base}/health")
        except httpx.HTTPError as exc:
            return [
                _fail(
                    name,
                    f"{shown} is not reachable ({_describe(exc)})",
                    "start that server (`prefect server start`), fix PREFECT_API_URL, or "
                    "unset it to use the local ephemeral API",
                ),
                _skip(auth, "the API did not answer"),
            ]
        if health.status_code != 200:
            return [
                _fail(
                    name,
                    f"{shown}/health answered HTTP {health.status_code}",
                    "check that PREFECT_API_URL is the API's URL, ending in /api (or in "
                    "/workspaces/<workspace_id> for Prefect Cloud)",
                ),
                _skip(auth, "the API is not healthy"),
            ]
        reached = _ok(name, f"{shown} answers")
        return [reached, _check_credential(client, base)]


def _check_credential(client: Any, base: str) -> CheckResult:
    import httpx

    name = "Prefect API credential"
    variable, headers = _credential()
    try:
        answer = client.post(f"{base}/flows/filter", json={"limit": 1}, headers=headers)
    except httpx.HTTPError as exc:
        return _fail(name, f"the signed-in request failed ({_describe(exc)})", "run again")
    if answer.status_code in (401, 403):
        if not variable:
            return _fail(
                name,
                f"the API requires a credential (HTTP {answer.status_code}) and none is set",
                "set PREFECT_API_KEY (Prefect Cloud) or PREFECT_API_AUTH_STRING (a server "
                "started with PREFECT_SERVER_API_AUTH_STRING) in the environment or .env",
            )
        return _fail(
            name,
            f"{variable} was rejected (HTTP {answer.status_code}; value hidden)",
            f"set {variable} to the credential this API accepts"
            + (
                " (the server's PREFECT_SERVER_API_AUTH_STRING, as user:password)"
                if variable == "PREFECT_API_AUTH_STRING"
                else " (a current key from Prefect Cloud, Settings > API keys)"
            ),
        )
    if not answer.is_success:
        return _fail(
            name,
            f"a signed-in request answered HTTP {answer.status_code}",
            "check that PREFECT_API_URL names the right server or workspace",
        )
    if variable:
        return _ok(name, f"{variable} accepted")
    return _ok(name, "the API needs no credential")


# --- Discord --------------------------------------------------------------------------


def _check_webhook(settings: KitSettings | None, send_test: bool) -> list[CheckResult]:
    from ff_prefect_kit._errors import ConfigError
    from ff_prefect_kit._secrets import redact
    from ff_prefect_kit.alerts import validate_webhook_url

    name, sent = "Discord webhook", "Discord test alert"
    if settings is None:
        results = [_skip(name, "the settings could not be read")]
        return [*results, _skip(sent, "the settings could not be read")] if send_test else results
    if settings.discord_webhook_url is None:
        warning = _warn(
            name,
            "DISCORD_WEBHOOK_URL is not set: alerts are written to the run logs and the console",
            "set DISCORD_WEBHOOK_URL in .env to get alerts in Discord",
        )
        if not send_test:
            return [warning]
        return [
            warning,
            _fail(
                sent,
                "not sent: DISCORD_WEBHOOK_URL is not set",
                "set DISCORD_WEBHOOK_URL in the environment or .env, then run again",
            ),
        ]
    try:
        url = validate_webhook_url(settings.discord_webhook_url)
    except ConfigError as exc:
        failure = _fail(
            name,
            _describe(exc).removeprefix("ConfigError: ").partition(". ")[0],
            "copy the webhook's URL from the Discord channel's Integrations > Webhooks "
            "settings into DISCORD_WEBHOOK_URL (in the environment or .env)",
        )
        return [failure, _skip(sent, "the webhook URL is malformed")] if send_test else [failure]
    results = [_ok(name, f"configured ({redact(url.get_secret_value())})")]
    if send_test:
        results.append(_send_test(url.get_secret_value(), settings.alert_username))
    return results


class _Collect(logging.Handler):
    """Keep the messages the Discord client logs, to name the failure in the report."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _send_test(url: str, username: str) -> CheckResult:
    import socket

    from ff_prefect_kit._secrets import redact
    from ff_prefect_kit.alerts import Alert, DiscordClient, Severity, build_payload

    name = "Discord test alert"
    # A logger of the check's own: not registered with logging, so nothing is printed
    # twice and nothing else sees the client's messages.
    logger = logging.Logger("ff_prefect_kit.doctor")
    collected = _Collect()
    logger.addHandler(collected)
    client = DiscordClient(url, username=username, logger=logger)
    alert = Alert(
        severity=Severity.INFO,
        title="Test alert from ff-prefect-kit doctor",
        description="Alerts from this machine reach this channel.",
        fields=(("Host", socket.gethostname()), ("Sent by", "ff-prefect-kit doctor --send-test")),
    )
    payload = build_payload(alert.redacted(), username=client.username)
    if client.deliver(payload):
        return _ok(name, f"Discord confirmed the test alert ({client.redacted_url})")
    reason = redact(collected.messages[-1]) if collected.messages else "no answer"
    return _fail(
        name,
        f"Discord did not confirm the test alert: {reason}",
        "a 401 or 404 means the webhook was deleted or its URL mistyped: create a new one "
        "in the channel's Integrations > Webhooks and put its URL in DISCORD_WEBHOOK_URL",
    )


# --- files ----------------------------------------------------------------------------


def _check_duckdb(settings: KitSettings | None) -> CheckResult:
    name = "DuckDB file"
    if settings is None:
        return _skip(name, "the settings could not be read")
    if settings.duckdb_path is None:
        return _skip(name, "FF_DUCKDB_PATH is not set (mart loaders then need a path)")
    path = Path(settings.duckdb_path)
    build = "build the marts (`dbt build`) to create it, or point FF_DUCKDB_PATH at the file"
    if not path.exists():
        return _fail(name, f"FF_DUCKDB_PATH={path} does not exist", build)
    if not path.is_file():
        return _fail(name, f"FF_DUCKDB_PATH={path} is not a file", build)
    return _open_duckdb(name, path)


def _open_duckdb(name: str, path: Path) -> CheckResult:
    try:
        import duckdb

        with duckdb.connect(str(path), read_only=True) as connection:
            row = connection.execute("select count(*) from information_schema.tables").fetchone()
    except Exception as exc:
        text = _describe(exc)
        if any(marker in text for marker in DUCKDB_LOCK_TEXTS):
            return _warn(
                name,
                f"{path} is locked by another process",
                "a writer (usually dbt) holds it: run doctor again when it is done",
            )
        return _fail(
            name,
            f"{path} does not open read-only: {text}",
            "point FF_DUCKDB_PATH at the database dbt-duckdb writes (its profiles.yml `path`)",
        )
    tables = row[0] if row else 0
    return _ok(name, f"{path} opens read-only ({tables} tables and views)")


def _writable(folder: Path) -> str | None:
    """Why `folder` cannot take a new file, or `None` when it can (tried, not guessed)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def _check_data_dir(settings: KitSettings | None) -> CheckResult:
    name = "Data folder"
    if settings is None:
        return _skip(name, "the settings could not be read")
    path = Path(settings.data_dir)
    fix = "set FF_DATA_DIR to a folder you can write, or fix the permissions"
    if path.is_dir():
        if problem := _writable(path):
            return _fail(name, f"FF_DATA_DIR={path} is not writable ({problem})", fix)
        return _ok(name, f"{path} is writable")
    if path.exists():
        return _fail(name, f"FF_DATA_DIR={path} is not a folder", fix)
    if problem := _uncreatable(path):
        return _fail(name, f"FF_DATA_DIR={path} cannot be created: {problem}", fix)
    return _ok(name, f"{path} does not exist yet; it is created on the first write")


def _uncreatable(path: Path) -> str | None:
    """Why folder `path` cannot be made, or `None`; nothing is created to find out."""
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is a file"
    if problem := _writable(ancestor):
        return f"{ancestor} is not writable ({problem})"
    return None


def _env_files() -> list[Path]:
    candidates = [Path(".env"), _settings_file()]
    files: list[Path] = []
    for file in candidates:
        if file.is_file() and file.resolve() not in {f.resolve() for f in files}:
            files.append(file)
    return files


def _git(git: str, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [git, "-C", str(folder), *args], capture_output=True, text=True, check=False
    )


def _check_env_ignored() -> list[CheckResult]:
    name = ".env kept out of git"
    files = _env_files()
    if not files:
        return [_skip(name, "no .env file")]
    git = shutil.which("git")
    if git is None:
        return [_skip(name, "git is not installed: cannot tell whether .env is ignored")]
    return [_check_ignored(name, git, file) for file in files]


def _check_ignored(name: str, git: str, file: Path) -> CheckResult:
    folder, base = file.absolute().parent, file.name
    inside = _git(git, folder, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        why = inside.stderr.strip().splitlines()[-1] if inside.stderr.strip() else ""
        if why and "not a git repository" not in why:
            return _skip(name, f"git cannot read the repository of {file}: {why}")
        return _skip(name, f"{file} is not in a git work tree")
    if _git(git, folder, "ls-files", "--error-unmatch", "--", base).returncode == 0:
        return _fail(
            name,
            f"{file} is committed to git: its secrets are in the history",
            f"`git rm --cached {base}`, add {base} to .gitignore, and replace every secret "
            "it held (webhook, API key)",
        )
    ignored = _git(git, folder, "check-ignore", "-q", "--", base)
    if ignored.returncode == 0:
        return _ok(name, f"{file} is ignored by git")
    if ignored.returncode == 1:
        return _fail(
            name,
            f"{file} is not ignored by git: `git add .` would commit its secrets",
            f"add a line `{base}` to .gitignore",
        )
    return _warn(name, f"git check-ignore failed: {ignored.stderr.strip()}", "check the repo")


# --- dbt and just ---------------------------------------------------------------------


def _check_dbt(settings: KitSettings | None) -> list[CheckResult]:
    import importlib.util
    import warnings
    from importlib.metadata import PackageNotFoundError, version

    name = "dbt"
    project = settings.dbt_project_dir if settings is not None else None
    install = "install the kit's dbt extra: `pip install 'ff_prefect_kit[dbt]'`"
    try:
        # dbt's own import-time deprecation warnings are not the user's to act on.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            found = importlib.util.find_spec("dbt.cli.main") is not None
        core = version("dbt-core")
    except (ImportError, PackageNotFoundError, ValueError):
        found, core = False, ""
    if not found:
        if project is not None:
            return [
                _fail(name, f"not installed, and FF_DBT_PROJECT_DIR={project} needs it", install)
            ]
        return [_warn(name, "not installed (needed only to build the marts)", install)]
    try:
        adapter = f" with dbt-duckdb {version('dbt-duckdb')}"
    except PackageNotFoundError:
        adapter = " without dbt-duckdb"
    results = [
        _ok(name, f"dbt-core {core}{adapter}")
        if "with" in adapter
        else _warn(name, f"dbt-core {core}{adapter} (the marts need it)", install)
    ]
    if project is not None:
        results.append(_check_dbt_project(Path(project)))
        results += _check_relative_duckdb(settings, Path(project))
    return results


def _check_relative_duckdb(settings: KitSettings | None, project: Path) -> list[CheckResult]:
    """A relative FF_DUCKDB_PATH that the flows and dbt would read as two files."""
    from ff_prefect_kit._settings import diverging_duckdb_paths

    if settings is None:
        return []
    # dbt is taken to see the same setting, as a `just` recipe loading .env does.
    paths = diverging_duckdb_paths(settings.duckdb_path, settings.duckdb_path, project)
    if paths is None:
        return []
    here, there = paths
    return [
        _warn(
            "DuckDB path",
            f"FF_DUCKDB_PATH={settings.duckdb_path} is relative: the mart loaders open {here}, "
            f"a dbt profile reading it (dbt runs in {project}) opens {there}",
            f"set FF_DUCKDB_PATH to an absolute path, e.g. FF_DUCKDB_PATH={here}",
        )
    ]


def _check_dbt_project(project: Path) -> CheckResult:
    name = "dbt project"
    if (project / "dbt_project.yml").is_file():
        return _ok(name, f"{project} holds dbt_project.yml")
    return _fail(
        name,
        f"FF_DBT_PROJECT_DIR={project} holds no dbt_project.yml",
        "point FF_DBT_PROJECT_DIR at the folder with dbt_project.yml",
    )


def _check_just() -> CheckResult:
    name = "just"
    # As the dbt runner looks for it: this interpreter's scripts folder first.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("just", path=path)
    justfile = next((f for f in _JUSTFILES if Path(f).is_file()), None)
    if found is not None:
        return _ok(name, found)
    if justfile is not None:
        return _fail(name, f"not found on PATH, and ./{justfile} needs it", JUST_HINT)
    return _warn(name, "not found on PATH (needed only to run justfile recipes)", JUST_HINT)


# --- the report -----------------------------------------------------------------------


def run_checks(
    *,
    send_test: bool = False,
    settings: Callable[[], KitSettings] | None = None,
    timeout: float = _TIMEOUT,
) -> list[CheckResult]:
    """Check the setup and return one result per check, printing nothing.

    Args:
        send_test: Also send one test alert to `DISCORD_WEBHOOK_URL`.
        settings: How to read the kit's settings; default `KitSettings()`.
        timeout: Seconds each request to the Prefect API may take.

    Returns:
        The results, in the order they are printed.
    """
    if settings is None:
        from ff_prefect_kit._settings import KitSettings

        settings = KitSettings
    results = _check_versions()
    loaded, settings_result = _load_settings(settings)
    results.append(settings_result)
    results += _check_api(timeout)
    results += _check_webhook(loaded, send_test)
    results += [_check_duckdb(loaded), _check_data_dir(loaded)]
    results += _check_dbt(loaded)
    results.append(_check_just())
    results += _check_env_ignored()
    return results


def exit_code(results: list[CheckResult]) -> int:
    """1 when a required check failed, else 0."""
    return 1 if any(result.blocking for result in results) else 0


_STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red", Status.SKIP: "dim"}


def render(results: list[CheckResult], out: Console) -> None:
    """Print the results as aligned lines, each failure and warning with its fix."""
    from rich.text import Text

    from ff_prefect_kit._secrets import redact

    width = max((len(result.name) for result in results), default=0)
    for result in results:
        symbol = result.status.value
        line = Text.assemble(
            (symbol, _STYLE[result.status]), f" {result.name:<{width}}  ", redact(result.detail)
        )
        if result.status is Status.FAIL and not result.required:
            line.append(" (optional)")
        out.print(line)
        if result.fix and result.status in (Status.FAIL, Status.WARN):
            out.print(Text(f"  {'':<{width}}  fix: {redact(result.fix)}"))
    failed = sum(result.blocking for result in results)
    warned = sum(result.status is Status.WARN for result in results)
    summary = (
        f"{failed} required check{'s' if failed != 1 else ''} failed"
        if failed
        else "All required checks passed"
    )
    if warned:
        summary += f"; {warned} warning{'s' if warned != 1 else ''}"
    out.print()
    out.print(Text(f"{summary}.  (✔ passed, ~ warning, ✘ failed, - skipped)"))


def doctor(
    ctx: typer.Context,
    send_test: Annotated[
        bool,
        typer.Option(
            "--send-test",
            help="Also send one test alert to DISCORD_WEBHOOK_URL; fail if Discord does "
            "not confirm it.",
        ),
    ] = False,
) -> int:
    """Check this setup and say how to fix what is wrong.

    Checks the Python, Prefect and kit versions, the Prefect API (PREFECT_API_URL) and
    its credential, the Discord webhook, the DuckDB file, the data folder, dbt, just,
    and that .env is ignored by git. Prints ✔ passed, ~ warning (an optional part
    is missing), ✘ failed, each ~ and ✘ with its fix. Exits 1 when a required check
    failed. Prints no secret.
    """

    def run() -> int:
        results = run_checks(send_test=send_test)
        render(results, console())
        return exit_code(results)

    return run_command(ctx, run)
