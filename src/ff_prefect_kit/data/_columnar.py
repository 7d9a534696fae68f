"""Compile a Pydantic model into Polars expressions that flag the rows it may reject.

`compile_checks` reads each field's type and constraints and builds, per column,
the expressions true where a row *may* be invalid (a superset of what Pydantic
rejects) and the expression that yields the conformed column. It returns `None`
for models it cannot express exactly (custom validators, aliases, nested or exotic
types, strict or string-munging config, absent columns): those are validated by
Pydantic on every row. Pydantic has the last word either way, so nothing here
raises a validation error.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ff_prefect_kit._internals import has_custom_validation, pydantic_general_metadata

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
    for name, info in schema.model_fields.items():
        if info.alias is not None or name not in dtypes:
            # Aliases and defaults for absent columns are Pydantic's business.
            return None
        check = _field_check(name, info, dtypes[name])
        if check is None:
            return None
        checks.append(check)
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


def _constraints(metadata: Sequence[Any]) -> dict[str, Any] | None:
    import annotated_types as at

    found: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, at.Gt | at.Ge | at.Lt | at.Le | at.MultipleOf):
            key = type(item).__name__.lower().replace("multipleof", "multiple_of")
            found[key] = getattr(item, key)
        elif isinstance(item, at.MinLen):
            found["min_length"] = item.min_length
        elif isinstance(item, at.MaxLen):
            found["max_length"] = item.max_length
        elif (extra := pydantic_general_metadata(item)) is not None:
            if set(extra) - {"pattern", "allow_inf_nan"}:
                return None
            found.update({k: v for k, v in extra.items() if v is not None})
        else:
            return None  # a validator or a constraint the checks cannot read
    return found


def _field_check(name: str, info: FieldInfo, dtype: pl.DataType) -> ColumnCheck | None:
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
        flags += _constraint_flags(value, kind, constraints)
    except _Unsupported:
        return None
    if kind == "literal":
        allowed = [m.value if isinstance(m, enum.Enum) else m for m in _choices(base)]
        flags.append(~col.is_in(allowed))
    output_dtype = _output_dtype(base, dtype)
    return ColumnCheck(flags, value.alias(name) if output_dtype is None else col.cast(output_dtype))


class _Unsupported(Exception):
    """A field the columnar checks cannot express exactly: Pydantic checks every row."""


def _choices(base: Any) -> list[Any]:
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return list(base)
    return list(typing.get_args(base))


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
    values = [m.value if isinstance(m, enum.Enum) else m for m in _choices(base)]
    if values and all(isinstance(v, str) for v in values):
        return "literal" if dtype == pl.String else None
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    return "literal" if values and ints and dtype.is_integer() else None


def _constraint_flags(value: pl.Expr, kind: str, c: dict[str, Any]) -> list[pl.Expr]:
    """Expressions true where a constraint may be broken (a superset of Pydantic's)."""
    numeric = {k: c[k] for k in ("gt", "ge", "lt", "le", "multiple_of") if k in c}
    textual = {k: c[k] for k in ("min_length", "max_length", "pattern") if k in c}
    if (numeric and kind not in ("int", "float")) or (textual and kind != "str"):
        raise _Unsupported
    if "allow_inf_nan" in c and kind != "float":
        raise _Unsupported
    flags: list[pl.Expr] = []
    if kind == "float":
        if c.get("allow_inf_nan") is False:
            flags.append(value.is_nan() | value.is_infinite())
        if numeric:
            # NaN compares greater than everything in Polars but fails every bound in
            # Pydantic: let Pydantic look at it.
            flags.append(value.is_nan())
    return flags + _numeric_flags(value, kind, numeric) + _text_flags(value, textual)


_BOUND_BROKEN: dict[str, Callable[[pl.Expr, Any], pl.Expr]] = {
    "gt": lambda v, b: v <= b,
    "ge": lambda v, b: v < b,
    "lt": lambda v, b: v >= b,
    "le": lambda v, b: v > b,
}


_INT64 = (-(2**63), 2**63 - 1)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numeric_flags(value: pl.Expr, kind: str, c: dict[str, Any]) -> list[pl.Expr]:
    flags = []
    for key, bound in c.items():
        if not _is_number(bound) or (
            isinstance(bound, int) and not _INT64[0] <= bound <= _INT64[1]
        ):
            # A bound Polars cannot hold as a literal: Pydantic checks every row.
            raise _Unsupported
        if key in _BOUND_BROKEN:
            flags.append(_BOUND_BROKEN[key](value, bound))
        elif kind == "int" and isinstance(bound, int):
            flags.append(value % bound != 0)
        elif bound != 0:
            # Pydantic tolerates rounding; flag anything not exact and let it decide.
            flags.append((value / bound).round(0) * bound != value)
        else:
            raise _Unsupported
    return flags


def _text_flags(value: pl.Expr, c: dict[str, Any]) -> list[pl.Expr]:
    flags = []
    if "min_length" in c:
        flags.append(value.str.len_chars() < c["min_length"])
    if "max_length" in c:
        flags.append(value.str.len_chars() > c["max_length"])
    if "pattern" in c:
        pattern = c["pattern"]
        # A compiled pattern is matched by Python's `re` in Pydantic, with its flags
        # (re.ASCII, re.IGNORECASE, ...): Polars' engine cannot promise the same verdict.
        if not isinstance(pattern, str) or not _polars_accepts(pattern):
            raise _Unsupported
        flags.append(~value.str.contains(pattern))
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
