"""dbt's command line for a `run_dbt_models` call: only what the caller asked for.

dbt re-parses the whole project when the invocation's `--vars`, `--profile` or
`--target` differ from the previous run's, as typed (not as resolved): `--target dev`
after a plain `dbt build` re-parses even when `dev` is the profile's default. So the
kit adds none of its own, leaves out a `target` that names the target dbt would pick
anyway, and refuses extra arguments that would set what its own keywords set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ff_prefect_kit._errors import DbtRunError, InvalidOptionError

__all__ = ["checked_extra_args", "checked_working_dir", "default_target", "profiles_dir_option"]

# The options the kit sets, and the keyword of run_dbt_models that sets each.
_KIT_OPTIONS = {
    "--select": "the selector (the first argument)",
    "-s": "the selector (the first argument)",
    "--models": "the selector (the first argument)",
    "-m": "the selector (the first argument)",
    "--project-dir": "project_dir=",
    "--profiles-dir": "profiles_dir=",
    "--target": "target=",
    "-t": "target=",
    "--vars": "vars=",
}


def checked_extra_args(extra_args: Sequence[str] | None) -> list[str]:
    """The extra arguments as a list, each a str, none setting what the kit sets.

    Raises:
        InvalidOptionError: `extra_args` is a single string or not a sequence, holds
            something other than a str, or sets an option the kit sets; the message
            names it and the keyword to use instead.
    """
    if extra_args is None:
        return []
    if isinstance(extra_args, str | bytes) or not isinstance(extra_args, Sequence):
        raise InvalidOptionError(
            f"extra_args must be a list of strings, one per argument, e.g. "
            f"['--indirect-selection', 'cautious']; got {extra_args!r}"
        )
    for arg in extra_args:
        if not isinstance(arg, str):
            raise InvalidOptionError(
                f"extra_args holds {arg!r} ({type(arg).__name__}): each argument must be a "
                f"str, e.g. ['--threads', '4']"
            )
        option = _option(arg)
        if option in _KIT_OPTIONS:
            raise InvalidOptionError(
                f"extra_args may not set {option} ({arg!r}): run_dbt_models sets it itself; "
                f"pass {_KIT_OPTIONS[option]} instead"
            )
    return list(extra_args)


def _option(arg: str) -> str:
    """The option an argument sets: `--target=ci` is `--target`, `-tci` is `-t`."""
    if arg.startswith("--"):
        return arg.split("=", 1)[0]
    if arg.startswith("-") and len(arg) > 2:
        return arg[:2]
    return arg


def checked_working_dir(working_dir: str | os.PathLike[str] | None, project: Path) -> Path:
    """The directory dbt runs in: `working_dir` made absolute, else the project.

    Raises:
        DbtRunError: `working_dir` is not a directory.
    """
    if working_dir is None:
        return project
    directory = Path(working_dir).resolve()
    if not directory.is_dir():
        raise DbtRunError(
            f"working_dir {str(working_dir)!r} is not a directory: pass the folder your own "
            "dbt command runs in (relative paths in the models are read from there), or "
            "leave it unset to run in the project directory"
        )
    return directory


def _environment(env: Mapping[str, str] | None, name: str) -> str | None:
    return (env or {}).get(name) or os.environ.get(name) or None


def profiles_dir_option(
    profiles_dir: str | os.PathLike[str] | None,
    env: Mapping[str, str] | None,
    cwd: Path,
    project: Path,
) -> tuple[Path, bool]:
    """The folder dbt reads `profiles.yml` from, and whether to pass it as `--profiles-dir`.

    dbt's own order: `--profiles-dir`, else `DBT_PROFILES_DIR`, else the working
    directory when it has a `profiles.yml`, else `~/.dbt`. When dbt runs outside the
    project (`working_dir`), the project's `profiles.yml` comes before `~/.dbt`, passed
    as `--profiles-dir`, as it is found when dbt runs in the project.
    """
    if profiles_dir is not None:
        return Path(profiles_dir).resolve(), True
    from_env = _environment(env, "DBT_PROFILES_DIR")
    if from_env is not None:
        return (cwd / from_env).resolve(), False
    if (cwd / "profiles.yml").is_file():
        return cwd, False
    if (project / "profiles.yml").is_file():
        return project, True
    return Path.home() / ".dbt", False


def default_target(
    profiles: Path, project: Path, env: Mapping[str, str] | None, extra_args: Sequence[str]
) -> str | None:
    """The target dbt picks without `--target`; `None` when the kit cannot tell.

    `DBT_TARGET` when set; else the profile's `target:` (`default` without one). A
    `target:` that is Jinja (`{{ env_var(...) }}`), an unreadable profile, or a
    `--profile` among the extra arguments leave it unknown.
    """
    from_env = _environment(env, "DBT_TARGET")
    if from_env is not None:
        return from_env
    if any(_option(arg) == "--profile" for arg in extra_args):
        return None
    name = _environment(env, "DBT_PROFILE") or _yaml(project / "dbt_project.yml").get("profile")
    profile = _yaml(profiles / "profiles.yml").get(name) if isinstance(name, str) else None
    if not isinstance(profile, Mapping):
        return None
    target = profile.get("target", "default")
    if not isinstance(target, str) or "{" in target:
        return None
    return target


def _yaml(path: Path) -> Mapping[str, Any]:
    import yaml  # type: ignore[import-untyped]  # PyYAML ships no types; Prefect requires it

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, Mapping) else {}
