"""The `ff-prefect-kit` command line."""

from ff_prefect_kit._exports import publish as _publish
from ff_prefect_kit.cli._main import main

__all__ = ["main"]

_publish(globals(), __all__)
