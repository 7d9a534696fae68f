"""`ff-prefect-kit init`: the project's .env for local runs, kept out of git, never overwritten."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ff_prefect_kit.cli import main
from ff_prefect_kit.cli._local_settings import LOCAL_SETTINGS, LOCAL_SETTINGS_TEXT

ENV_EXAMPLE = Path(__file__).parents[2] / ".env.example"
TIMEOUT, ANALYTICS = (name for name, _ in LOCAL_SETTINGS)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder, the working directory."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def run_init(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `ff-prefect-kit init` in this process: its exit code, stdout and stderr."""
    code = main(["init", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_env_example_ends_with_what_init_writes() -> None:
    """`.env.example` ends with init's text word for word, and sets no other Prefect setting."""
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert text.endswith(LOCAL_SETTINGS_TEXT)
    prefect_lines = [line for line in text.splitlines() if line.startswith("PREFECT_")]
    assert prefect_lines == [f"{name}={value}" for name, value in LOCAL_SETTINGS]


def test_the_kits_own_commands_use_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """`embedded_defaults` gives the kit's commands the values init writes."""
    import prefect.settings
    from prefect.settings import temporary_settings

    from ff_prefect_kit.cli._main import embedded_defaults

    for name, _ in LOCAL_SETTINGS:
        monkeypatch.delenv(name, raising=False)  # an explicit variable would win
    settings = [getattr(prefect.settings, name) for name, _ in LOCAL_SETTINGS]
    with temporary_settings(restore_defaults=set(settings)), embedded_defaults():
        values = [str(setting.value()).lower() for setting in settings]
    assert values == [value for _, value in LOCAL_SETTINGS]


def test_a_new_project_gets_env_and_gitignore(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """In an empty folder, init writes .env with the two settings and a .gitignore with .env."""
    code, out, _ = run_init(capsys)
    assert code == 0
    assert (project / ".env").read_text() == LOCAL_SETTINGS_TEXT
    assert (project / ".gitignore").read_text() == ".env\n"
    assert f".env: created with {TIMEOUT}=180, {ANALYTICS}=false" in out


def test_a_new_env_is_readable_by_its_owner_only(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The .env init creates, which will hold secrets, has mode 0600."""
    assert run_init(capsys)[0] == 0
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o600


def test_prefect_reads_the_written_settings(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fresh Python process in the project sees both settings through Prefect's .env."""
    assert run_init(capsys)[0] == 0
    code = f"import prefect.settings as s; print(s.{TIMEOUT}.value(), s.{ANALYTICS}.value())"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env={**environment, "PREFECT_HOME": str(project / ".prefect-home")},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split() == ["180", "False"]


def test_an_existing_env_keeps_every_line_and_gets_the_missing_keys(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Lines already in .env stay as they were; the settings are appended after them."""
    before = "DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/1/tok\nFF_DATA_DIR=out"
    (project / ".env").write_text(before)
    code, out, _ = run_init(capsys)
    assert code == 0
    assert (project / ".env").read_text() == f"{before}\n\n{LOCAL_SETTINGS_TEXT}"
    assert f".env: added {TIMEOUT}=180, {ANALYTICS}=false" in out
    assert "tok" not in out


def test_a_key_already_set_is_left_as_it_is(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A setting .env already has keeps its value; only the other one is added."""
    (project / ".env").write_text(f"export {TIMEOUT}=600\n# {ANALYTICS}=true\n")
    code, out, _ = run_init(capsys)
    assert code == 0
    text = (project / ".env").read_text()
    assert f"export {TIMEOUT}=600\n" in text
    assert f"{TIMEOUT}=180" not in text
    assert text.endswith(f"{ANALYTICS}=false\n")
    assert f".env already sets {TIMEOUT} (kept as set)" in out


def test_running_init_twice_changes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second run leaves .env and .gitignore byte for byte, and says so."""
    assert run_init(capsys)[0] == 0
    first = ((project / ".env").read_bytes(), (project / ".gitignore").read_bytes())
    code, out, _ = run_init(capsys)
    assert code == 0
    assert ((project / ".env").read_bytes(), (project / ".gitignore").read_bytes()) == first
    assert ".gitignore: already ignores .env" in out
    assert "kept as set" in out


@pytest.mark.parametrize("line", [".env", "/.env", ".env*", "*.env", "**/.env"])
def test_a_gitignore_that_ignores_env_is_left_alone(
    line: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A .gitignore whose patterns already ignore .env is not changed."""
    (project / ".gitignore").write_text(f"__pycache__/\n{line}\n")
    assert run_init(capsys)[0] == 0
    assert (project / ".gitignore").read_text() == f"__pycache__/\n{line}\n"


@pytest.mark.parametrize(
    "before", ["__pycache__/", "__pycache__/\n", ".env\n!.env\n", "config/.env\n", ".env/\n"]
)
def test_env_is_added_to_a_gitignore_that_does_not_ignore_it(
    before: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`.env` is appended on a line of its own; git then ignores the file."""
    (project / ".gitignore").write_text(before)
    assert run_init(capsys)[0] == 0
    after = (project / ".gitignore").read_text()
    assert after == before.rstrip("\n") + "\n.env\n"
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=project, check=False)
    assert ignored.returncode == 0


def test_init_says_what_to_do_next(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The output ends with the next commands: new-flow and doctor, and where the webhook goes."""
    _, out, _ = run_init(capsys)
    after = out.split("Next:\n", 1)[1]
    assert "ff-prefect-kit new-flow weekly_points" in after
    assert "ff-prefect-kit doctor" in after
    assert "DISCORD_WEBHOOK_URL" in after


def test_dir_writes_into_that_folder(
    tmp_path: Path, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--dir PATH` writes PATH/.env and PATH/.gitignore, nothing in the working directory."""
    other = tmp_path / "other"
    other.mkdir()
    assert run_init(capsys, "--dir", str(other))[0] == 0
    assert (other / ".env").read_text() == LOCAL_SETTINGS_TEXT
    assert list(project.iterdir()) == []


def test_a_dir_that_is_not_a_folder_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--dir` naming no folder: exit 2, one line naming it."""
    code, _, err = run_init(capsys, "--dir", "missing")
    assert code == 2
    assert err == (
        "error: --dir 'missing' is not an existing folder: create it first, or pass the "
        "project folder\n"
    )


def test_an_undecodable_env_is_refused_and_nothing_is_written(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A .env that is not UTF-8: exit 2 naming it, and neither file is touched."""
    (project / ".env").write_bytes(b"FF_DATA_DIR=\xff\n")
    code, _, err = run_init(capsys)
    assert code == 2
    assert err.startswith("error: .env is not UTF-8 text")
    assert len(err.splitlines()) == 1
    assert (project / ".env").read_bytes() == b"FF_DATA_DIR=\xff\n"
    assert not (project / ".gitignore").exists()


def test_an_env_that_is_a_folder_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder named .env: exit 2 saying to move it away."""
    (project / ".env").mkdir()
    code, _, err = run_init(capsys)
    assert code == 2
    assert err == "error: .env is not a file: move it away, then run init again\n"
