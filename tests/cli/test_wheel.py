"""The command line from an installed wheel, not the checkout: what a user's project gets."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ff_prefect_kit.alerts import DiscordAlerts
from ff_prefect_kit.testing import HarnessHandle, mock_discord_webhook

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The kit's wheel, built from this checkout and unpacked into a folder of its own."""
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` names itself in UV
    if uv is None:
        pytest.skip("uv is needed to build the wheel")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    [wheel] = out.glob("ff_prefect_kit-*.whl")
    site = out / "site"
    install = ["pip", "install", "--no-deps", "--python", sys.executable, "--target", str(site)]
    subprocess.run(
        [uv, *install, str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return site


def _from_wheel(
    site: Path, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # The wheel's folder comes first on the path, ahead of the checkout's editable install.
    return subprocess.run(
        [sys.executable, "-m", "ff_prefect_kit", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(site), "FF_ENV_FILE": os.devnull, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_the_wheel_is_what_runs(wheel_site: Path, tmp_path: Path) -> None:
    """The process imports the kit from the wheel's files, not from the checkout."""
    done = subprocess.run(
        [sys.executable, "-c", "import ff_prefect_kit; print(ff_prefect_kit.__file__)"],
        env={**os.environ, "PYTHONPATH": str(wheel_site)},
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert Path(done.stdout.strip()).is_relative_to(wheel_site)


def test_blocks_register_works_from_the_wheel(
    wheel_site: Path, tmp_path: Path, prefect_test_harness: HarnessHandle
) -> None:
    """`blocks register` from an installed wheel saves the block in the API."""
    with mock_discord_webhook() as discord:
        done = _from_wheel(
            wheel_site,
            "blocks",
            "register",
            "--name",
            "from-the-wheel",
            cwd=tmp_path,
            env={
                "PREFECT_API_URL": prefect_test_harness.api_url,
                "DISCORD_WEBHOOK_URL": discord.webhook_url,
            },
        )
    assert done.returncode == 0, done.stderr
    block = DiscordAlerts.load("from-the-wheel")
    assert block.webhook_url.get_secret_value() == discord.webhook_url


def test_new_flow_finds_its_templates_in_the_wheel(wheel_site: Path, tmp_path: Path) -> None:
    """`new-flow` from an installed wheel writes the flow, its tasks and its test."""
    done = _from_wheel(wheel_site, "new-flow", "weekly_points", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "flows" / "weekly_points_flow.py").is_file()
    assert (tmp_path / "flows" / "tasks" / "weekly_points.py").is_file()
    assert (tmp_path / "tests" / "test_weekly_points_flow.py").is_file()


def test_the_demo_finds_its_examples_in_the_wheel(wheel_site: Path, tmp_path: Path) -> None:
    """The example flow and dbt project the demo runs are shipped inside the wheel."""
    code = "from ff_prefect_kit.cli._demo import examples_dir; print(examples_dir())"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(wheel_site)},
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert Path(done.stdout.strip()) == wheel_site / "ff_prefect_kit" / "examples"


def test_init_writes_the_env_example_settings_from_the_wheel(
    wheel_site: Path, tmp_path: Path
) -> None:
    """`init` from an installed wheel, which has no `.env.example`, writes the same lines."""
    assert not list(wheel_site.rglob(".env.example"))
    done = _from_wheel(wheel_site, "init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert example.endswith((tmp_path / ".env").read_text(encoding="utf-8"))
