"""`model`: print or write the Pydantic model of a mart's row, read from the DuckDB catalog.

The command checks its options, resolves the database (`--db`, else `FF_DUCKDB_PATH`),
describes the mart (`describe_mart`) and hands the description to the generator
(`_codegen`); it writes the result to a new file, never over an old one.
"""

from __future__ import annotations

import keyword
import unicodedata
from pathlib import Path
from typing import Annotated

import typer

from ff_prefect_kit.cli._output import console, run_command

__all__ = ["model"]


def model(
    ctx: typer.Context,
    mart: Annotated[
        str,
        # Described in the docstring: typer 0.19 prints an argument's "[required]" as
        # rich markup (`\[required]`) even with rich markup off.
        typer.Argument(metavar="MART", hidden=True, show_default=False),
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

    MART is the mart's name, or schema.name (e.g. mrt_fantasy_actuals_weekly).

    One field per column, typed from DuckDB's types. A column DuckDB reports nullable
    is `X | None`; one that holds no NULL today is marked `# no NULL in the data`. Add
    the bounds you know (`Field(ge=..., le=...)`) and validate frames of the mart with
    validate_frame. With --out the model goes to a new file (never overwritten).
    """

    def run() -> int:
        from ff_prefect_kit.cli._codegen import model_fields, render_model
        from ff_prefect_kit.data import quote_identifier
        from ff_prefect_kit.data._describe import describe_mart

        # A name that is not an identifier is the first error reported, before the options'.
        quote_identifier(mart)
        name = _checked_class_name(class_name, mart)
        if out is not None:
            _check_out(out)
        columns = model_fields(describe_mart(mart, _database(db), count_nulls=True))
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


def _checked_class_name(given: str | None, mart: str) -> str:
    from ff_prefect_kit._errors import InvalidOptionError
    from ff_prefect_kit.cli._codegen import MODULE_NAMES, default_class_name

    if given is None:
        return default_class_name(mart)
    if (
        not given.isidentifier()
        or keyword.iskeyword(given)
        or given.startswith("_")
        or given in MODULE_NAMES
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
    """The file `--db` names, else `FF_DUCKDB_PATH`'s, with errors that name the option."""
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
