"""The ff-prefect-kit command line."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from ff_prefect_kit.cli import main


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the installed version and exits 0."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == version("ff-prefect-kit")


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a command the usage is printed and the exit status is 2."""
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown command is a usage error naming it."""
    assert main(["dmeo"]) == 2
    assert "No such command 'dmeo'" in capsys.readouterr().err


def test_dead_prefect_api_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """demo with PREFECT_API_URL at a dead address exits 2 with one line naming it."""
    dead = "http://127.0.0.1:9/api"
    monkeypatch.setenv("PREFECT_API_URL", dead)
    assert main(["demo", "--workdir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: PREFECT_API_URL={dead} is not reachable")
    assert "unset PREFECT_API_URL" in err
    assert not (tmp_path / "dbt_project").exists()


def test_dead_api_error_hides_the_urls_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dead PREFECT_API_URL with user:password in it is named without them."""
    monkeypatch.setenv("PREFECT_API_URL", "http://ops:canary-pass-0123@127.0.0.1:9/api")
    assert main(["demo", "--workdir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "PREFECT_API_URL=http://127.0.0.1:9/api is not reachable" in err
    assert "canary-pass" not in err


def test_dead_api_from_prefects_own_settings_is_checked_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """demo checks the API Prefect's settings name (a profile), not only the environment's."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    dead = "http://127.0.0.1:9/api"
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with temporary_settings({PREFECT_API_URL: dead}):
        assert main(["demo", "--workdir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: PREFECT_API_URL={dead} is not reachable")


@pytest.mark.parametrize("option", ["--seasons", "--players", "--top"])
def test_sizes_must_be_positive(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A size below 1 is a usage error naming the option."""
    assert main(["demo", option, "0"]) == 2
    assert option in capsys.readouterr().err


def test_without_an_api_the_command_keeps_its_own_prefect_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no PREFECT_API_URL, the ephemeral API's database lives in the command's home."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_HOME,
        PREFECT_SERVER_DATABASE_CONNECTION_URL,
        temporary_settings,
    )

    from ff_prefect_kit.cli._main import embedded_defaults

    defaults = {PREFECT_API_URL, PREFECT_SERVER_DATABASE_CONNECTION_URL}
    with temporary_settings(restore_defaults=defaults), embedded_defaults(home=tmp_path):
        assert PREFECT_HOME.value() == tmp_path
        assert str(tmp_path / "prefect.db") in PREFECT_SERVER_DATABASE_CONNECTION_URL.value()


def test_with_an_api_the_users_prefect_home_is_left_alone(tmp_path: Path) -> None:
    """Pointed at an API, the command changes no Prefect home."""
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    from ff_prefect_kit.cli._main import embedded_defaults

    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        before = PREFECT_HOME.value()
        with embedded_defaults(home=tmp_path / "unused"):
            assert PREFECT_HOME.value() == before
    assert not (tmp_path / "unused").exists()


COMMANDS = [
    ["demo"],
    ["doctor"],
    ["init"],
    ["blocks", "register"],
    ["alert", "test"],
    ["new-flow"],
    ["model"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` on each command prints its usage and exits 0."""
    assert main([*command, "--help"]) == 0
    assert f"Usage: ff-prefect-kit {' '.join(command)}" in capsys.readouterr().out


def test_the_command_runs_as_a_module() -> None:
    """`python -m ff_prefect_kit --help` lists every command, exit 0, in a real process."""
    done = subprocess.run(
        [sys.executable, "-m", "ff_prefect_kit", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for command in ("demo", "doctor", "blocks", "alert", "new-flow", "model"):
        assert f"  {command} " in done.stdout


def _broken_sink(alerts: object) -> None:
    raise RuntimeError("the sink exploded")


def test_an_unexpected_error_is_one_line_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An error the kit did not foresee: one line with how to see more, exit 1."""
    monkeypatch.setattr("ff_prefect_kit.alerts._sinks.resolve_sink", _broken_sink)
    assert main(["alert", "test"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "error: RuntimeError: the sink exploded (run again with --debug for the traceback)\n"
    )


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """With --debug an unexpected error propagates with its traceback."""
    monkeypatch.setattr("ff_prefect_kit.alerts._sinks.resolve_sink", _broken_sink)
    with pytest.raises(RuntimeError, match="the sink exploded"):
        main(["--debug", "alert", "test"])


class _Terminal(io.StringIO):
    """Text output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_long_step_shows_a_spinner_only_on_a_terminal() -> None:
    """The demo's spinner runs on a terminal; on a pipe or file nothing is added."""
    from ff_prefect_kit.cli._demo import _spinner

    assert _spinner(io.StringIO(), "building") is None
    terminal = _Terminal()
    status = _spinner(terminal, "building")
    assert status is not None
    status.stop()
    assert "building" in terminal.getvalue()


def _doctor_output(**env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ff_prefect_kit", "doctor"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "FF_ENV_FILE": os.devnull, **env},
    )
    return done.stdout + done.stderr


def test_output_to_a_pipe_has_no_escape_codes() -> None:
    """Piped into a file or another program, the output is plain text."""
    assert "\x1b[" not in _doctor_output()


def test_no_color_turns_colour_off_even_when_forced() -> None:
    """NO_COLOR wins over FORCE_COLOR: no colour codes, the symbols still there."""
    output = _doctor_output(FORCE_COLOR="1", NO_COLOR="1")
    assert "✔" in output
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]", output)
