"""Module boundaries: who may touch other libraries' private parts, and where state lives."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
KIT = SRC / "ff_prefect_kit"

# The modules that may import `_internals`, each for the private parts it needs
# (docs/architecture.md has the table). A new importer is added here on purpose.
MAY_IMPORT_INTERNALS = {
    "alerts/_automations.py",  # a saved block's id
    "alerts/_block.py",  # Prefect's block registration and notify dispatch
    "alerts/_sinks.py",  # loading a block by slug/name
    "alerts/_throttle_api.py",  # the local API this process runs
    "cli/_doctor/_versions.py",  # the supported releases
    "core/_api_loss.py",  # a Prefect Flow retyped as a MonitoredFlow
    "core/_futures.py",  # what a wrapped task runner hands on
    "core/_recorded.py",  # whether this process runs Prefect's local API
    "core/_task.py",  # the retry schedule Prefect indexes
    "data/_columnar.py",  # Pydantic's constraint metadata
    "dbt/_in_process.py",  # dbt's global loggers and connections
    "dbt/_nodes.py",  # Prefect's task-run state events
    "testing/_database.py",  # Prefect's migrations folder
    "testing/_harness.py",  # Prefect's global settings context
    "testing/_recorder.py",  # Prefect's task-run recorder
}

# Mutable containers and locks that must not be created at a module's top level.
_MUTABLE = {"set", "dict", "list", "WeakSet", "Lock", "RLock", "OrderedDict", "defaultdict"}


def _modules() -> list[Path]:
    return sorted([*KIT.rglob("*.py"), *(SRC / "pytest_ff_prefect_kit").rglob("*.py")])


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports_internals(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "ff_prefect_kit._internals":
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "ff_prefect_kit"
            and any(alias.name == "_internals" for alias in node.names)
        ):
            return True
    return False


def test_only_the_allowed_modules_import_the_internals() -> None:
    """`_internals` is imported by exactly the modules on the allow-list."""
    importers = {
        path.relative_to(KIT).as_posix()
        for path in _modules()
        if path.is_relative_to(KIT) and _imports_internals(_tree(path))
    }
    assert importers == MAY_IMPORT_INTERNALS


def _private_reaches(path: Path) -> list[str]:
    found = []
    for node in ast.walk(_tree(path)):
        where = f"{path.relative_to(SRC)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in ("ff_prefect_kit", "pytest_ff_prefect_kit"):
                continue
            parts = node.module.split(".")
            names = [alias.name for alias in node.names]
            if any(p.startswith("_") and p != "__future__" for p in parts) or any(
                n.startswith("_") and not n.startswith("__") for n in names
            ):
                found.append(f"{where} from {node.module} import {', '.join(names)}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if any(p.startswith("_") for p in alias.name.split(".")[1:]):
                    found.append(f"{where} import {alias.name}")
        elif isinstance(node, ast.Attribute) and node.attr == "__class__":
            if isinstance(node.ctx, ast.Store):
                found.append(f"{where} assigns __class__")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
            "getattr",
            "setattr",
            "hasattr",
        ):
            name = node.args[1] if len(node.args) > 1 else None
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                text = name.value
                if text.startswith("_") and not text.startswith(("__", "_ff_prefect_kit")):
                    found.append(f"{where} {node.func.id}(..., {text!r})")  # type: ignore[attr-defined]
    return found


@pytest.mark.parametrize(
    "path",
    [path for path in _modules() if path != KIT / "_internals.py"],
    ids=lambda p: p.relative_to(SRC).as_posix(),
)
def test_no_module_but_the_internals_reaches_into_a_library(path: Path) -> None:
    """Private modules, private names by string, and retyping stay in `_internals.py`."""
    assert _private_reaches(path) == []


def _module_level_state(path: Path) -> list[str]:
    found = []
    for node in _tree(path).body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(value, ast.Call):
            func = value.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in _MUTABLE:
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {name}()")
    return found


@pytest.mark.parametrize(
    "path",
    [path for path in _modules() if path != KIT / "_config.py"],
    ids=lambda p: p.relative_to(SRC).as_posix(),
)
def test_no_module_keeps_mutable_state_but_the_config(path: Path) -> None:
    """Sets, dicts, lists and locks made at import live in `_config.state` alone."""
    assert _module_level_state(path) == []
