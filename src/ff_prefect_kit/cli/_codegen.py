"""Generating the source of a Pydantic model from a mart's column descriptions.

One field per column, in the mart's order, typed from DuckDB's type and nullability.
A column DuckDB reports nullable stays `X | None` even when it holds no NULL today (a
model generated from today's rows must not fail tomorrow's), and says so in a comment,
`# no NULL in the data`, where dropping `| None` is the reader's call.
A column whose name cannot be a field (not an identifier, a keyword, Pydantic's own
`model_*` namespace or one of `BaseModel`'s attributes) gets a safe field name and
`Field(alias=<the column>)`, so the frame's column names still match.
"""

from __future__ import annotations

import keyword
import re
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ff_prefect_kit.data._describe import MartColumn

__all__ = ["MODULE_NAMES", "ModelField", "default_class_name", "model_fields", "render_model"]

_INTEGER_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
)
_TIMESTAMP_TYPES = (
    "TIMESTAMP",
    "TIMESTAMP_S",
    "TIMESTAMP_MS",
    "TIMESTAMP_NS",
    "TIMESTAMP WITH TIME ZONE",
)
# DuckDB's type names (as DESCRIBE spells them) -> the Python type a field gets. DECIMAL
# maps to float, as Polars' float columns do: validate_frame hands a Decimal field's
# column back as strings. UUID and JSON arrive in Polars as strings.
_PYTHON_TYPES: dict[str, str] = {
    **dict.fromkeys(_INTEGER_TYPES, "int"),
    "FLOAT": "float",
    "DOUBLE": "float",
    "VARCHAR": "str",
    "JSON": "str",
    "UUID": "str",
    "BOOLEAN": "bool",
    "DATE": "datetime.date",
    "TIME": "datetime.time",
    **dict.fromkeys(_TIMESTAMP_TYPES, "datetime.datetime"),
    "BLOB": "bytes",
    "BIT": "bytes",
}
_DECIMAL = re.compile(r"DECIMAL\(\d+,\s*\d+\)")
_ENUM = re.compile(r"ENUM\(.*\)", re.DOTALL)
_LIST = re.compile(r"(?P<element>.+)\[\d*\]", re.DOTALL)
# Names the generated module binds or its annotations use: a field of that name would
# shadow them in the class body.
MODULE_NAMES = frozenset(
    {"Any", "BaseModel", "Field", "bool", "bytes", "datetime", "float", "int", "list", "str"}
)
_LINE_LENGTH = 88  # ruff's and black's default: the generated module fits it


@dataclass(frozen=True)
class ModelField:
    """A mart column as the model declares it."""

    column: str
    field: str
    duckdb_type: str
    annotation: str
    mapped: bool
    no_nulls_seen: bool = False


def default_class_name(mart: str) -> str:
    """The model's name derived from the mart's: `mrt_foo` -> `MrtFooRow`.

    A name that would start with a digit (`_2024_stats`) gets `Mart` in front
    (`Mart2024StatsRow`): a class name must be a Python identifier.
    """
    table = mart.rsplit(".", 1)[-1]
    name = "".join(p[:1].upper() + p[1:] for p in re.split(r"[_$]+", table)) + "Row"
    if not name.isidentifier() or keyword.iskeyword(name):
        name = f"Mart{name}"
    return name


def _python_type(duckdb_type: str) -> str | None:
    """The annotation for a DuckDB type, or `None` when there is no mapping."""
    if duckdb_type in _PYTHON_TYPES:
        return _PYTHON_TYPES[duckdb_type]
    if _DECIMAL.fullmatch(duckdb_type):
        return "float"
    if _ENUM.fullmatch(duckdb_type):
        # Polars reads an ENUM column as categorical strings.
        return "str"
    if (match := _LIST.fullmatch(duckdb_type)) is not None:
        element = _python_type(match["element"])
        # A list may hold nulls whatever the column's own nullability.
        return f"list[{element} | None]" if element is not None else None
    return None


def _reserved_names() -> frozenset[str]:
    from pydantic import BaseModel

    return MODULE_NAMES | frozenset(dir(BaseModel))


def _usable(name: str, reserved: frozenset[str]) -> bool:
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith(("_", "model_"))
        and name not in reserved
        # Python reads identifiers NFKC-normalised: the field would not match the column.
        and unicodedata.normalize("NFKC", name) == name
    )


def _safe_name(column: str, reserved: frozenset[str]) -> str:
    text = unicodedata.normalize("NFKC", column).lower()
    name = re.sub(r"_+", "_", re.sub(r"\W", "_", text)).strip("_") or "column"
    if name[0].isdigit() or name.startswith("model_"):
        name = f"col_{name}"
    if keyword.iskeyword(name) or name in reserved:
        name = f"{name}_"
    return name


