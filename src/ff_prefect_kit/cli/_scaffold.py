"""`new-flow`: scaffold an analytics flow, its tasks and its test into a project.

    flows/__init__.py             (if missing)
    flows/NAME_flow.py            the monitored flow: load mart -> compute -> validate -> Parquet
    flows/tasks/__init__.py       (if missing)
    flows/tasks/NAME.py           the compute task and the output model
    tests/__init__.py             (if missing)
    tests/test_NAME_flow.py       runs the flow on the kit's synthetic marts

`tests/__init__.py` is what lets a plain `pytest` from the project folder import
`flows`: pytest's default import mode puts the first folder above the test's package
(the project folder) on `sys.path`. No `pythonpath` setting and no `sys.path` edits.
The templates are files in `cli/templates/`, read with `importlib.resources`.
"""

from __future__ import annotations

import keyword
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from ff_prefect_kit.cli._output import console, run_command

__all__ = ["new_flow"]

_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# Longer names make lines in the generated code that a formatter would wrap.
_MAX_NAME = 30
_LINE_LENGTH = 88  # ruff's and black's default: the generated modules fit it
# Imported by the generated modules, or the package names the layout uses: a module of
# that name would shadow them wherever its folder is on sys.path (`python flows/tasks/x.py`).
_SHADOWED = frozenset(
    {"duckdb", "ff_prefect_kit", "flows", "polars", "prefect", "pydantic", "pytest", "tests"}
)
_INIT_FILES = {
    "flows/__init__.py": '"""The project\'s Prefect flows; their tasks are in flows.tasks."""\n',
    "flows/tasks/__init__.py": '"""The flows\' tasks, one module per flow."""\n',
    "tests/__init__.py": (
        '"""Tests. This file makes pytest put the project folder on sys.path: `flows`\n'
        'imports with a plain `pytest` from the project folder."""\n'
    ),
}


def new_flow(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME", help="The flow's name, lower_snake_case (e.g. weekly_points)."
        ),
    ],
    directory: Annotated[
        Path, typer.Option("--dir", help="The project folder to write into.")
    ] = Path("."),
) -> int:
    """Scaffold a flow, its tasks and its test into a project.

    Writes flows/NAME_flow.py (a monitored flow: load mrt_fantasy_actuals_weekly,
    compute, validate against a Pydantic model, write Parquet), flows/tasks/NAME.py
    and tests/test_NAME_flow.py, which runs the flow on the kit's synthetic marts.
    Existing files are never overwritten.
    """

    def run() -> int:
        _check_name(name)
        _check_directory(directory)
        files = render_files(name)
        written = _write_all(directory, files)
        out = console()
        where = "" if directory.resolve() == Path.cwd().resolve() else f" in {directory}"
        out.print(f"✔ Created the {name} flow{where}:", markup=False)
        for relative in written:
            out.print(f"  {relative}", markup=False)
        out.print("Next:", markup=False)
        if where:
            out.print(f"  cd {shlex.quote(str(directory))}", markup=False)
        out.print(f"  pytest tests/test_{name}_flow.py", markup=False)
        out.print(
            f"  FF_DUCKDB_PATH=path/to/marts.duckdb python -m flows.{name}_flow", markup=False
        )
        return 0

    return run_command(ctx, run)


def _check_name(name: str) -> None:
    from ff_prefect_kit._errors import InvalidOptionError

    problem = _name_problem(name)
    if problem is None:
        return
    suggestion = _suggest(name)
    fix = (
        f"try {suggestion!r}"
        if suggestion
        else "choose a short lower_snake_case name, e.g. 'weekly_points'"
    )
    raise InvalidOptionError(f"flow name {name!r} {problem}: {fix}")


def _name_problem(name: str) -> str | None:
    """Why `name` cannot name a flow, or `None` when it can."""
    checks = (
        (
            not _NAME.fullmatch(name),
            "is not a lower_snake_case Python identifier (lower-case letters, digits, "
            "single '_' between them, starting with a letter)",
        ),
        (len(name) > _MAX_NAME, f"is longer than {_MAX_NAME} characters"),
        (keyword.iskeyword(name) or keyword.issoftkeyword(name), "is a Python keyword"),
        (
            name in sys.stdlib_module_names or name in _SHADOWED,
            "is the name of a module the flow imports (or of the standard library)",
        ),
        (
            name.startswith("test_") or name.endswith("_test"),
            "would make pytest collect flows/tasks/NAME.py as a test module",
        ),
        (name.endswith("_flow"), "ends with '_flow', which the command adds itself"),
    )
    return next((problem for failed, problem in checks if failed), None)


