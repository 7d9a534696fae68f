"""Checks of the Prefect API: `PREFECT_API_URL` is usable and answers, and takes the credential."""

from __future__ import annotations

from typing import Any

from ff_prefect_kit.cli._api import api_client, prefect_value, shown_url
from ff_prefect_kit.cli._doctor._result import CheckResult, describe, fail, ok, skip

__all__ = ["check_api"]


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


def check_api(timeout: float) -> list[CheckResult]:
    name, auth = "Prefect API", "Prefect API credential"
    try:
        url = prefect_value("PREFECT_API_URL")
    except Exception as exc:  # Prefect failed to load: its own row says why
        return [skip(name, f"Prefect's settings could not be read ({describe(exc)})")]
    if not url:
        return [
            ok(name, "PREFECT_API_URL is not set: runs use Prefect's local ephemeral API"),
            skip(auth, "no API to sign in to"),
        ]
    shown = shown_url(url)
    if problem := _url_problem(url):
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
            health = client.get(f"{base}/health")
        except httpx.HTTPError as exc:
            return [
                fail(
                    name,
                    f"{shown} is not reachable ({describe(exc)})",
                    "start that server (`prefect server start`), fix PREFECT_API_URL, or "
                    "unset it to use the local ephemeral API",
                ),
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
        return [reached, _check_credential(client, base)]


def _check_credential(client: Any, base: str) -> CheckResult:
    import httpx

    name = "Prefect API credential"
    variable, headers = _credential()
    try:
        answer = client.post(f"{base}/flows/filter", json={"limit": 1}, headers=headers)
    except httpx.HTTPError as exc:
        return fail(name, f"the signed-in request failed ({describe(exc)})", "run again")
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
