"""Your own modules that an in-process dbt would import: found before dbt starts.

When dbt starts an invocation it imports every top-level module whose name starts
with `dbt_` that Python can find (`dbt.plugins.manager`: `pkgutil.iter_modules()`
over `sys.path`, looking for plugins). In-process, `sys.path` starts with the
script's own folder, so a script named `dbt_fn.py`, or a sibling `dbt_logs_api.py`,
is imported inside dbt's invocation: the first ran itself again and waited forever
for the in-process lock it held; the second read `sys.argv[1]` at import and failed
the build with `list index out of range`. A `dbt.py` there hides dbt itself.

Only modules outside the installed libraries and the standard library count: the
`dbt_*` packages dbt-core installs (`dbt_common`, ...) are meant to be found.
"""

from __future__ import annotations

import os
import pkgutil
import sys
import sysconfig
from pathlib import Path

from ff_prefect_kit._errors import DbtRunError

__all__ = ["refuse_shadowing_modules", "shadowing_modules"]

_PREFIX = "dbt_"


def _library_roots() -> list[Path]:
    names = ("stdlib", "platstdlib", "purelib", "platlib")
    return [Path(path).resolve() for name in names if (path := sysconfig.get_path(name))]


def _is_library(entry: Path, roots: list[Path]) -> bool:
    if any(part in ("site-packages", "dist-packages") for part in entry.parts):
        return True
    if entry.suffix == ".zip" and entry.is_relative_to(Path(sys.base_prefix).resolve()):
        return True  # the standard library's own zip (`python311.zip`)
    return any(entry.is_relative_to(root) for root in roots)


def shadowing_modules() -> list[Path]:
    """The files of your own modules that dbt would import: `dbt_*`, or a `dbt` of your own.

    Returns:
        Each module's file (a package's `__init__.py`), in `sys.path` order.
    """
    roots = _library_roots()
    found = []
    # The first module of each name on sys.path is the one an import finds.
    for module in pkgutil.iter_modules():
        if not (module.name.startswith(_PREFIX) or module.name == "dbt"):
            continue
        folder = getattr(module.module_finder, "path", None)
        if not isinstance(folder, str):
            continue
        entry = Path(folder or os.getcwd()).resolve()
        if _is_library(entry, roots):
            continue
        spec = module.module_finder.find_spec(module.name, None)
        origin = getattr(spec, "origin", None)
        found.append(Path(origin) if isinstance(origin, str) else entry / module.name)
    return found


def refuse_shadowing_modules() -> None:
    """Raise before an in-process dbt run would import one of your modules.

    Raises:
        DbtRunError: Names the module's file and the fix: rename it, or run dbt as a
            subprocess (`command=["dbt", "build"]`), whose import path is dbt's own.
    """
    found = shadowing_modules()
    if not found:
        return
    script = getattr(sys.modules.get("__main__"), "__file__", None)
    lines = []
    for path in found:
        name = path.parent.name if path.name == "__init__.py" else path.stem
        if name == "dbt":
            why = "it hides the dbt package itself"
        elif script is not None and Path(script).resolve() == path.resolve():
            why = "it is this script: dbt would import and run it again inside its own run"
        else:
            why = "dbt imports it, running its code, inside its own run"
        new = "run_dbt" if name == "dbt" else f"{name.removeprefix(_PREFIX)}_dbt"
        new += "" if path.name == "__init__.py" else path.suffix
        lines.append(f"  - {path} ({why}): rename it, e.g. to {new}")
    raise DbtRunError(
        "dbt, run in-process, imports every module named dbt_* it finds on Python's import "
        "path (looking for plugins), which starts with your script's folder; these are "
        "yours:\n" + "\n".join(lines) + "\nOr run dbt as a subprocess, whose import path "
        "is dbt's own: run_dbt_models(..., command=['dbt', 'build'])"
    )
