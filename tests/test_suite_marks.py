"""The suite's own marks: what CI runs again on the adopting project's pins."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import SLOW_FILES, STACK_TESTS

ROOT = Path(__file__).resolve().parents[1]


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_stack_entry_names_a_test_of_a_slow_family() -> None:
    """A STACK_TESTS entry that names no test, or a fast one, would silently run nowhere twice."""
    for entry in STACK_TESTS:
        file, _, name = entry.partition("::")
        assert file in SLOW_FILES, f"{entry}: not a slow family (the pins run has it anyway)"
        assert (ROOT / file).is_file(), f"{entry}: no such file"
        if name:
            assert name in _test_names(ROOT / file), f"{entry}: no such test"
