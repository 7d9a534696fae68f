"""The ff-prefect-kit command line."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from ff_prefect_kit._cli import main


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the installed version and exits 0."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == version("ff-prefect-kit")


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a command the usage is printed and the exit status is 2."""
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_unknown_command_exits_2() -> None:
    """An unknown command is a usage error."""
    with pytest.raises(SystemExit) as caught:
        main(["dmeo"])
    assert caught.value.code == 2


@pytest.mark.usefixtures("prefect_test_harness")
def test_demo_runs_the_hello_world_flow(capsys: pytest.CaptureFixture[str]) -> None:
    """demo runs the monitored hello-world flow to completion and reports its result."""
    assert main(["demo", "--players", "4"]) == 0
    assert "hello-world flow completed: total points 31.5" in capsys.readouterr().out
