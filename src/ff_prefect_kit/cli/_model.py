"""`model`: a typed Pydantic model of a mart's row, read from the DuckDB catalog.

The model is what `validate_frame` needs to hold a frame of the mart to its columns:
one field per column, in the mart's order, typed from DuckDB's type and nullability.
A column whose name cannot be a field (not an identifier, a keyword, Pydantic's own
`model_*` namespace or one of `BaseModel`'s attributes) gets a safe field name and
`Field(alias=<the column>)`, so the frame's column names still match.
"""

from __future__ import annotations

import keyword
import re
import textwrap
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ff_prefect_kit.cli._output import console, run_command

if TYPE_CHECKING:
    import duckdb

__all__ = ["model"]

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
_MODULE_NAMES = frozenset(
    {"Any", "BaseModel", "Field", "bool", "bytes", "datetime", "float", "int", "list", "str"}
)
_LINE_LENGTH = 88  # ruff's and black's default: the generated module fits it


@dataclass(frozen=True)
class _Column:
    """A mart column as the model declares it."""

    column: str
    field: str
    duckdb_type: str
    annotation: str
    mapped: bool


def model(
    ctx: typer.Context,
    mart: Annotated[
        str,
        typer.Argument(
            metavar="MART", help="The mart: name or schema.name (e.g. mrt_fantasy_actuals_weekly)."
        ),
    ],
    db: Annotated[
        Path | None,
        typer.Option("--db", help="The DuckDB file dbt-duckdb writes; default FF_DUCKDB_PATH."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the model to this new file instead of printing it."),
    ] = None,
    class_name: Annotated[
        str | None,
        typer.Option("--class-name", help="The model's name; default from the mart's (MrtFooRow)."),
    ] = None,
) -> int:
    """Print a typed Pydantic model of a mart's row, read from the DuckDB catalog.

    One field per column, typed from DuckDB's types; nullable columns are `X | None`.
    Add the bounds you know (`Field(ge=..., le=...)`) and validate frames of the mart
    with validate_frame. With --out the model goes to a new file (never overwritten).
    """

    def run() -> int:
        from ff_prefect_kit.data._mart import _refuse_system_catalogs, quote_identifier

        table = quote_identifier(mart)
        _refuse_system_catalogs(mart)
        name = _checked_class_name(class_name, mart)
        if out is not None:
            _check_out(out)
        columns = _columns(_describe(_database(db), mart, table))
        source = render_model(mart, name, columns)
        errors = console(stderr=True)
        for column in columns:
            if not column.mapped:
                errors.print(
                    f"warning: column {column.column!r} has DuckDB type {column.duckdb_type}, "
                    "which has no Python type here: the model types it Any; type it yourself",
                    markup=False,
                )
        if out is None:
            console().print(source, markup=False, emoji=False, highlight=False, end="")
            return 0
        _write_new(out, source)
        console().print(
            f"✔ Wrote {name} ({len(columns)} fields, from {mart}) to {out}.", markup=False
        )
        return 0

    return run_command(ctx, run)


# --- inputs ---------------------------------------------------------------------------


def _checked_class_name(given: str | None, mart: str) -> str:
    from ff_prefect_kit._errors import InvalidOptionError

    if given is None:
        table = mart.rsplit(".", 1)[-1]
        return "".join(p[:1].upper() + p[1:] for p in re.split(r"[_$]+", table)) + "Row"
    if (
        not given.isidentifier()
        or keyword.iskeyword(given)
        or given.startswith("_")
        or given in _MODULE_NAMES
        or unicodedata.normalize("NFKC", given) != given
    ):
        raise InvalidOptionError(
            f"--class-name {given!r} cannot name the model: use a Python class name that "
            "is not a keyword or one of the module's imports (e.g. --class-name WeeklyRow)"
        )
    return given


def _check_out(out: Path) -> None:
    from ff_prefect_kit._errors import OutputPathError

    if out.exists() or out.is_symlink():
        raise OutputPathError(
            f"--out {str(out)!r} already exists and is never overwritten: pass a new path, "
            "or remove the file first"
        )
    if not out.parent.is_dir():
        raise OutputPathError(
            f"--out {str(out)!r}: the folder {str(out.parent)!r} does not exist: create it "
            "first, or pass a path in an existing folder"
        )


def _write_new(out: Path, source: str) -> None:
    from ff_prefect_kit._errors import OutputPathError

    try:
        with out.open("x", encoding="utf-8") as file:
            file.write(source)
    except FileExistsError:
        # Created by someone else since the check: still never overwritten.
        raise OutputPathError(
            f"--out {str(out)!r} already exists and is never overwritten: pass a new path"
        ) from None


def _database(db: Path | None) -> Path:
    from ff_prefect_kit._errors import ConfigError, DatabaseNotFoundError
    from ff_prefect_kit._settings import KitSettings

    if db is not None:
        path, origin = db, "--db"
    else:
        configured = KitSettings().duckdb_path
        if configured is None:
            raise ConfigError(
                "no DuckDB database to read: pass --db path/to/marts.duckdb, or set "
                "FF_DUCKDB_PATH (in the environment or in a .env file in this folder)"
            )
        path, origin = configured, "FF_DUCKDB_PATH"
    if not path.is_file():
        raise DatabaseNotFoundError(
            f"DuckDB database {str(path)!r} (from {origin}) does not exist: pass --db with "
            "the .duckdb file dbt-duckdb writes, or run dbt to build it"
        )
    return path


def _describe(path: Path, mart: str, table: str) -> list[tuple[str, str, bool]]:
    """`(column, DuckDB type, nullable)` of each of the mart's columns, in order."""
    from ff_prefect_kit.data._mart import _connect, _fetch

    con: duckdb.DuckDBPyConnection = _connect(path)
    try:
        # DESCRIBE resolves the name as load_dbt_mart's SELECT does, and _fetch turns
        # an unknown mart into load_dbt_mart's MartNotFoundError, nearest names first.
        described = _fetch(con, f"DESCRIBE {table}", mart)
    finally:
        con.close()
    return [
        (str(row["column_name"]), str(row["column_type"]), row["null"] != "NO")
        for row in described.iter_rows(named=True)
    ]


# --- the model ------------------------------------------------------------------------


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

    return _MODULE_NAMES | frozenset(dir(BaseModel))


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


def _columns(described: list[tuple[str, str, bool]]) -> list[_Column]:
    reserved = _reserved_names()
    taken = {name for name, _, _ in described if _usable(name, reserved)}
    columns = []
    for name, duckdb_type, nullable in described:
        field = name
        if not _usable(name, reserved):
            base = field = _safe_name(name, reserved)
            suffix = 2
            while field in taken:
                field, suffix = f"{base}_{suffix}", suffix + 1
            taken.add(field)
        python_type = _python_type(duckdb_type)
        annotation = python_type or "Any"
        if nullable and python_type is not None:
            annotation += " | None"
        columns.append(_Column(name, field, duckdb_type, annotation, python_type is not None))
    return columns


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


def _field_lines(column: _Column) -> list[str]:
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
        return [*lines, declaration]
    alias = f"alias={_literal(column.column)}"
    one_line = f"{declaration} = Field({alias})"
    if len(one_line) <= _LINE_LENGTH:
        return [*lines, one_line]
    # The trailing comma keeps the call split at any line length the formatter uses.
    return [*lines, f"{declaration} = Field(", f"        {alias},", "    )"]


def render_model(mart: str, class_name: str, columns: list[_Column]) -> str:
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
        paragraphs.append(
            "DuckDB reports a column NOT NULL only when the table declares it (as a dbt "
            "contract's not_null constraint does), so the other columns are typed "
            "`X | None`: drop `| None` where your dbt tests guarantee a value."
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
