"""Checks of the Prefect API: `PREFECT_API_URL` is usable and answers, and takes the credential.

Without `PREFECT_API_URL`, runs use Prefect's local ephemeral API, whose first start on a
new Prefect home migrates a fresh database: the check says whether
`PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS` gives it time. Each request has one total
deadline (`fetch`): an API trickling its answer is a ✘ naming it, not a hang.
"""

from __future__ import annotations

from typing import Any

from ff_prefect_kit.cli._api import api_client, fetch, prefect_value, shown_url, url_problem
from ff_prefect_kit.cli._doctor._result import CheckResult, describe, fail, ok, skip, warn

__all__ = ["check_api"]

_STARTUP = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"


def _credential() -> tuple[str, dict[str, str]]:
    """The credential Prefect's client sends, by name, and its header."""
    import base64

    if auth_string := prefect_value("PREFECT_API_AUTH_STRING"):
        token = base64.b64encode(auth_string.encode("utf-8")).decode("ascii")
        return "PREFECT_API_AUTH_STRING", {"Authorization": f"Basic {token}"}
    if api_key := prefect_value("PREFECT_API_KEY"):
        return "PREFECT_API_KEY", {"Authorization": f"Bearer {api_key}"}
    return "", {}


def check_api(timeout: float) -> list[CheckResult]:
    name, auth = "Prefect API", "Prefect API credential"
    try:
        url = prefect_value("PREFECT_API_URL")
    except Exception as exc:  # Prefect failed to load: its own row says why
        return [skip(name, f"Prefect's settings could not be read ({describe(exc)})")]
    if not url:
        return [
            ok(name, "PREFECT_API_URL is not set: runs use Prefect's local ephemeral API"),
            _check_startup_timeout(),
            skip(auth, "no API to sign in to"),
        ]
    shown = shown_url(url)
    if problem := url_problem(url):
        return [
            fail(
                name,
                f"PREFECT_API_URL={shown} is not a URL the client can use: {problem}",
                "set it to http://127.0.0.1:4200/api for `prefect server start`, or to "
                "https://api.prefect.cloud/api/accounts/<account_id>/workspaces/<workspace_id>"
                " for Prefect Cloud; unset it to use the local ephemeral API",
            ),
            skip(auth, "no usable API URL"),
        ]
    import httpx

    base = url.rstrip("/")
    with api_client(url, timeout) as client:
        try:
            health = fetch(client, "GET", f"{base}/health", timeout=timeout)
        except httpx.HTTPError as exc:
            fix = (
                "check that server (overloaded, or behind a slow proxy?), fix PREFECT_API_URL, "
                "or unset it to use the local ephemeral API"
                if isinstance(exc, httpx.TimeoutException)
                else "start that server (`prefect server start`), fix PREFECT_API_URL, or "
                "unset it to use the local ephemeral API"
            )
            return [
                fail(name, _unanswered(shown, exc, timeout), fix),
                skip(auth, "the API did not answer"),
            ]
        if health.status_code != 200:
            return [
                fail(
                    name,
                    f"{shown}/health answered HTTP {health.status_code}",
                    "check that PREFECT_API_URL is the API's URL, ending in /api (or in "
                    "/workspaces/<workspace_id> for Prefect Cloud)",
                ),
                skip(auth, "the API is not healthy"),
            ]
        reached = ok(name, f"{shown} answers")
        return [reached, _check_credential(client, base, shown, timeout)]


def _unanswered(shown: str, exc: Exception, timeout: float) -> str:
    """What went wrong with a request to the API at `shown`, for a result's detail."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return f"{shown} did not answer in full within {timeout:g} s"
    return f"{shown} is not reachable ({describe(exc)})"


def _check_startup_timeout() -> CheckResult:
    """Whether the ephemeral API's start-up timeout is raised to what `init` writes."""
    from ff_prefect_kit.cli._local_settings import LOCAL_SETTINGS

    name = "Local API start-up"
    advised = float(dict(LOCAL_SETTINGS)[_STARTUP])
    fix = (
        f"run `ff-prefect-kit init` in the project (it adds {_STARTUP}={advised:g} to .env), "
        "or point PREFECT_API_URL at a running server"
    )
    try:
        value = prefect_value(_STARTUP)
        seconds = float(value) if value is not None else None
    except Exception as exc:  # not a number, or Prefect could not read it
        return warn(name, f"{_STARTUP} could not be read ({describe(exc)})", fix)
    if seconds is not None and seconds >= advised:
        return ok(name, f"{_STARTUP} is {seconds:g} s: raised, a first start has time to migrate")
    shown = "unset" if seconds is None else f"{seconds:g} s"
    return warn(
        name,
        f"{_STARTUP} is {shown}, not raised to {advised:g} s: the first start on a new Prefect "
        "home migrates its database and can time out",
        fix,
    )


def _check_credential(client: Any, base: str, shown: str, timeout: float) -> CheckResult:
    import httpx

    name = "Prefect API credential"
    variable, headers = _credential()
    try:
        answer = fetch(
            client,
            "POST",
            f"{base}/flows/filter",
            timeout=timeout,
            json={"limit": 1},
            headers=headers,
        )
    except httpx.HTTPError as exc:
        return fail(
            name,
            f"the signed-in request failed: {_unanswered(f'{shown}/flows/filter', exc, timeout)}",
            "check that server (overloaded, or behind a slow proxy?), then run again",
        )
    if answer.status_code in (401, 403):
        if not variable:
            return fail(
                name,
                f"the API requires a credential (HTTP {answer.status_code}) and none is set",
                "set PREFECT_API_KEY (Prefect Cloud) or PREFECT_API_AUTH_STRING (a server "
                "started with PREFECT_SERVER_API_AUTH_STRING) in the environment or .env",
            )
        return fail(
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
        return fail(
            name,
            f"a signed-in request answered HTTP {answer.status_code}",
            "check that PREFECT_API_URL names the right server or workspace",
        )
    if variable:
        return ok(name, f"{variable} accepted")
    return ok(name, "the API needs no credential")
