"""The subprocess runner: dbt through a command (`["just", "dbt-run"]`, `["dbt", "build"]`).

The options are appended to the command, shell-quoted when a `just` recipe passes
them through a shell; the command is looked up on a PATH that puts this
interpreter's scripts first; dbt's results are read back from `run_results.json`.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ff_prefect_kit._errors import DBT_EXTRA_HINT, JUST_HINT, DbtRunError
from ff_prefect_kit._secrets import redact

__all__ = ["invoke_subprocess"]

_TAIL_LINES = 20

_dbt_logger = logging.getLogger("ff_prefect_kit.dbt")


def invoke_subprocess(
    command: Sequence[str],
    options: list[str],
    project: Path,
    env: Mapping[str, str] | None,
    *,
    cwd: Path | None = None,
) -> tuple[list[str], bool, str, dict[str, Any] | None, str]:
    """Run `command` with `options` appended, in `cwd`, with `env` over this environment.

    Args:
        command: The argv prefix, e.g. `["just", "dbt-run"]`.
        options: dbt's options (`--select ...`), appended to `command`.
        project: The dbt project directory (dbt writes `target/` there).
        env: Environment variables over this process's.
        cwd: The working directory of the command; default the project directory.

    Returns:
        What ran, whether it exited 0, its exit status as text, dbt's
        `run_results.json` (or `None` when it wrote none), and its output's last lines.

    Raises:
        DbtRunError: `command` is empty, or its executable is not on PATH.
    """
    if not command:
        raise DbtRunError("command is empty: pass e.g. ['dbt', 'build'] or ['just', 'dbt-run']")
    variables = _subprocess_environment(env)
    executable = _which(command[0], variables)
    # A `just` recipe's `{{ARGS}}` goes through a shell: quote each argument so that
    # JSON vars and multi-word selectors arrive whole ("$@" recipes get them as they are).
    cwd = cwd or project
    if Path(executable).name == "just" and _just_uses_a_shell(executable, command, cwd, variables):
        options = [shlex.quote(option) for option in options]
    argv = [executable, *command[1:], *options]
    results = project / "target" / "run_results.json"
    # A run that fails before dbt writes results must not report an older run's.
    results.unlink(missing_ok=True)
    completed = subprocess.run(
        argv,
        cwd=cwd,
        env=variables,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        check=False,
    )
    raw = json.loads(results.read_text(encoding="utf-8")) if results.is_file() else None
    for line in completed.stdout.splitlines():
        if line.strip():
            _dbt_logger.info("%s", redact(line))
    output = completed.stderr.strip() or completed.stdout.strip()
    tail = redact("\n".join(output.splitlines()[-_TAIL_LINES:]))
    detail = f"exit status {completed.returncode}"
    return [*command, *options], completed.returncode == 0, detail, raw, tail


def _just_uses_a_shell(
    executable: str, command: Sequence[str], cwd: Path, variables: Mapping[str, str]
) -> bool:
    """Whether the `just` recipe interpolates its arguments into a shell line (`{{ARGS}}`).

    A recipe (or justfile) with `positional-arguments` gets them as `"$@"` instead.
    Where the justfile cannot be read, the usual `{{ARGS}}` is assumed.
    """
    dumped = subprocess.run(
        [executable, "--dump", "--dump-format", "json"],
        cwd=cwd,
        env=dict(variables),
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        justfile = json.loads(dumped.stdout)
        recipe = next((part for part in command[1:] if not part.startswith("-")), None)
        name = recipe or justfile.get("first")
        attributes = justfile["recipes"][name].get("attributes", [])
        positional = bool(justfile["settings"].get("positional_arguments"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return True
    return not (positional or "positional-arguments" in json.dumps(attributes))


def _subprocess_environment(env: Mapping[str, str] | None) -> dict[str, str]:
    """This process's environment with `env` over it.

    Unless `env` sets `PATH`, this interpreter's scripts folder comes first on it, so
    that a recipe's `dbt` (or `just`) is the one installed beside the kit.
    """
    variables = {**os.environ, **(env or {})}
    if env is None or "PATH" not in env:
        scripts = str(Path(sys.executable).parent)
        variables["PATH"] = os.pathsep.join([scripts, variables.get("PATH", "")])
    return variables


def _which(name: str, environment: Mapping[str, str]) -> str:
    if name == "dbt":
        # The dbt of this environment first: another one on PATH may carry another
        # DuckDB major version, whose files this environment's DuckDB cannot open.
        beside = Path(sys.executable).with_name("dbt")
        if beside.is_file():
            return str(beside)
    found = shutil.which(name, path=environment.get("PATH"))
    if found is not None:
        return found
    if name == "dbt":
        raise DbtRunError(f"{DBT_EXTRA_HINT}; `dbt` was not found on PATH")
    if name == "just":
        raise DbtRunError(
            f"`just` was not found on PATH: {JUST_HINT}, "
            "or run dbt in-process by leaving `command` unset"
        )
    raise DbtRunError(
        f"{name!r} was not found on PATH: check the `command` given to run_dbt_models"
    )
