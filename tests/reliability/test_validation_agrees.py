"""The validation gives Pydantic's verdict, row for row, on random models and frames."""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from pydantic import (
    AliasChoices,
    AliasPath,
    BaseModel,
    ConfigDict,
    Field,
    PydanticUserError,
    ValidationError,
    create_model,
)
from pydantic_core import SchemaError

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


# --- any model, any frame --------------------------------------------------------------
#
# Models of every field type the columnar compiler knows (and some it declines), every
# kind of alias and the config switches that decide which keys Pydantic reads, over
# frames of every dtype a mart gives, with the values at the edges (huge integers,
# NaN, infinities, subnormals, the Int64 and float64 limits).

INT_RANGES = {
    pl.Int8: (-(2**7), 2**7 - 1),
    pl.Int16: (-(2**15), 2**15 - 1),
    pl.Int32: (-(2**31), 2**31 - 1),
    pl.Int64: (-(2**63), 2**63 - 1),
    pl.UInt8: (0, 2**8 - 1),
    pl.UInt16: (0, 2**16 - 1),
    pl.UInt32: (0, 2**32 - 1),
    pl.UInt64: (0, 2**64 - 1),
}
EDGE_INTS = [
    0,
    1,
    -1,
    2**31,
    2**53 + 1,
    10**18,
    10**18 + 1,
    2**63 - 1,
    -(2**63),
    2**64 - 1,
]
EDGE_FLOATS = [
    0.0,
    -0.0,
    0.5,
    2.0,
    1e18,
    float(2**53),
    float(2**53 + 2),
    9.3e18,
    1.8e19,
    1e308,
    -1e308,
    5e-324,
    math.nan,
    math.inf,
    -math.inf,
]
# Bounds Pydantic accepts on a numeric field: small, fractional, past Int64 and float64's
# exact integers, and past float64 altogether.
NUMERIC_BOUNDS = st.one_of(
    st.integers(-60, 60),
    st.floats(-100, 100, allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [
            2**53 + 1,
            -(2**53) - 1,
            2**63 - 1,
            2**63,
            -(2**63),
            -(2**63) - 1,
            2**64,
            BIG,
            -BIG,
            2**1100,
            -(2**1100),
            1e18,
            -1e18,
            9.3e18,
            1.8e19,
            1e300,
            -1e300,
            2.5,
            -0.5,
            0.0,
            -0.0,
            5e-324,
        ]
    ),
)
MULTIPLES = st.sampled_from([1, 2, 3, 7, -3, 2**40, 0.5, 0.1, 2.0, 3.0, 1e-300, 1e300])
ALIAS_KEYS = st.sampled_from(["a", "b", "pts", "f0", "f1"])


class Colour(enum.Enum):
    """A plain enum of strings."""

    RED = "red"
    BLUE = "blue"


class Size(enum.IntEnum):
    """An integer enum."""

    S = 1
    L = 300


@dataclass
class Drawn:
    """One drawn field: its annotation, `Field` options, column dtype and values."""

    annotation: Any
    options: dict[str, Any]
    dtype: pl.DataType
    values: st.SearchStrategy[Any]


def _ints_in(dtype: Any) -> st.SearchStrategy[int]:
    low, high = INT_RANGES[dtype]
    edges = [v for v in (*EDGE_INTS, low, high, low + 1, high - 1) if low <= v <= high]
    return st.one_of(
        st.integers(-70, 70).filter(lambda v: low <= v <= high), st.sampled_from(edges)
    )


def _floats() -> st.SearchStrategy[float]:
    return st.one_of(
        st.floats(-150, 150),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(EDGE_FLOATS),
    )


def _numeric_options(draw: st.DrawFn) -> dict[str, Any]:
    return draw(
        st.fixed_dictionaries(
            {},
            optional={
                "ge": NUMERIC_BOUNDS,
                "gt": NUMERIC_BOUNDS,
                "le": NUMERIC_BOUNDS,
                "lt": NUMERIC_BOUNDS,
                "multiple_of": MULTIPLES,
            },
        )
    )


