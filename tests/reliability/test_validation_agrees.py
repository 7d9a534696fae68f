"""The columnar validation gives Pydantic's verdict, row for row, on random models and frames."""

from __future__ import annotations

import re
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError, create_model

from ff_prefect_kit import SchemaValidationError, validate_frame

PATTERNS: list[Any] = [
    r"^\w+$",
    r"^[A-Z]{2,3}$",
    r"\d",
    re.compile(r"^\w+$"),
    re.compile(r"^\w+$", re.ASCII),
    re.compile(r"^[a-z]+$", re.IGNORECASE),
]
BIG = 2**70

int_bounds = st.one_of(st.integers(-50, 50), st.sampled_from([BIG, -BIG, 2**1000]))
float_bounds = st.floats(-100, 100, allow_nan=False)


@st.composite
def int_field(draw: st.DrawFn) -> tuple[Any, Any, st.SearchStrategy[Any], pl.DataType]:
    options = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "ge": int_bounds,
                "le": int_bounds,
                "gt": int_bounds,
                "lt": int_bounds,
                "multiple_of": st.integers(1, 7),
            },
        )
    )
    values = st.one_of(st.none(), st.integers(-(2**40), 2**40), st.integers(-60, 60))
    return int | None, Field(default=..., **options), values, pl.Int64()


@st.composite
def float_field(draw: st.DrawFn) -> tuple[Any, Any, st.SearchStrategy[Any], pl.DataType]:
    options = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "ge": float_bounds,
                "le": float_bounds,
                "allow_inf_nan": st.booleans(),
            },
        )
    )
    values = st.one_of(st.none(), st.floats(-150, 150), st.sampled_from([float("inf"), 0.0]))
    return float | None, Field(default=..., **options), values, pl.Float64()


@st.composite
def str_field(draw: st.DrawFn) -> tuple[Any, Any, st.SearchStrategy[Any], pl.DataType]:
    options = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "min_length": st.integers(0, 4),
                "max_length": st.integers(0, 6),
                "pattern": st.sampled_from(PATTERNS),
            },
        )
    )
    values = st.one_of(st.none(), st.text(st.sampled_from("aZé9_ -ß٣"), max_size=7))
    return str | None, Field(default=..., **options), values, pl.String()


@st.composite
def models_and_frames(draw: st.DrawFn) -> tuple[type[BaseModel], pl.DataFrame]:
    kinds = st.one_of(int_field(), float_field(), str_field())
    fields = draw(st.lists(kinds, min_size=1, max_size=3))
    definitions = {f"f{i}": (annotation, info) for i, (annotation, info, _, _) in enumerate(fields)}
    model = create_model("Random", **definitions)  # type: ignore[call-overload]
    rows = draw(st.integers(1, 12))
    columns = {
        f"f{i}": pl.Series(f"f{i}", draw(st.lists(values, min_size=rows, max_size=rows)), dtype)
        for i, (_, _, values, dtype) in enumerate(fields)
    }
    return model, pl.DataFrame(columns)


def _pydantic_failures(model: type[BaseModel], frame: pl.DataFrame) -> set[int]:
    failing = set()
    for number, row in enumerate(frame.to_dicts()):
        try:
            model.model_validate(row)
        except ValidationError:
            failing.add(number)
    return failing


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(models_and_frames())
def test_the_columnar_path_rejects_exactly_the_rows_pydantic_rejects(
    case: tuple[type[BaseModel], pl.DataFrame],
) -> None:
    """Bounds, lengths, patterns (with flags), huge numbers: the same rows fail either way."""
    model, frame = case
    try:
        validate_frame.fn(frame, model)
    except SchemaValidationError as error:
        failing = {row for row in error.failures["row"].to_list() if row is not None}
    else:
        failing = set()
    assert failing == _pydantic_failures(model, frame)
