"""Compile a Pydantic model into Polars expressions that flag the rows it may reject.

`compile_checks` reads each field's type and constraints and builds, per column,
the expressions true where a row *may* be invalid (a superset of what Pydantic
rejects) and the expression that yields the conformed column. It returns `None`
for models it cannot express exactly (custom validators, nested aliases, exotic
types, strict or string-munging config, absent columns): those are validated by
Pydantic on every row. Pydantic has the last word either way, so nothing here
raises a validation error.

One module, over 350 lines, because each kind of field's checks (integers compared
exactly in the column's type, floats as Pydantic holds them, text, choices) answers to
one invariant, "flag a superset of what Pydantic rejects", which is easiest to check
when all of them are read together.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import math
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ff_prefect_kit._internals import has_custom_validation, pydantic_general_metadata
from ff_prefect_kit.data._keys import field_columns

if TYPE_CHECKING:
    import polars as pl
    from pydantic import BaseModel
    from pydantic.fields import FieldInfo

__all__ = ["ColumnCheck", "compile_checks"]

# Model settings that change how Pydantic reads a value the columnar checks read.
_UNSAFE_CONFIG = (
    "strict",
    "str_strip_whitespace",
    "str_to_lower",
    "str_to_upper",
    "str_min_length",
    "str_max_length",
    "regex_engine",
    "allow_inf_nan",
    "coerce_numbers_to_str",
)


@dataclass(frozen=True)
class ColumnCheck:
    """One field's checks: `flags` are true where a row may be invalid, `output` conforms it."""

    flags: list[pl.Expr]
    output: pl.Expr


def compile_checks(schema: type[BaseModel], dtypes: pl.Schema) -> list[ColumnCheck] | None:
    """One `ColumnCheck` per field of `schema` for a frame of `dtypes`, or `None`.

    `None` means a field, or the model's config, is beyond what Polars expressions
    can decide exactly, so Pydantic must see every row.
    """
    if has_custom_validation(schema) or any(schema.model_config.get(k) for k in _UNSAFE_CONFIG):
        return None
    checks = []
    for source in field_columns(schema, dtypes.names()):
        if source.column is None or not source.exact:
            # A default for an absent column, or a value found by a nested AliasPath in
            # some rows only: Pydantic's business.
            return None
        info = schema.model_fields[source.field]
        check = _field_check(source.column, info, dtypes[source.column])
        if check is None:
            return None
        checks.append(ColumnCheck(check.flags, check.output.alias(source.field)))
    return checks


def _split_annotation(annotation: Any) -> tuple[Any, bool, list[Any]]:
    """`(base type, nullable, extra metadata)` of a field's annotation."""
    nullable = False
    metadata: list[Any] = []
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        if len(args) != 1:
            return object, nullable, metadata
        annotation = args[0]
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *metadata = typing.get_args(annotation)
    return annotation, nullable, metadata


def _constraints(metadata: Sequence[Any]) -> list[tuple[str, Any]] | None:
    """Each constraint as `(name, value)`, every one kept (Pydantic applies them all)."""
    import annotated_types as at
    from pydantic.types import AllowInfNan

    found: list[tuple[str, Any]] = []
    for item in metadata:
        if isinstance(item, at.Gt | at.Ge | at.Lt | at.Le | at.MultipleOf):
            key = type(item).__name__.lower().replace("multipleof", "multiple_of")
            found.append((key, getattr(item, key)))
        elif isinstance(item, at.MinLen):
            found.append(("min_length", item.min_length))
        elif isinstance(item, at.MaxLen):
            found.append(("max_length", item.max_length))
        elif isinstance(item, AllowInfNan):
            found.append(("allow_inf_nan", item.allow_inf_nan))
        elif (extra := pydantic_general_metadata(item)) is not None:
            if set(extra) - {"pattern", "allow_inf_nan"}:
                return None
            found += [(k, v) for k, v in extra.items() if v is not None]
        else:
            return None  # a validator or a constraint the checks cannot read
    return found


def _field_check(name: str, info: FieldInfo, dtype: pl.DataType) -> ColumnCheck | None:
    """The checks of the field read from column `name`, or `None` if not exact."""
    import polars as pl

    base, nullable, inner = _split_annotation(info.annotation)
    constraints = _constraints([*info.metadata, *inner])
    if constraints is None:
        return None
    col = pl.col(name)
    flags: list[pl.Expr] = []
    if not nullable:
        flags.append(col.is_null())
    if dtype == pl.Null:
        return ColumnCheck(flags, col.cast(_output_dtype(base, dtype) or pl.Null))
    kind = _kind(base, dtype)
    if kind is None:
        return None
    value = col.cast(pl.Float64) if kind == "float" else col
    try:
        checks = _constraint_flags(value, kind, dtype, constraints)
    except _Unsupported:
        return None
    if kind == "literal":
        checks.append(_outside_choices(col, dtype, _choices(base)))
    # A null passes a nullable field whatever its constraints, and fails any other
    # through `is_null`: the constraint checks need not flag it.
    flags += [check.fill_null(False) for check in checks]
    output_dtype = _output_dtype(base, dtype)
    return ColumnCheck(flags, value if output_dtype is None else col.cast(output_dtype))