@st.composite
def any_int(draw: st.DrawFn) -> Drawn:
    dtype = draw(st.sampled_from([*INT_RANGES, pl.Float64, pl.String, pl.Boolean]))
    if dtype in INT_RANGES:
        values: st.SearchStrategy[Any] = _ints_in(dtype)
    elif dtype == pl.Float64:
        values = _floats()
    elif dtype == pl.String:
        values = st.sampled_from(["1", "12", "x", " 3", "1e3"])
    else:
        values = st.booleans()
    return Drawn(int, _numeric_options(draw), dtype(), values)


@st.composite
def any_float(draw: st.DrawFn) -> Drawn:
    dtype = draw(st.sampled_from([pl.Float64, pl.Float32, pl.Int64, pl.UInt64, pl.Int8]))
    values = _floats() if dtype in (pl.Float64, pl.Float32) else _ints_in(dtype)
    options = _numeric_options(draw)
    if draw(st.booleans()):
        options["allow_inf_nan"] = draw(st.booleans())
    return Drawn(float, options, dtype(), values)


@st.composite
def any_str(draw: st.DrawFn) -> Drawn:
    options = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "min_length": st.integers(0, 4),
                "max_length": st.integers(0, 6),
                "pattern": st.sampled_from([*PATTERNS, r"^(?!x)", r"a{2}", r"^$"]),
            },
        )
    )
    dtype = draw(st.sampled_from([pl.String, pl.String, pl.Categorical, pl.Int64]))
    values = (
        st.integers(-5, 5)
        if dtype == pl.Int64
        else st.text(st.sampled_from("aZé9_ -ß٣x\n"), max_size=7)
    )
    return Drawn(str, options, dtype(), values)


@st.composite
def any_choice(draw: st.DrawFn) -> Drawn:
    kind = draw(st.sampled_from(["literal-str", "literal-int", "enum", "int-enum", "bool"]))
    if kind == "literal-str":
        return Drawn(
            Literal["QB", "RB", "é"], {}, pl.String(), st.sampled_from(["QB", "RB", "é", "qb", ""])
        )
    if kind == "literal-int":
        dtype = draw(st.sampled_from([pl.Int8, pl.UInt8, pl.Int64, pl.UInt64]))
        return Drawn(Literal[-1, 2, 300], {}, dtype(), _ints_in(dtype))
    if kind == "enum":
        return Drawn(Colour, {}, pl.String(), st.sampled_from(["red", "blue", "RED", "green"]))
    if kind == "int-enum":
        dtype = draw(st.sampled_from([pl.Int16, pl.UInt8, pl.Int64]))
        return Drawn(Size, {}, dtype(), _ints_in(dtype))
    dtype = draw(st.sampled_from([pl.Boolean, pl.Boolean, pl.Int8]))
    return Drawn(bool, {}, dtype(), st.booleans() if dtype == pl.Boolean else _ints_in(dtype))


@st.composite
def any_moment(draw: st.DrawFn) -> Drawn:
    if draw(st.booleans()):
        dtype = draw(st.sampled_from([pl.Date(), pl.Datetime("us")]))
        values: st.SearchStrategy[Any] = (
            st.dates() if dtype == pl.Date else st.datetimes(dt.datetime(1900, 1, 1))
        )
        return Drawn(dt.date, {}, dtype, values)
    dtype = draw(
        st.sampled_from(
            [
                pl.Datetime("us"),
                pl.Datetime("ns"),
                pl.Datetime("ms"),
                pl.Datetime("us", "UTC"),
                pl.Date(),
            ]
        )
    )
    low, high = dt.datetime(1700, 1, 1), dt.datetime(2200, 1, 1)
    if dtype == pl.Date:
        values = st.dates(low.date(), high.date())
    elif getattr(dtype, "time_zone", None):
        values = st.datetimes(low, high, timezones=st.just(dt.UTC))
    else:
        values = st.datetimes(low, high)
    return Drawn(dt.datetime, {}, dtype, values)


