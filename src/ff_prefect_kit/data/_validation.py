"""Validate a Polars frame against a Pydantic model: columnar checks first, Pydantic's verdict.

The columnar checks are derived from the model's field types and constraints and
flag a *superset* of the rows Pydantic would reject. Pydantic then runs on the
flagged rows only, so the verdict and the messages are Pydantic's own while a clean
frame never leaves Polars. Models the checks cannot express exactly (custom
validators, aliases, nested or exotic types, strict or string-munging config) are
validated by Pydantic on every row.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ff_prefect_kit._errors import SchemaValidationError
from ff_prefect_kit._internals import has_custom_validation, pydantic_general_metadata
from ff_prefect_kit.data._frames import models_to_frame

if TYPE_CHECKING:
    import polars as pl
    from pydantic import BaseModel
    from pydantic.fields import FieldInfo

__all__ = [
    "ExtraColumns",
    "validate_frame",
    "validate_output",
    "validate_records",
    "validation_path",
]

M = TypeVar("M", bound="BaseModel")
ExtraColumns = Literal["error", "drop"]

_SHOWN = 5
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


def validate_frame(
    df: pl.DataFrame,
    schema: type[BaseModel],
    *,
    extra_columns: ExtraColumns = "error",
    allow_empty: bool = False,
) -> pl.DataFrame:
    """Validate every row of `df` against `schema` and return it conformed.

    Args:
        df: The frame, one column per model field.
        schema: The Pydantic model each row must satisfy.
        extra_columns: `"error"` (default) refuses columns the model lacks;
            `"drop"` drops them.
        allow_empty: Accept a frame with no rows (refused by default: an empty
            analytics output is almost always an upstream bug).

    Returns:
        The frame with the model's columns in the model's order, integer columns
        for float fields cast to Float64; values rewritten by custom validators
        come back rewritten.

    Raises:
        SchemaValidationError: A missing or extra column, an empty frame, or rows
            Pydantic rejects; `.failures` holds every failing row and field.
    """
    frame = _check_shape(df, schema, extra_columns, allow_empty)
    plan = _plan(schema, frame.schema)
    if plan is None:
        models = _pydantic_all_rows(frame, schema)
        return _frame_from_models(models, schema, frame)
    flags = [expr for check in plan for expr in check.flags]
    if flags:
        import polars as pl

        mask = frame.select(pl.any_horizontal(flags).fill_null(True).alias("bad")).to_series()
        if mask.any():
            rows = mask.arg_true().to_list()
            _pydantic_rows(frame.filter(mask).to_dicts(), rows, schema)
    casts = [check.output for check in plan]
    return frame.select(casts)


def validate_records(
    df: pl.DataFrame,
    schema: type[M],
    *,
    extra_columns: ExtraColumns = "error",
    allow_empty: bool = False,
) -> list[M]:
    """Validate every row of `df` and return one model instance per row.

    Building the instances is per-row Pydantic work; use `validate_frame` when a
    frame is all you need.

    Args:
        df: The frame, one column per model field.
        schema: The Pydantic model each row must satisfy.
        extra_columns: As for `validate_frame`.
        allow_empty: As for `validate_frame`.

    Returns:
        The rows as `schema` instances, in order.

    Raises:
        SchemaValidationError: As for `validate_frame`.
    """
    frame = _check_shape(df, schema, extra_columns, allow_empty)
    return _pydantic_all_rows(frame, schema)


def validate_output(value: Any, schema: type[BaseModel]) -> Any:
    """Check a task's return value against `schema` (`analytics_task(output_schema=...)`).

    A DataFrame is validated and returned conformed; a list of `schema` instances
    is already valid; any other list is validated into instances.

    Raises:
        SchemaValidationError: The value fails, or is neither a frame nor a list.
    """
    import polars as pl

    if isinstance(value, pl.DataFrame):
        return validate_frame(value, schema, allow_empty=True)
    if isinstance(value, list):
        if all(isinstance(item, schema) for item in value):
            return value
        return _pydantic_rows([_as_input(item) for item in value], list(range(len(value))), schema)
    raise SchemaValidationError(
        f"output_schema={schema.__name__} checks a DataFrame or a list, but the task "
        f"returned {type(value).__name__}: return one of those or drop output_schema"
    )


def _as_input(item: Any) -> Any:
    from pydantic import BaseModel

    return item.model_dump() if isinstance(item, BaseModel) else item


def validation_path(schema: type[BaseModel], df: pl.DataFrame) -> Literal["columnar", "pydantic"]:
    """Which path `validate_frame` takes for this model and frame (for docs and tests)."""
    return "columnar" if _plan(schema, df.schema) is not None else "pydantic"


def _failure_schema() -> dict[str, pl.DataType]:
    import polars as pl

    return {"row": pl.Int64(), "field": pl.String(), "value": pl.String(), "message": pl.String()}


# --- shape -------------------------------------------------------------------------


def _column_names(schema: type[BaseModel]) -> dict[str, FieldInfo]:
    return {(info.alias or name): info for name, info in schema.model_fields.items()}


def _check_shape(
    df: pl.DataFrame, schema: type[BaseModel], extra_columns: ExtraColumns, allow_empty: bool
) -> pl.DataFrame:
    import polars as pl

    if not isinstance(df, pl.DataFrame):
        raise SchemaValidationError(
            f"expected a polars DataFrame to validate against {schema.__name__}, "
            f"got {type(df).__name__}"
        )
    if extra_columns not in ("error", "drop"):
        raise SchemaValidationError(
            f"extra_columns must be 'error' or 'drop', got {extra_columns!r}"
        )
    fields = _column_names(schema)
    missing = [c for c, info in fields.items() if c not in df.columns and info.is_required()]
    extra = [c for c in df.columns if c not in fields]
    problems = []
    if missing:
        problems.append(
            f"missing column(s) {missing} that {schema.__name__} requires "
            f"(the frame has {df.columns}); add them upstream or give the fields defaults"
        )
    if extra and extra_columns == "error":
        problems.append(
            f"column(s) {extra} not in {schema.__name__} (fields: {list(fields)}); "
            "drop them upstream, add them to the model, or pass extra_columns='drop'"
        )
    if problems:
        failures = pl.DataFrame(
            {
                "row": [None] * (len(missing) + len(extra) * (extra_columns == "error")),
                "field": missing + (extra if extra_columns == "error" else []),
                "value": ["<missing column>"] * len(missing)
                + (["<extra column>"] * len(extra) if extra_columns == "error" else []),
                "message": ["Field required"] * len(missing)
                + (["Column not in the model"] * len(extra) if extra_columns == "error" else []),
            },
            schema=_failure_schema(),
        )
        raise SchemaValidationError(f"{schema.__name__}: " + "; ".join(problems), failures=failures)
    if df.height == 0 and not allow_empty:
        raise SchemaValidationError(
            f"the frame to validate against {schema.__name__} has no rows; an empty output "
            "usually means an upstream filter or join went wrong (pass allow_empty=True "
            "if empty is expected)",
            failures=pl.DataFrame(schema=_failure_schema()),
        )
    return df.drop(extra) if extra else df


# --- the columnar plan ---------------------------------------------------------------


@dataclass(frozen=True)
class _Check:
    flags: list[pl.Expr]
    output: pl.Expr


def _plan(schema: type[BaseModel], dtypes: pl.Schema) -> list[_Check] | None:
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


def _field_check(name: str, info: FieldInfo, dtype: pl.DataType) -> _Check | None:
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
        return _Check(flags, col.cast(_output_dtype(base, dtype) or pl.Null))
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
    return _Check(flags, value.alias(name) if output_dtype is None else col.cast(output_dtype))


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


# --- Pydantic ------------------------------------------------------------------------


@functools.lru_cache(maxsize=128)
def _list_adapter(schema: type[BaseModel]) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(list[schema])  # type: ignore[valid-type]


def _pydantic_rows(records: list[dict[str, Any]], rows: list[int], schema: type[M]) -> list[M]:
    """Validate `records` (the frame's rows numbered `rows`); raise on any failure."""
    from pydantic import ValidationError

    try:
        models: list[M] = _list_adapter(schema).validate_python(records)
    except ValidationError as exc:
        raise _schema_error(exc, rows, schema) from None
    return models


def _pydantic_all_rows(frame: pl.DataFrame, schema: type[M]) -> list[M]:
    return _pydantic_rows(frame.to_dicts(), list(range(frame.height)), schema)


def _schema_error(exc: Any, rows: list[int], schema: type[BaseModel]) -> SchemaValidationError:
    import polars as pl

    entries: dict[str, list[Any]] = {"row": [], "field": [], "value": [], "message": []}
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        entries["row"].append(rows[loc[0]] if loc and isinstance(loc[0], int) else None)
        entries["field"].append(".".join(str(p) for p in loc[1:]) or "(row)")
        entries["value"].append(_short_repr(error.get("input")))
        entries["message"].append(error["msg"])
    failures = pl.DataFrame(entries, schema=_failure_schema())
    bad_rows = failures["row"].n_unique()
    shown = [
        f"row {r['row']}, {r['field']}={r['value']}: {r['message']}"
        for r in failures.head(_SHOWN).iter_rows(named=True)
    ]
    more = f"; and {failures.height - _SHOWN} more" if failures.height > _SHOWN else ""
    return SchemaValidationError(
        f"{failures.height} validation error(s) in {bad_rows} row(s) against "
        f"{schema.__name__}: " + "; ".join(shown) + more + " (all of them: the error's .failures)",
        failures=failures,
    )


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _frame_from_models(
    models: Sequence[BaseModel], schema: type[BaseModel], original: pl.DataFrame
) -> pl.DataFrame:
    import polars as pl

    columns = list(schema.model_fields)
    frame = models_to_frame(models) if models else pl.DataFrame()
    if frame.width == 0:
        return original.select([c for c in columns if c in original.columns])
    # Keep the input's dtype where a validator did not change the column's type.
    return frame.select(
        pl.col(c).cast(original.schema[c])
        if c in original.columns
        and frame.schema[c] != original.schema[c]
        and _castable(frame, original, c)
        else pl.col(c)
        for c in columns
    )


def _castable(frame: pl.DataFrame, original: pl.DataFrame, column: str) -> bool:
    import polars as pl

    source, target = frame.schema[column], original.schema[column]
    return (source.is_integer() and target.is_integer()) or (
        source == pl.Null and target != pl.Object
    )