class _Unsupported(Exception):
    """A field the columnar checks cannot express exactly: Pydantic checks every row."""


def _choices(base: Any) -> list[Any]:
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return [member.value for member in base]
    return list(typing.get_args(base))


def _outside_choices(col: pl.Expr, dtype: pl.DataType, allowed: list[Any]) -> pl.Expr:
    """True where a value is none of `allowed` (only those the column's dtype can hold)."""
    import polars as pl

    if dtype.is_integer():
        low, high = _integer_range(dtype)
        allowed = [v for v in allowed if low <= v <= high]
    if not allowed:
        return col.is_not_null()
    return ~col.is_in(pl.Series(allowed, dtype=dtype))


def _kind(base: Any, dtype: pl.DataType) -> str | None:
    """How a column of `dtype` is checked for a field of type `base`, or `None`."""
    import polars as pl

    accepts: dict[Any, tuple[str, Callable[[pl.DataType], bool]]] = {
        bool: ("plain", lambda d: d == pl.Boolean),
        int: ("int", lambda d: d.is_integer()),
        float: ("float", lambda d: d.is_integer() or d.is_float()),
        str: ("str", lambda d: d == pl.String),
        dt.datetime: ("plain", lambda d: isinstance(d, pl.Datetime)),
        dt.date: ("plain", lambda d: d == pl.Date),
    }
    if base in accepts:
        kind, fits = accepts[base]
        return kind if fits(dtype) else None
    is_enum = isinstance(base, type) and issubclass(base, enum.Enum)
    if typing.get_origin(base) is not Literal and not is_enum:
        return None
    values = _choices(base)
    if values and all(type(v) is str for v in values):
        return "literal" if dtype == pl.String else None
    ints = all(type(v) is int for v in values)
    return "literal" if values and ints and dtype.is_integer() else None


_NUMERIC = ("gt", "ge", "lt", "le", "multiple_of")
_TEXTUAL = ("min_length", "max_length", "pattern")


def _constraint_flags(
    value: pl.Expr, kind: str, dtype: pl.DataType, constraints: list[tuple[str, Any]]
) -> list[pl.Expr]:
    """Expressions true where a constraint may be broken (a superset of Pydantic's)."""
    numeric = [(k, v) for k, v in constraints if k in _NUMERIC]
    textual = [(k, v) for k, v in constraints if k in _TEXTUAL]
    if (numeric and kind not in ("int", "float")) or (textual and kind != "str"):
        raise _Unsupported
    inf_nan = [v for k, v in constraints if k == "allow_inf_nan"]
    if inf_nan and kind != "float":
        raise _Unsupported
    flags: list[pl.Expr] = []
    if kind == "float":
        if False in inf_nan:
            flags.append(value.is_nan() | value.is_infinite())
        if numeric:
            # NaN compares greater than everything in Polars but fails every bound in
            # Pydantic: let Pydantic look at it.
            flags.append(value.is_nan())
        flags += [_float_flag(value, key, bound) for key, bound in numeric]
    elif kind == "int":
        flags += [_int_flag(value, dtype, key, bound) for key, bound in numeric]
    return flags + _text_flags(value, textual)


_BOUND_BROKEN: dict[str, Callable[[pl.Expr, Any], pl.Expr]] = {
    "gt": lambda v, b: v <= b,
    "ge": lambda v, b: v < b,
    "lt": lambda v, b: v >= b,
    "le": lambda v, b: v > b,
}


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _float_flag(value: pl.Expr, key: str, bound: Any) -> pl.Expr:
    """Where a float field's constraint may be broken.

    Pydantic holds a float field's bounds as float64 (`ge=2**53 + 1` is `2.0**53`) and
    compares float64 to float64, as Polars does once the bound is a float.
    """
    import polars as pl

    if not _is_number(bound):
        raise _Unsupported
    try:
        # + 0.0 makes -0.0 plain zero, which every comparison already treats as equal.
        limit = float(bound) + 0.0
    except OverflowError:
        raise _Unsupported from None
    if key in _BOUND_BROKEN:
        return _BOUND_BROKEN[key](value, pl.lit(limit, dtype=pl.Float64))
    if limit == 0 or not math.isfinite(limit):
        raise _Unsupported
    # Pydantic passes `v` when fmod(v, m) is within |v|/1e9 of 0 or of ±m. A value that
    # is exactly (in float64) a whole multiple of m is that close; anything else (a
    # rounded product, subnormals, NaN) is flagged for Pydantic to decide, since fmod's
    # remainder cannot be computed exactly here.
    exact = (value / limit).round(0) * limit == value
    normal = (value == 0) | (value.abs() >= _TINY)
    return ~(exact & normal)


