"""`ff-prefect-kit model`: a typed Pydantic model of a mart's row, from the DuckDB catalog."""

from __future__ import annotations

import datetime as dt
import importlib.util
import keyword
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from ff_prefect_kit import SchemaValidationError, load_dbt_mart, validate_frame
from ff_prefect_kit.cli import main
from ff_prefect_kit.cli._codegen import MODULE_NAMES, default_class_name, model_fields, render_model
from ff_prefect_kit.data import MartColumn, validate_records
from ff_prefect_kit.testing import MART_COLUMNS, MART_TABLE

PYTHON_TYPES = {"BIGINT": int, "INTEGER": int, "DOUBLE": float, "VARCHAR": str}


def _database(path: Path, *statements: str) -> Path:
    """A DuckDB file made by running `statements`."""
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)
    return path


def _generate(
    monkeypatch: pytest.MonkeyPatch, db: Path, mart: str, out: Path, *options: str
) -> type[BaseModel]:
    """Run `model` into `out`, import the module, and return its model class."""
    assert main(["model", mart, "--db", str(db), "--out", str(out), *options]) == 0
    spec = importlib.util.spec_from_file_location(f"generated_{out.stem}", out)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return _model_class(module)


def _model_class(module: ModuleType) -> type[BaseModel]:
    (model,) = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel
    ]
    return model