def _suggest(name: str) -> str | None:
    """A name close to `name` that passes, if one is easy to find."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    candidate = re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", snake.lower())).strip("_")
    candidate = candidate.removesuffix("_flow").removeprefix("test_").removesuffix("_test")
    if candidate[:1].isdigit():
        candidate = f"flow_{candidate}"
    if candidate and _name_problem(candidate) is not None:
        candidate = f"{candidate}_report"
    if not candidate or candidate == name or _name_problem(candidate) is not None:
        return None
    return candidate


def _check_directory(directory: Path) -> None:
    from ff_prefect_kit._errors import InvalidOptionError

    if not directory.is_dir():
        raise InvalidOptionError(
            f"--dir {str(directory)!r} is not an existing folder: create it first, or pass "
            "the project folder"
        )


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _natural(module: str) -> list[str | int]:
    # Digits compare as numbers, as ruff's import sorting compares them.
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", module.lower())]


def _import(module: str, names: list[str]) -> str:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= _LINE_LENGTH:
        return line
    # The trailing comma keeps it split at any line length a formatter uses.
    return "\n".join([f"from {module} import (", *(f"    {n}," for n in names), ")"])


def render_files(name: str) -> dict[str, str]:
    """The scaffold's files for flow `name`: relative path -> content.

    The `__init__.py` files are written only where missing.
    """
    from importlib.resources import files
    from string import Template

    model = f"{_camel(name)}Output"
    flow_module, tasks_module = f"flows.{name}_flow", f"flows.tasks.{name}"
    imports = {
        flow_module: _import(flow_module, [f"{name}_flow"]),
        tasks_module: _import(tasks_module, [model, f"compute_{name}"]),
    }
    values = {
        "name": name,
        "dashed": name.replace("_", "-"),
        "model": model,
        "task_import": imports[tasks_module],
        "flow_imports": "\n".join(imports[m] for m in sorted(imports, key=_natural)),
    }
    templates = files("ff_prefect_kit.cli") / "templates"

    def render(template: str) -> str:
        return Template((templates / template).read_text(encoding="utf-8")).substitute(values)

    return {
        "flows/__init__.py": _INIT_FILES["flows/__init__.py"],
        f"flows/{name}_flow.py": render("flow.py.tmpl"),
        "flows/tasks/__init__.py": _INIT_FILES["flows/tasks/__init__.py"],
        f"flows/tasks/{name}.py": render("tasks.py.tmpl"),
        "tests/__init__.py": _INIT_FILES["tests/__init__.py"],
        f"tests/test_{name}_flow.py": render("test_flow.py.tmpl"),
    }


def _write_all(directory: Path, files: dict[str, str]) -> list[str]:
    """Write the files that are new; refuse before writing any if a target exists."""
    from ff_prefect_kit._errors import OutputPathError

    targets = {relative: directory / relative for relative in files}
    existing = [
        relative
        for relative, path in targets.items()
        if relative not in _INIT_FILES and os.path.lexists(path)
    ]
    blocked = [
        str(parent)
        for path in targets.values()
        for parent in path.relative_to(directory).parents
        if (directory / parent).exists() and not (directory / parent).is_dir()
    ]
    if existing or blocked:
        found = existing or sorted(set(blocked))
        raise OutputPathError(
            f"new-flow never overwrites, and {', '.join(found)} already exist(s) in "
            f"{str(directory)!r}: choose another flow name, or move them away (nothing "
            "was written)"
        )
    written: list[str] = []
    try:
        for relative, content in files.items():
            path = targets[relative]
            if relative in _INIT_FILES and os.path.lexists(path):
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as file:
                file.write(content)
            written.append(relative)
    except FileExistsError as exc:
        # Another process created a target since the check: undo this run's files.
        for relative in written:
            targets[relative].unlink(missing_ok=True)
        raise OutputPathError(
            f"{exc.filename!r} appeared while new-flow was writing, and it never "
            "overwrites: the files it had written are removed; run it again"
        ) from None
    return written
