"""The dbt runner and its results; the task `ff_prefect_kit.run_dbt_models` runs it.

Needs the `dbt` extra (`ff_prefect_kit[dbt]`); dbt is imported only when a run starts.
"""

from ff_prefect_kit._exports import publish as _publish
from ff_prefect_kit.dbt._results import DbtNodeResult, DbtRunResult

__all__ = ["DbtNodeResult", "DbtRunResult"]

_publish(globals(), __all__)