@st.composite
def any_alias(draw: st.DrawFn, name: str) -> tuple[dict[str, Any], list[str]]:
    """The alias options of one field (none, or any form Pydantic takes), and their names."""
    kind = draw(
        st.sampled_from(
            ["none", "none", "alias", "validation", "choices", "choices-name", "path", "path-deep"]
        )
    )
    key, other = draw(ALIAS_KEYS), draw(ALIAS_KEYS)
    forms: dict[str, Callable[[], dict[str, Any]]] = {
        "none": dict,
        "alias": lambda: {"alias": key},
        "validation": lambda: {"validation_alias": key},
        "choices": lambda: {"validation_alias": AliasChoices(key, other)},
        "choices-name": lambda: {"validation_alias": AliasChoices(key, name)},
        "path": lambda: {"validation_alias": AliasPath(key)},
        "path-deep": lambda: {"validation_alias": AliasChoices(AliasPath(key, 0), other)},
    }
    return forms[kind](), [] if kind == "none" else [key, other]


CONFIGS = st.sampled_from(
    [
        {},
        {},
        {"validate_by_name": True},
        {"populate_by_name": True},
        {"validate_by_name": True, "validate_by_alias": False},
        {"alias_generator": str.upper},
        {"alias_generator": str.upper, "validate_by_name": True},
    ]
)


@st.composite
def any_model_and_frame(draw: st.DrawFn) -> tuple[type[BaseModel], pl.DataFrame]:
    """A model of 1-3 drawn fields and a frame keyed by names Pydantic may or may not read."""
    kinds = st.one_of(any_int(), any_float(), any_str(), any_choice(), any_moment())
    drawn = draw(st.lists(kinds, min_size=1, max_size=3))
    config = draw(CONFIGS)
    definitions: dict[str, Any] = {}
    names: list[list[str]] = []
    for number, field in enumerate(drawn):
        name = f"f{number}"
        optional = draw(st.booleans())
        annotation = field.annotation | None if optional else field.annotation
        alias, keys = draw(any_alias(name))
        names.append([*keys, name, name.upper(), "a"])
        options = {**field.options, **alias}
        if optional and draw(st.integers(0, 4)) == 0:
            options["default"] = None
        definitions[name] = (annotation, Field(**options))
    try:
        model = create_model(  # type: ignore[call-overload]
            "Drawn", __config__=ConfigDict(**config), **definitions
        )
    except (PydanticUserError, SchemaError, TypeError, ValueError):
        reject()  # a combination Pydantic itself refuses (e.g. `lt=2.5` on an int)
    rows = draw(st.integers(1, 8))
    columns: dict[str, pl.Series] = {}
    for number, field in enumerate(drawn):
        name = f"f{number}"
        for key in draw(st.lists(st.sampled_from(names[number]), max_size=2)):
            values = draw(st.lists(st.none() | field.values, min_size=rows, max_size=rows))
            try:
                series = pl.Series(key, values, dtype=field.dtype, strict=False)
            except (OverflowError, pl.exceptions.PolarsError):
                reject()
            columns.setdefault(key, series)
    if not columns:
        reject()
    return model, pl.DataFrame(list(columns.values()))


def _pydantic_verdict(model: type[BaseModel], frame: pl.DataFrame) -> tuple[set[int], list[Any]]:
    """The rows per-row `model_validate` rejects, and the models of the others."""
    failing, models = set(), []
    for number, row in enumerate(frame.to_dicts()):
        try:
            models.append(model.model_validate(row))
        except ValidationError:
            failing.add(number)
    return failing, models


def _kit_verdict(model: type[BaseModel], frame: pl.DataFrame) -> tuple[set[int], pl.DataFrame]:
    """The rows `validate_frame` rejects (a missing column fails them all), and its output."""
    try:
        return set(), validate_frame.fn(frame, model, extra_columns="drop")
    except SchemaValidationError as error:
        rows = error.failures["row"].to_list()
        if None in rows:
            return set(range(frame.height)), pl.DataFrame()
        return set(rows), pl.DataFrame()


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(any_model_and_frame())
def test_validate_frame_gives_pydantics_verdict_on_any_model_and_frame(
    case: tuple[type[BaseModel], pl.DataFrame],
) -> None:
    """Types, constraints, aliases and config switches: the same rows fail, the same values pass."""
    model, frame = case
    expected, models = _pydantic_verdict(model, frame)

    failing, output = _kit_verdict(model, frame)

    assert failing == expected
    if not failing:
        assert [{k: _plain(v) for k, v in row.items()} for row in output.to_dicts()] == [
            {k: _plain(v) for k, v in m.model_dump().items()} for m in models
        ]
