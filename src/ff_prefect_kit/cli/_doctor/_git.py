"""The check that every `.env` file inside a git work tree is ignored by git, never committed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ff_prefect_kit.cli._doctor._result import CheckResult, fail, ok, skip, warn
from ff_prefect_kit.cli._doctor._settings import settings_file

__all__ = ["check_env_ignored"]


def _env_files() -> list[Path]:
    candidates = [Path(".env"), settings_file()]
    files: list[Path] = []
    for file in candidates:
        if file.is_file() and file.resolve() not in {f.resolve() for f in files}:
            files.append(file)
    return files


def _git(git: str, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [git, "-C", str(folder), *args], capture_output=True, text=True, check=False
    )


def check_env_ignored() -> list[CheckResult]:
    name = ".env kept out of git"
    files = _env_files()
    if not files:
        return [skip(name, "no .env file")]
    git = shutil.which("git")
    if git is None:
        return [skip(name, "git is not installed: cannot tell whether .env is ignored")]
    return [_check_ignored(name, git, file) for file in files]


def _check_ignored(name: str, git: str, file: Path) -> CheckResult:
    folder, base = file.absolute().parent, file.name
    inside = _git(git, folder, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        why = inside.stderr.strip().splitlines()[-1] if inside.stderr.strip() else ""
        if why and "not a git repository" not in why:
            return skip(name, f"git cannot read the repository of {file}: {why}")
        return skip(name, f"{file} is not in a git work tree")
    if _git(git, folder, "ls-files", "--error-unmatch", "--", base).returncode == 0:
        return fail(
            name,
            f"{file} is committed to git: its secrets are in the history",
            f"`git rm --cached {base}`, add {base} to .gitignore, and replace every secret "
            "it held (webhook, API key)",
        )
    ignored = _git(git, folder, "check-ignore", "-q", "--", base)
    if ignored.returncode == 0:
        return ok(name, f"{file} is ignored by git")
    if ignored.returncode == 1:
        return fail(
            name,
            f"{file} is not ignored by git: `git add .` would commit its secrets",
            f"add a line `{base}` to .gitignore",
        )
    return warn(name, f"git check-ignore failed: {ignored.stderr.strip()}", "check the repo")
