"""The package's public face: one name per operation, each shown under its package."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from tests.conftest import modules_after

import ff_prefect_kit

EXPECTED = {
    "ApiUnreachableError",
    "ConfigError",
    "DatabaseNotFoundError",
    "DbtRunError",
    "DiskFullError",
    "DiscordAlerts",
    "InvalidMartNameError",
    "InvalidOptionError",
    "KitError",
    "KitSettings",
    "MartLockedError",
    "MartNotFoundError",
    "MartReadError",
    "ObjectStoreError",
    "OutputPathError",
    "ParquetWriteError",
    "SchemaValidationError",
    "Severity",
    "UnresolvedTaskFailureError",
    "UnsupportedVersionError",
    "analytics_task",
    "load_dbt_mart",
    "monitored_flow",
    "run_dbt_models",
    "send_alert",
    "validate_frame",
    "write_parquet",
}
PACKAGES = ["core", "alerts", "data", "dbt", "testing", "cli"]
SRC = Path(ff_prefect_kit.__file__).parent


def test_all_lists_exactly_the_public_names() -> None:
    """`__all__` names every public name and nothing else."""
    public = {name for name in dir(ff_prefect_kit) if name.isidentifier() and name[0] != "_"}
    public -= set(PACKAGES)  # the capability packages, once imported
    assert set(ff_prefect_kit.__all__) == EXPECTED
    assert public == EXPECTED


@pytest.mark.parametrize("package", ["", *(f".{p}" for p in PACKAGES)])
def test_all_is_sorted(package: str) -> None:
    """Each package's `__all__` is sorted (constants, classes, functions), as ruff sorts it."""
    module = importlib.import_module(f"ff_prefect_kit{package}")

    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert module.__all__ == sorted(module.__all__, key=kind)


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_exports_what_it_imports(package: str) -> None:
    """A capability package's `__all__` lists every public name it holds."""
    module = importlib.import_module(f"ff_prefect_kit.{package}")
    public = {
        name
        for name, value in vars(module).items()
        if name[0] != "_" and not isinstance(value, type(module))
    }
    assert public == set(module.__all__)


def test_importing_the_kit_loads_neither_prefect_nor_its_packages() -> None:
    """`import ff_prefect_kit` is cheap: Prefect and the packages load on first use."""
    loaded = modules_after("ff_prefect_kit", ("prefect", "ff_prefect_kit"))
    assert loaded == ["ff_prefect_kit", "ff_prefect_kit._errors", "ff_prefect_kit._exports"]


def test_a_name_loads_on_first_use() -> None:
    """Each public name resolves to the object its module defines."""
    from ff_prefect_kit._templates import write_parquet

    assert ff_prefect_kit.write_parquet is write_parquet
    with pytest.raises(AttributeError, match="has no attribute 'read_mart'"):
        _ = ff_prefect_kit.read_mart


def test_every_kit_error_derives_from_kit_error() -> None:
    """Each exported exception is a `KitError`."""
    errors = [
        getattr(ff_prefect_kit, name)
        for name in ff_prefect_kit.__all__
        if name.endswith("Error") and name != "KitError"
    ]
    assert errors
    assert all(issubclass(e, ff_prefect_kit.KitError) for e in errors)


@pytest.mark.parametrize("package", ["", *(f".{p}" for p in PACKAGES)])
def test_public_objects_show_the_package_they_are_imported_from(package: str) -> None:
    """Tracebacks read `ff_prefect_kit.ConfigError`, not a private module's path."""
    module = importlib.import_module(f"ff_prefect_kit{package}")
    for name in module.__all__:
        value = getattr(module, name)
        if callable(value):
            # A name the top level exports too is shown there.
            home = "ff_prefect_kit" if name in ff_prefect_kit.__all__ else module.__name__
            assert value.__module__ == home, name


def test_a_kit_error_reads_as_the_package_in_its_repr() -> None:
    """`repr` of a raised error names it under the package."""
    assert repr(type(ff_prefect_kit.ConfigError("x"))) == "<class 'ff_prefect_kit.ConfigError'>"


def test_every_private_part_resolves_on_the_installed_releases() -> None:
    """Each private part the kit relies on exists in the installed Prefect, Pydantic, dbt."""
    from ff_prefect_kit._internals import check_all

    checked = list(check_all())
    assert "prefect task engine retry_delay_seconds[attempt]" in checked


def test_a_missing_private_part_names_what_was_looked_for() -> None:
    """A private name that is gone fails loudly, naming it and the supported releases."""
    from ff_prefect_kit._internals import private

    with pytest.raises(ff_prefect_kit.UnsupportedVersionError) as caught:
        private("prefect.context", "no_such_private_thing", "a test")
    message = str(caught.value)
    assert "prefect.context.no_such_private_thing (a test)" in message
    assert "prefect>=3.6.3,<4" in message