def _ruff(source: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *command, "--isolated", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def odd_names_db(tmp_path: Path) -> Path:
    """A mart whose column names cannot all be Python fields, with two rows."""
    return _database(
        tmp_path / "odd.duckdb",
        """
        CREATE TABLE odd_names (
            "Player Name" VARCHAR, "class" INTEGER, "model_year" INTEGER, "2pt" DOUBLE,
            "json" VARCHAR, "_x" INTEGER, "x" INTEGER, "a""b" VARCHAR, "a'b" VARCHAR,
            "a_column_name_long_enough_that_its_field_and_alias_need_two_lines" INTEGER
        )
        """,
        "INSERT INTO odd_names VALUES ('A', 1, 2020, 0.5, '{}', 1, 2, 'q', 'r', 3)",
        "INSERT INTO odd_names VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    )


@pytest.mark.parametrize(
    "validate",
    [validate_frame.fn, validate_records],
    ids=["validate_frame", "validate_records"],
)
def test_model_of_the_synthetic_mart_accepts_every_row(
    synthetic_marts: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    validate: Callable[..., Any],
) -> None:
    """Every row of the synthetic weekly mart, unmapped players included, validates."""
    model = _generate(monkeypatch, synthetic_marts, MART_TABLE, tmp_path / "weekly.py")
    weekly = load_dbt_mart.fn(MART_TABLE, synthetic_marts)
    assert (weekly["player_id"] == -1).any()
    assert weekly["display_name"].null_count() > 0

    validated = validate(weekly, model)

    assert len(validated) == weekly.height


def test_fields_follow_the_marts_columns_and_types(
    synthetic_marts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One field per column, in order, typed from DuckDB; nullable columns are optional."""
    model = _generate(monkeypatch, synthetic_marts, MART_TABLE, tmp_path / "weekly.py")

    assert model.__name__ == "MrtFantasyActualsWeeklyRow"
    assert {name: info.annotation for name, info in model.model_fields.items()} == {
        column: PYTHON_TYPES[duckdb_type] | None for column, duckdb_type in MART_COLUMNS.items()
    }
    assert list(model.model_fields) == list(MART_COLUMNS)


def test_not_null_columns_are_required_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NOT NULL column is typed without None, and a frame with a null there fails."""
    db = _database(
        tmp_path / "t.duckdb",
        "CREATE TABLE t (id INTEGER NOT NULL, name VARCHAR)",
        "INSERT INTO t VALUES (1, NULL)",
    )
    model = _generate(monkeypatch, db, "t", tmp_path / "t.py")

    assert model.model_fields["id"].annotation is int
    assert model.model_fields["name"].annotation == str | None
    validate_frame.fn(load_dbt_mart.fn("t", db), model)
    null_id = pl.DataFrame(
        {"id": [None], "name": ["x"]}, schema={"id": pl.Int32, "name": pl.String}
    )
    with pytest.raises(SchemaValidationError, match="row 0, id=None"):
        validate_frame.fn(null_id, model)


@pytest.mark.parametrize(
    ("duckdb_type", "value", "python_type"),
    [
        ("TINYINT", "1", int),
        ("HUGEINT", "170141183460469231731687303715884105727", int),
        ("UBIGINT", "18446744073709551615", int),
        ("DOUBLE", "1.5", float),
        ("FLOAT", "1.5", float),
        ("DECIMAL(10,2)", "12.25", float),
        ("VARCHAR", "'QB'", str),
        ("UUID", "'3c2b1a00-0000-4000-8000-000000000000'", str),
        ("BOOLEAN", "true", bool),
        ("DATE", "DATE '2024-09-08'", dt.date),
        ("TIME", "TIME '13:00:00'", dt.time),
        ("TIMESTAMP", "TIMESTAMP '2024-09-08 13:00:00'", dt.datetime),
        ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ '2024-09-08 13:00:00+00'", dt.datetime),
        ("BLOB", "'\\x01'::BLOB", bytes),
        ("INTEGER[]", "[1, NULL]", list[int | None]),
        ("VARCHAR[][]", "[['a'], NULL]", list[list[str | None] | None]),
        ("ENUM('REG', 'POST')", "'REG'", str),
    ],
)
def test_duckdb_types_map_to_python_types_that_validate(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    duckdb_type: str,
    value: str,
    python_type: Any,
) -> None:
    """Each DuckDB type gets its Python type, and a row of it passes validate_frame."""
    db = _database(
        tmp_path / "types.duckdb",
        f"CREATE TABLE types (v {duckdb_type} NOT NULL)",
        f"INSERT INTO types VALUES ({value})",
    )
    model = _generate(monkeypatch, db, "types", tmp_path / "types.py")

    assert model.model_fields["v"].annotation == python_type
    assert validate_frame.fn(load_dbt_mart.fn("types", db), model).height == 1


def test_unmapped_type_is_any_and_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A STRUCT column is typed Any, with a comment in the model and a warning on stderr."""
    db = _database(
        tmp_path / "s.duckdb", "CREATE TABLE s (id INTEGER, stats STRUCT(yards INTEGER))"
    )

    model = _generate(monkeypatch, db, "s", tmp_path / "s.py")

    assert model.model_fields["stats"].annotation is Any
    assert (
        "# DuckDB type STRUCT(yards INTEGER) has no Python type here"
        in (tmp_path / "s.py").read_text()
    )
    err = capsys.readouterr().err
    assert "warning: column 'stats' has DuckDB type STRUCT(yards INTEGER)" in err


def test_odd_column_names_get_safe_fields_aliased_to_the_columns(
    odd_names_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names that cannot be fields are renamed, and the alias keeps the column's name."""
    model = _generate(monkeypatch, odd_names_db, "odd_names", tmp_path / "odd.py")

    aliases = {name: info.alias for name, info in model.model_fields.items()}
    assert aliases == {
        "player_name": "Player Name",
        "class_": "class",
        "col_model_year": "model_year",
        "col_2pt": "2pt",
        "json_": "json",
        "x_2": "_x",
        "x": None,
        "a_b": 'a"b',
        "a_b_2": "a'b",
        "a_column_name_long_enough_that_its_field_and_alias_need_two_lines": None,
    }


@pytest.mark.parametrize(
    "validate",
    [validate_frame.fn, validate_records],
    ids=["validate_frame", "validate_records"],
)
def test_aliased_model_accepts_the_marts_rows(
    odd_names_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    validate: Callable[..., Any],
) -> None:
    """The mart's frame, under its own column names, validates against the aliased model."""
    model = _generate(monkeypatch, odd_names_db, "odd_names", tmp_path / "odd.py")

    assert len(validate(load_dbt_mart.fn("odd_names", odd_names_db), model)) == 2


@pytest.mark.parametrize("line_length", ["88", "100", "120"])
def test_generated_module_passes_ruff_as_it_is(
    odd_names_db: Path, tmp_path: Path, line_length: str
) -> None:
    """Aliases, quotes and long names included, ruff finds nothing to check or format."""
    out = tmp_path / "odd.py"
    assert main(["model", "odd_names", "--db", str(odd_names_db), "--out", str(out)]) == 0

    checked = _ruff(out, "check", "--line-length", line_length, "--select", "E,F,W,I,UP,RUF")
    formatted = _ruff(out, "format", "--line-length", line_length, "--check", "--diff")

    assert checked.returncode == 0, checked.stdout
    assert formatted.returncode == 0, formatted.stdout


def test_schema_qualified_mart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`schema.table` reads a mart outside the main schema."""
    db = _database(
        tmp_path / "q.duckdb", "CREATE SCHEMA marts", "CREATE TABLE marts.points (pts DOUBLE)"
    )

    model = _generate(monkeypatch, db, "marts.points", tmp_path / "points.py")

    assert model.__name__ == "PointsRow"
    assert list(model.model_fields) == ["pts"]


def test_unknown_mart_exits_2_listing_the_marts_that_exist(
    synthetic_marts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt mart exits 2 on one line that names it and the marts there are."""
    assert main(["model", "mrt_fantasy_actuals_wekly", "--db", str(synthetic_marts)]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "mart 'mrt_fantasy_actuals_wekly' does not exist" in err
    assert "first: mrt_fantasy_actuals_weekly, dim_player" in err


@pytest.mark.parametrize(
    ("mart", "problem"),
    [
        ("x; DROP TABLE y", "is not a plain identifier"),
        ('x" --', "is not a plain identifier"),
        ("information_schema.columns", "is one of DuckDB's system catalogs"),
        ("duckdb_tables", "is one of DuckDB's system catalogs"),
    ],
)
def test_a_name_that_is_not_a_mart_exits_2(
    synthetic_marts: Path, mart: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Names load_dbt_mart refuses (SQL, system catalogs) are refused the same way."""
    assert main(["model", mart, "--db", str(synthetic_marts)]) == 2

    err = capsys.readouterr().err
    assert repr(mart) in err
    assert problem in err


def test_missing_database_file_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--db at a file that does not exist exits 2, naming the path and the option."""
    missing = tmp_path / "missing.duckdb"

    assert main(["model", MART_TABLE, "--db", str(missing)]) == 2

    err = capsys.readouterr().err
    assert f"DuckDB database {str(missing)!r} (from --db) does not exist" in err
    assert not missing.exists()


def test_without_db_or_setting_exits_2_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With neither --db nor FF_DUCKDB_PATH, the error names both ways to give one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FF_DUCKDB_PATH", raising=False)
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)

    assert main(["model", MART_TABLE]) == 2

    err = capsys.readouterr().err
    assert "pass --db" in err
    assert "FF_DUCKDB_PATH" in err


def test_db_defaults_to_ff_duckdb_path(
    synthetic_marts: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --db the model is read from the file FF_DUCKDB_PATH names."""
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)
    monkeypatch.setenv("FF_DUCKDB_PATH", str(synthetic_marts))

    assert main(["model", MART_TABLE]) == 0

    assert "class MrtFantasyActualsWeeklyRow(BaseModel):" in capsys.readouterr().out


def test_existing_out_file_is_refused_and_kept(
    synthetic_marts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out at a file that exists exits 2 and leaves the file as it was."""
    out = tmp_path / "models.py"
    out.write_text("# hand-written\n")

    assert main(["model", MART_TABLE, "--db", str(synthetic_marts), "--out", str(out)]) == 2

    assert f"--out {str(out)!r} already exists" in capsys.readouterr().err
    assert out.read_text() == "# hand-written\n"


def test_class_name_option_names_the_model(
    synthetic_marts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--class-name replaces the name derived from the mart's."""
    model = _generate(
        monkeypatch, synthetic_marts, MART_TABLE, tmp_path / "w.py", "--class-name", "WeeklyRow"
    )

    assert model.__name__ == "WeeklyRow"


@pytest.mark.parametrize("class_name", ["weekly-row", "class", "BaseModel", "_Private", "1Row"])
def test_invalid_class_name_exits_2(
    synthetic_marts: Path, class_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --class-name that cannot name the class in the module exits 2, naming it."""
    args = ["model", MART_TABLE, "--db", str(synthetic_marts), "--class-name", class_name]

    assert main(args) == 2

    assert f"--class-name {class_name!r} cannot name the model" in capsys.readouterr().err


def test_runs_as_a_real_command_printing_what_out_writes(
    synthetic_marts: Path, tmp_path: Path
) -> None:
    """The installed script prints the model exactly as --out writes it."""
    out = tmp_path / "weekly.py"
    assert main(["model", MART_TABLE, "--db", str(synthetic_marts), "--out", str(out)]) == 0
    script = Path(sys.executable).with_name("ff-prefect-kit")

    done = subprocess.run(
        [str(script), "model", MART_TABLE, "--db", str(synthetic_marts)],
        env={**os.environ, "FF_ENV_FILE": os.devnull, "COLUMNS": "40"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == out.read_text()


# --- the adopter's first hour -----------------------------------------------------------

_IMPORTS_OF_A_RUN = """
import sys
from ff_prefect_kit.cli import main
code = main(["model", sys.argv[1], "--db", sys.argv[2]])
heavy = sorted({name.split(".")[0] for name in sys.modules} & {"prefect", "polars", "pyarrow"})
print(code, heavy)
"""


def test_the_command_imports_neither_prefect_nor_polars(synthetic_marts: Path) -> None:
    """`model` reads the catalog only: Prefect and Polars stay unloaded, so it starts fast."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS_OF_A_RUN, MART_TABLE, str(synthetic_marts)],
        env={**os.environ, "FF_ENV_FILE": os.devnull},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "0 []"


def test_help_has_no_stray_markup(capsys: pytest.CaptureFixture[str]) -> None:
    """`model --help` describes MART and shows no rich escape such as `\\[required]`."""
    assert main(["model", "--help"]) == 0
    out = capsys.readouterr().out
    assert "MART is the mart's name" in out
    assert "\\[" not in out


@pytest.mark.parametrize(
    ("column", "rows", "annotation", "noted"),
    [
        ("v INTEGER NOT NULL", "(1), (2)", "int", False),
        ("v INTEGER", "(1), (2)", "int | None", True),
        ("v INTEGER", "(1), (NULL)", "int | None", False),
        ("v INTEGER", "", "int | None", False),
    ],
    ids=["not-null", "no-null-seen", "null-seen", "no-rows"],
)
def test_a_nullable_column_without_nulls_is_kept_optional_and_marked(
    tmp_path: Path, column: str, rows: str, annotation: str, noted: bool
) -> None:
    """NOT NULL gives `X`; a nullable column stays `X | None`, marked when it holds no NULL."""
    statements = [f"CREATE TABLE t ({column})"] + ([f"INSERT INTO t VALUES {rows}"] if rows else [])
    db = _database(tmp_path / "t.duckdb", *statements)
    out = tmp_path / "t.py"

    assert main(["model", "t", "--db", str(db), "--out", str(out)]) == 0

    lines = out.read_text().splitlines()
    (field,) = [line for line in lines if line.startswith("    v:")]
    assert field.split("  #")[0] == f"    v: {annotation}"
    assert field.endswith("  # no NULL in the data") is noted


@pytest.mark.parametrize("line_length", ["88", "100"])
def test_a_module_with_no_null_notes_passes_ruff(tmp_path: Path, line_length: str) -> None:
    """Notes after short fields, above long ones and above split aliases: ruff is content."""
    long_name = "a_column_name_long_enough_that_its_note_goes_above_the_field"
    db = _database(
        tmp_path / "notes.duckdb",
        f'CREATE TABLE notes (id INTEGER, {long_name} DOUBLE, "{long_name} 2" VARCHAR)',
        "INSERT INTO notes VALUES (1, 2.5, 'x')",
    )
    out = tmp_path / "notes.py"
    assert main(["model", "notes", "--db", str(db), "--out", str(out)]) == 0

    checked = _ruff(out, "check", "--line-length", line_length, "--select", "E,F,W,I,UP,RUF")
    formatted = _ruff(out, "format", "--line-length", line_length, "--check", "--diff")

    notes = [
        line for line in out.read_text().splitlines() if line.endswith("# no NULL in the data")
    ]
    assert len(notes) == 3
    assert checked.returncode == 0, checked.stdout
    assert formatted.returncode == 0, formatted.stdout


ODD_MART_NAMES = ["_2024_stats", "_9", "__", "_$", "x$2", "a__b", "_1a_b", "none", "class_"]


@pytest.mark.parametrize("mart", ODD_MART_NAMES)
def test_the_default_class_name_is_a_python_class_name(mart: str) -> None:
    """Whatever the mart's name, the class's is an identifier, not a keyword, and compiles."""
    name = default_class_name(mart)

    assert name.isidentifier()
    assert not keyword.iskeyword(name)
    source = render_model(mart, name, model_fields([MartColumn("v", "INTEGER", True)]))
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<{mart}>", "exec"), namespace)
    assert issubclass(namespace[name], BaseModel)


@given(mart=st.from_regex(r"[A-Za-z_][A-Za-z0-9_$]{0,20}", fullmatch=True))
def test_every_mart_name_gives_a_class_name(mart: str) -> None:
    """Any name load_dbt_mart accepts yields a usable class name."""
    name = default_class_name(mart)
    assert name.isidentifier()
    assert not keyword.iskeyword(name)
    assert name not in MODULE_NAMES


def test_a_mart_named_from_a_digit_gets_an_importable_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`model _2024_stats` writes `class Mart2024StatsRow`, which imports."""
    db = _database(tmp_path / "s.duckdb", "CREATE TABLE _2024_stats (yards INTEGER)")

    model = _generate(monkeypatch, db, "_2024_stats", tmp_path / "stats.py")

    assert model.__name__ == "Mart2024StatsRow"
