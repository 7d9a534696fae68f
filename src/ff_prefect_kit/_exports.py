"""Showing each public name under the package it is imported from."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

__all__ = ["publish"]

_TOP = "ff_prefect_kit"


def publish(namespace: MutableMapping[str, Any], names: Iterable[str]) -> None:
    """Set `__module__` of the classes, functions and tasks `names` to where users import them.

    A name the top-level package exports is shown as `ff_prefect_kit.<name>`, any other
    under the namespace's own package. Tracebacks and reprs then read
    `ff_prefect_kit.ConfigError`, not the private module it is defined in (as httpx
    does); pickling still works, since the package has the name.
    """
    top = getattr(sys.modules.get(_TOP), "__all__", ())
    for name in names:
        value = namespace[name]
        if callable(value):
            # A builtin or C type refuses the attribute: it keeps its own, and the
            # public-API test names it.
            with contextlib.suppress(AttributeError, TypeError):
                value.__module__ = _TOP if name in top else namespace["__name__"]
