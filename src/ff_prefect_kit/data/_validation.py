"""Validate a Polars frame against a Pydantic model and report every failing row.

This module is the validation API and its errors: the frame's shape, the call
into Pydantic, and the `SchemaValidationError` with its `.failures` table. The
fast path comes from `_columnar`, whose checks flag a *superset* of the rows
Pydantic would reject; Pydantic then runs on the flagged rows only, so the
verdict and the messages are Pydantic's own while a clean frame never leaves
Polars. Models `_columnar` cannot compile are validated by Pydantic on every row.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ff_prefect_kit._errors import SchemaValidationError
from ff_prefect_kit.data._columnar import compile_checks
from ff_prefect_kit.data._frames import models_to_frame
from ff_prefect_kit.data._keys import FieldColumns, field_columns

if TYPE_CHECKING:
    import polars as pl
    from pydantic import BaseModel

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
    plan = compile_checks(schema, frame.schema)
    if plan is None:
        models = _pydantic_all_rows(frame, schema, df.height)
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
    return _pydantic_all_rows(frame, schema, df.height)


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
    return "columnar" if compile_checks(schema, df.schema) is not None else "pydantic"


def _failure_schema() -> dict[str, pl.DataType]:
    import polars as pl

    return {"row": pl.Int64(), "field": pl.String(), "value": pl.String(), "message": pl.String()}


# --- shape -------------------------------------------------------------------------


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
    sources = field_columns(schema, df.columns)
    read = {column for source in sources for column in source.reads}
    absent = [s for s in sources if s.required and not s.reads]
    missing = [s.keys[0] for s in absent]
    extra = [c for c in df.columns if c not in read]
    problems = []
    if missing:
        problems.append(
            f"missing column(s) [{', '.join(_named(s) for s in absent)}] that "
            f"{schema.__name__} requires (the frame has {df.columns}); add them upstream "
            "or give the fields defaults" + _alias_hint(absent, df.columns)
        )
    if extra and extra_columns == "error":
        problems.append(
            f"column(s) {extra} not in {schema.__name__} (it reads: "
            f"{[s.column or s.keys[0] for s in sources]}); drop them upstream, add them "
            "to the model, or pass extra_columns='drop'"
        )
    if problems:
        shown_extra = extra if extra_columns == "error" else []
        failures = pl.DataFrame(
            {
                "row": [None] * (len(missing) + len(shown_extra)),
                "field": missing + shown_extra,
                "value": ["<missing column>"] * len(missing)
                + ["<extra column>"] * len(shown_extra),
                "message": ["Field required"] * len(missing)
                + ["Column not in the model"] * len(shown_extra),
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


def _named(source: FieldColumns) -> str:
    """A missing field's column, with the other names Pydantic would take instead."""
    first, *others = source.keys
    return repr(first) + (f" (or {' or '.join(map(repr, others))})" if others else "")


def _alias_hint(absent: list[FieldColumns], columns: Sequence[str]) -> str:
    """Where a column bears a field's name but Pydantic reads the field from its alias."""
    misnamed = [s for s in absent if s.field in columns and s.field not in s.keys]
    if not misnamed:
        return ""
    pairs = ", ".join(f"field {s.field!r} from {s.keys[0]!r}" for s in misnamed)
    return (
        f". Pydantic reads {pairs} (the alias), not from the field's name: rename the "
        "column, or set validate_by_name=True in the model's config"
    )


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


def _pydantic_all_rows(frame: pl.DataFrame, schema: type[M], height: int) -> list[M]:
    """Every row through Pydantic; `height` counts them when no column is left to."""
    # Dropping every column leaves a frame of no rows on some Polars releases: each
    # row is then an empty dict, which fields with defaults fill in.
    records = frame.to_dicts() if frame.width else [{} for _ in range(height)]
    return _pydantic_rows(records, list(range(height)), schema)


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

    sources = {s.field: s.column for s in field_columns(schema, original.columns)}
    frame = models_to_frame(models) if models else pl.DataFrame()
    if frame.width == 0:
        return original.select(
            pl.col(column).alias(field) for field, column in sources.items() if column
        )
    # Keep the input's dtype where a validator did not change the column's type.
    return frame.select(
        pl.col(field).cast(original.schema[column])
        if column is not None and _castable(frame.schema[field], original.schema[column])
        else pl.col(field)
        for field, column in sources.items()
    )


def _castable(source: pl.DataType, target: pl.DataType) -> bool:
    import polars as pl

    if source == target:
        return False
    if isinstance(source, pl.Datetime) and isinstance(target, pl.Datetime):
        return source.time_zone == target.time_zone  # only the unit differs
    return (source.is_integer() and target.is_integer()) or (
        source == pl.Null and target != pl.Object
    )
