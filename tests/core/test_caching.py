"""frame_cache_key: a Polars-aware cache key for analytics tasks that opt into caching."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from prefect.exceptions import HashError

from ff_prefect_kit.core import frame_cache_key


def _key(params: dict[str, Any], task_key: str = "tasks.value-players") -> str:
    context = SimpleNamespace(task=SimpleNamespace(task_key=task_key))
    return frame_cache_key(context, params)  # type: ignore[arg-type]


@given(st.lists(st.integers(min_value=-(2**40), max_value=2**40), max_size=50))
def test_equal_frames_give_equal_keys(values: list[int]) -> None:
    """Two frames with the same schema and rows give the same key."""
    assert _key({"df": pl.DataFrame({"a": values})}) == _key({"df": pl.DataFrame({"a": values})})


def test_a_changed_value_changes_the_key() -> None:
    """Changing one value changes the key."""
    assert _key({"df": pl.DataFrame({"a": [1, 2, 3]})}) != _key(
        {"df": pl.DataFrame({"a": [1, 2, 4]})}
    )


def test_a_changed_dtype_changes_the_key() -> None:
    """The same values under another dtype give another key."""
    ints = pl.DataFrame({"a": [1, 2]}, schema={"a": pl.Int32})
    longs = pl.DataFrame({"a": [1, 2]}, schema={"a": pl.Int64})
    assert _key({"df": ints}) != _key({"df": longs})


def test_other_parameters_take_part() -> None:
    """Non-frame parameters are hashed too."""
    frame = pl.DataFrame({"a": [1]})
    assert _key({"df": frame, "season": 2024}) != _key({"df": frame, "season": 2025})


def test_tasks_never_share_keys() -> None:
    """The same inputs to two different tasks give different keys."""
    params = {"df": pl.DataFrame({"a": [1]})}
    assert _key(params, "tasks.a") != _key(params, "tasks.b")


def test_lazy_frames_hash_like_their_data() -> None:
    """A LazyFrame is keyed by the data it produces."""
    frame = pl.DataFrame({"a": [1, 2]})
    assert _key({"df": frame.lazy()}) == _key({"df": frame})


def test_unhashable_parameter_is_an_error() -> None:
    """A parameter Prefect cannot hash raises rather than silently sharing a key."""
    import threading

    with pytest.raises(HashError):
        _key({"lock": threading.Lock()})