# Below this, products lose the relative precision the multiple_of argument above needs.
_TINY = 2.0**-960


def _integer_range(dtype: pl.DataType) -> tuple[int, int]:
    import polars as pl

    info = {
        pl.Int8: 8,
        pl.Int16: 16,
        pl.Int32: 32,
        pl.Int64: 64,
        pl.Int128: 128,
        pl.UInt8: 8,
        pl.UInt16: 16,
        pl.UInt32: 32,
        pl.UInt64: 64,
    }
    bits = next((b for t, b in info.items() if dtype == t), None)
    if bits is None:
        raise _Unsupported
    if dtype.is_signed_integer():
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def _int_flag(value: pl.Expr, dtype: pl.DataType, key: str, bound: Any) -> pl.Expr:
    """Where an int field's constraint may be broken, compared exactly in the column's type.

    Pydantic holds an int field's bounds as integers (`le=1e18` is `10**18`; a bound
    with a fraction is refused when the model is built) and compares integers exactly.
    """
    if isinstance(bound, float):
        if not bound.is_integer():
            raise _Unsupported
        bound = int(bound)
    if not isinstance(bound, int) or isinstance(bound, bool):
        raise _Unsupported
    if key == "multiple_of":
        return _int_multiple_flag(value, dtype, bound)
    if key in ("gt", "ge"):
        return _at_or_past(value, dtype, bound if key == "gt" else bound - 1, side="below")
    return _at_or_past(value, dtype, bound if key == "lt" else bound + 1, side="above")


def _at_or_past(value: pl.Expr, dtype: pl.DataType, limit: int, *, side: str) -> pl.Expr:
    """`value <= limit` ("below") or `value >= limit` ("above"), in the column's type.

    A limit beyond the type's range holds for every value or for none.
    """
    import polars as pl

    low, high = _integer_range(dtype)
    if side == "below":
        if limit < low:
            return pl.lit(False)
        if limit >= high:
            return value.is_not_null()
        return value <= pl.lit(limit, dtype=dtype)
    if limit > high:
        return pl.lit(False)
    if limit <= low:
        return value.is_not_null()
    return value >= pl.lit(limit, dtype=dtype)


def _int_multiple_flag(value: pl.Expr, dtype: pl.DataType, step: int) -> pl.Expr:
    """Where an integer is not a multiple of `step` (exact, whatever the step's size)."""
    import polars as pl

    low, high = _integer_range(dtype)
    if step == 0:
        raise _Unsupported
    step = abs(step)  # divisibility does not depend on the sign
    if step > max(high, -low):
        return value != 0
    if step > high:  # a signed column's minimum: only 0 and the minimum divide
        return (value != 0) & (value != low)
    return value % pl.lit(step, dtype=dtype) != 0


def _text_flags(value: pl.Expr, constraints: list[tuple[str, Any]]) -> list[pl.Expr]:
    flags = []
    for key, limit in constraints:
        if key == "min_length":
            flags.append(value.str.len_chars() < limit)
        elif key == "max_length":
            flags.append(value.str.len_chars() > limit)
        else:
            # A compiled pattern is matched by Python's `re` in Pydantic, with its flags
            # (re.ASCII, re.IGNORECASE, ...): Polars' engine cannot promise the same verdict.
            if not isinstance(limit, str) or not _polars_accepts(limit):
                raise _Unsupported
            flags.append(~value.str.contains(limit))
    return flags


@functools.lru_cache(maxsize=256)
def _polars_accepts(pattern: str) -> bool:
    import polars as pl

    try:
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except Exception:
        # Lookarounds and backreferences: Pydantic falls back to Python's `re`.
        return False
    return True


def _output_dtype(base: Any, dtype: pl.DataType) -> pl.DataType | None:
    import polars as pl

    if base is float:
        return pl.Float64()
    if dtype == pl.Null:
        simple: dict[Any, pl.DataType] = {
            int: pl.Int64(),
            str: pl.String(),
            bool: pl.Boolean(),
            dt.date: pl.Date(),
        }
        return simple.get(base, pl.Null())
    return None
