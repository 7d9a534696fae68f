"""The dbt runner: `run_dbt_models` builds dbt models in-process or through a command.

Needs the `dbt` extra (`ff_prefect_kit[dbt]`); dbt is imported only when a run starts.
"""

from ff_prefect_kit._exports import publish as _publish
from ff_prefect_kit.dbt._runner import DbtNodeResult, DbtRunResult, run_dbt_models

__all__ = ["DbtNodeResult", "DbtRunResult", "run_dbt_models"]

_publish(globals(), __all__)
