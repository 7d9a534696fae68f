"""Checks of the releases: Python, the kit, and Prefect (loads its settings, is supported)."""

from __future__ import annotations

import sys

from ff_prefect_kit.cli._doctor._result import CheckResult, describe, fail, ok

__all__ = ["check_versions"]


def check_versions() -> list[CheckResult]:
    from importlib.metadata import PackageNotFoundError, version

    from ff_prefect_kit._internals import SUPPORTED

    python = ".".join(str(part) for part in sys.version_info[:3])
    results = [ok("Python", f"{python} ({sys.executable})")]
    try:
        results.append(ok("ff-prefect-kit", version("ff-prefect-kit")))
    except PackageNotFoundError:
        results.append(
            fail(
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
        return fail("Prefect", "not installed", f"install prefect{supported}")
    try:
        import prefect.settings

        # Prefect reads .env, prefect.toml and the profile on import, or on first use.
        prefect.settings.get_current_settings()
    except Exception as exc:
        return fail(
            "Prefect",
            f"{installed} cannot load its settings: {describe(exc)}",
            "Prefect reads .env and prefect.toml in this folder, and its profile "
            "(prefect profile inspect): make them valid (.env: UTF-8, one NAME=value a line)",
        )
    if installed not in SpecifierSet(supported):
        return fail(
            "Prefect",
            f"{installed}, outside the supported {supported}",
            f"install prefect{supported}",
        )
    return ok("Prefect", f"{installed} (supported: {supported})")
