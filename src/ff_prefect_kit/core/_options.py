"""Checking the options given to the decorators against Prefect's own."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from ff_prefect_kit._errors import InvalidOptionError

__all__ = ["check_options"]


def _keyword_options(decorator: Callable[..., Any]) -> frozenset[str]:
    params = inspect.signature(decorator).parameters
    return frozenset(name for name, p in params.items() if p.kind is p.KEYWORD_ONLY)


def check_options(
    factory: str,
    given: Iterable[str],
    prefect_decorator: Callable[..., Any],
    own: Iterable[str] = (),
) -> None:
    """Raise naming the first option that neither Prefect's decorator nor the kit knows.

    Args:
        factory: The kit's decorator, for the message (`"analytics_task"`).
        given: The options passed.
        prefect_decorator: `prefect.task` or `prefect.flow`, whose keyword options pass through.
        own: Options the kit's decorator adds.

    Raises:
        InvalidOptionError: An unknown option; the message suggests the nearest known one.
    """
    allowed = _keyword_options(prefect_decorator) | frozenset(own)
    for name in given:
        if name not in allowed:
            close = difflib.get_close_matches(name, sorted(allowed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InvalidOptionError(f"{factory}() got an unknown option {name!r}{hint}")
