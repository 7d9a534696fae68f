"""ff_prefect_kit: Prefect 3 as the foundation of fantasy-football analytics.

What an analytics flow author imports. Second-tier names live in the capability
packages: `ff_prefect_kit.core` (the decorators and their parts), `.alerts`, `.data`,
`.dbt`, `.testing` and `.cli`.

`import ff_prefect_kit` loads the exceptions only; each other name loads its package
(and Prefect) when first used, so a module that merely imports the kit stays cheap.
"""

from __future__ import annotations as _annotations

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from ff_prefect_kit._errors import (
    ApiUnreachableError,
    ConfigError,
    DatabaseNotFoundError,
    DbtRunError,
    DiskFullError,
    InvalidMartNameError,
    InvalidOptionError,
    KitError,
    MartLockedError,
    MartNotFoundError,
    MartReadError,
    ObjectStoreError,
    OutputPathError,
    ParquetWriteError,
    SchemaValidationError,
    UnresolvedTaskFailureError,
    UnsupportedVersionError,
)
from ff_prefect_kit._exports import publish as _publish

if _TYPE_CHECKING:
    from ff_prefect_kit._settings import KitSettings
    from ff_prefect_kit._templates import (
        load_dbt_mart,
        run_dbt_models,
        validate_frame,
        write_parquet,
    )
    from ff_prefect_kit.alerts import DiscordAlerts, Severity, send_alert
    from ff_prefect_kit.core import analytics_task, monitored_flow

__all__ = [
    "ApiUnreachableError",
    "ConfigError",
    "DatabaseNotFoundError",
    "DbtRunError",
    "DiscordAlerts",
    "DiskFullError",
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
]

_LAZY = {
    "DiscordAlerts": "ff_prefect_kit.alerts",
    "KitSettings": "ff_prefect_kit._settings",
    "Severity": "ff_prefect_kit.alerts",
    "analytics_task": "ff_prefect_kit.core",
    "load_dbt_mart": "ff_prefect_kit._templates",
    "monitored_flow": "ff_prefect_kit.core",
    "run_dbt_models": "ff_prefect_kit._templates",
    "send_alert": "ff_prefect_kit.alerts",
    "validate_frame": "ff_prefect_kit._templates",
    "write_parquet": "ff_prefect_kit._templates",
}
_PACKAGES = frozenset({"alerts", "cli", "core", "data", "dbt", "testing"})


def __getattr__(name: str) -> _Any:
    if name in _PACKAGES:
        return _importlib.import_module(f"{__name__}.{name}")
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    _publish(globals(), [name])
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


_publish(globals(), [name for name in __all__ if name not in _LAZY])