def model_fields(described: Sequence[MartColumn]) -> list[ModelField]:
    """The model's field for each of the mart's columns, in order."""
    reserved = _reserved_names()
    taken = {c.name for c in described if _usable(c.name, reserved)}
    fields = []
    for column in described:
        field = column.name
        if not _usable(column.name, reserved):
            base = field = _safe_name(column.name, reserved)
            suffix = 2
            while field in taken:
                field, suffix = f"{base}_{suffix}", suffix + 1
            taken.add(field)
        python_type = _python_type(column.duckdb_type)
        annotation = python_type or "Any"
        nullable = column.nullable and python_type is not None
        if nullable:
            annotation += " | None"
        mapped = python_type is not None
        no_nulls = nullable and column.null_count == 0
        fields.append(
            ModelField(column.name, field, column.duckdb_type, annotation, mapped, no_nulls)
        )
    return fields


def _literal(text: str) -> str:
    """`text` as a Python string literal, quoted as ruff's formatter quotes it."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    body = "".join(
        "\\\\"
        if char == "\\"
        else f"\\{quote}"
        if char == quote
        else char
        if char.isprintable()
        else repr(char)[1:-1]
        for char in text
    )
    return f"{quote}{body}{quote}"


def _field_lines(column: ModelField) -> list[str]:
    lines = []
    if not column.mapped:
        lines += textwrap.wrap(
            f"DuckDB type {column.duckdb_type} has no Python type here: Any accepts any "
            "value, so give it one.",
            width=_LINE_LENGTH,
            initial_indent="    # ",
            subsequent_indent="    # ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    declaration = f"    {column.field}: {column.annotation}"
    if column.field == column.column:
        return [*lines, *_noted(declaration, column)]
    alias = f"alias={_literal(column.column)}"
    one_line = f"{declaration} = Field({alias})"
    if len(one_line) <= _LINE_LENGTH:
        return [*lines, *_noted(one_line, column)]
    # The trailing comma keeps the call split at any line length the formatter uses.
    note = [f"    {_NO_NULLS}"] if column.no_nulls_seen else []
    return [*lines, *note, f"{declaration} = Field(", f"        {alias},", "    )"]


_NO_NULLS = "# no NULL in the data"


def _noted(line: str, column: ModelField) -> list[str]:
    """`line`, with the no-NULL note after it, or above it where it would not fit."""
    if not column.no_nulls_seen:
        return [line]
    if len(f"{line}  {_NO_NULLS}") <= _LINE_LENGTH:
        return [f"{line}  {_NO_NULLS}"]
    return [f"    {_NO_NULLS}", line]


def render_model(mart: str, class_name: str, columns: Sequence[ModelField]) -> str:
    """The source of a module holding the model of `mart`'s row."""
    annotations = " ".join(c.annotation for c in columns)
    imports = []
    if "datetime." in annotations:
        imports.append("import datetime")
    if any(not c.mapped for c in columns):
        imports.append("from typing import Any")
    if imports:
        imports.append("")
    aliased = any(c.field != c.column for c in columns)
    imports.append(f"from pydantic import BaseModel{', Field' if aliased else ''}")
    nullable = any(c.annotation.endswith(" | None") for c in columns)
    paragraphs = [
        f"A row of the mart {mart}, as a Pydantic model.",
        f"Generated by `ff-prefect-kit model {mart}` from the DuckDB catalog. Check a "
        f"frame of the mart with `validate_frame(frame, {class_name})`.",
    ]
    if nullable:
        observed = (
            f", even those marked `{_NO_NULLS}` (which held none when this was generated)"
            if any(c.no_nulls_seen for c in columns)
            else ""
        )
        paragraphs.append(
            "DuckDB reports a column NOT NULL only when the table declares it (as a dbt "
            "contract's not_null constraint does), so the other columns are typed "
            f"`X | None`{observed}: drop `| None` where your dbt tests guarantee a value."
        )
    paragraphs.append(
        "Add the bounds you know with pydantic's Field, e.g. "
        "`season: int = Field(ge=1999, le=2100)`: validate_frame checks them in Polars."
    )
    if aliased:
        paragraphs.append(
            "Columns whose names cannot be fields keep their names as aliases; "
            "validate_frame then checks each row with Pydantic, and returns those columns "
            "under the field names."
        )
    header: list[str] = []
    for paragraph in paragraphs:
        wrapped = textwrap.wrap(
            paragraph,
            width=_LINE_LENGTH,
            initial_indent='"""' if not header else "",
            break_long_words=False,
            break_on_hyphens=False,
        )
        header += [*([""] if header else []), *wrapped]
    body = [line for column in columns for line in _field_lines(column)]
    lines = [
        *header,
        '"""',
        "",
        *imports,
        "",
        "",
        f"class {class_name}(BaseModel):",
        f'    """One row of {mart}."""',
        "",
        *body,
    ]
    return "\n".join(lines) + "\n"
