"""Running every check in the report's order, the exit status, and the typer command."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from ff_prefect_kit.cli._doctor._discord import check_webhook
from ff_prefect_kit.cli._doctor._git import check_env_ignored
from ff_prefect_kit.cli._doctor._prefect_api import check_api
from ff_prefect_kit.cli._doctor._render import render
from ff_prefect_kit.cli._doctor._result import CheckResult
from ff_prefect_kit.cli._doctor._settings import load_settings
from ff_prefect_kit.cli._doctor._storage import check_bucket, check_data_dir, check_duckdb
from ff_prefect_kit.cli._doctor._tools import check_dbt, check_just
from ff_prefect_kit.cli._doctor._versions import check_versions
from ff_prefect_kit.cli._output import console, run_command

if TYPE_CHECKING:
    from ff_prefect_kit._settings import KitSettings

__all__ = ["doctor", "exit_code", "run_checks"]

_TIMEOUT = 5.0


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
        timeout: Seconds each request to the Prefect API may take, from connecting to
            the last byte of its answer.

    Returns:
        The results, in the order they are printed.
    """
    if settings is None:
        from ff_prefect_kit._settings import KitSettings

        settings = KitSettings
    results = check_versions()
    loaded, settings_result = load_settings(settings)
    results.append(settings_result)
    results += check_api(timeout)
    results += check_webhook(loaded, send_test)
    results += [check_duckdb(loaded), check_data_dir(loaded), check_bucket(loaded, timeout)]
    results += check_dbt(loaded)
    results.append(check_just())
    results += check_env_ignored()
    return results


def exit_code(results: list[CheckResult]) -> int:
    """1 when a required check failed, else 0."""
    return 1 if any(result.blocking for result in results) else 0


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
    its credential (or, without it, the local API's start-up timeout), the Discord
    webhook, the DuckDB file, the data folder, dbt, just (when a justfile recipe runs
    dbt), and that .env is ignored by git. Prints ✔ passed, ~ warning (an optional part
    is missing), ✘ failed, each ~ and ✘ with its fix. Exits 1 when a required check
    failed. Prints no secret.
    """

    def run() -> int:
        results = run_checks(send_test=send_test)
        render(results, console())
        return exit_code(results)

    return run_command(ctx, run)
