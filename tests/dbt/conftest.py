"""The dbt tests' projects: copies of the example dbt project, built or shaped as adopters do.

Each dbt invocation costs seconds, so `built_project` and `seeded_project` build once
per test module; a test that changes the project's profile gets an
`adopter_project` of its own.
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ff_prefect_kit import run_dbt_models
from ff_prefect_kit.dbt import DbtRunResult
from ff_prefect_kit.testing import build_mart, generate_raw

EXAMPLE = Path(__file__).parents[2] / "examples" / "dbt_project"
SIZE = {"synthetic_seasons": 2, "synthetic_players": 60, "synthetic_seed": 5}

ADOPTER_PROFILE = """
ff_analytics_example:
  target: local
  outputs:
    local:
      type: duckdb
      path: "{{ env_var('DBT_DUCKDB_PATH', 'target/dev.duckdb') }}"
      threads: 1
    ci:
      type: duckdb
      path: "{{ env_var('DBT_DUCKDB_PATH_CI', 'target/ci.duckdb') }}"
      threads: 1
"""

NOTE_MODEL = 'select \'{{ var("note", "none") }}\' as note\n'


@dataclass(frozen=True)
class Project:
    """A built copy of the example project and the options every run here uses."""

    directory: Path
    database: Path
    data_dir: Path
    build: DbtRunResult

    @property
    def env(self) -> dict[str, str]:
        """What the example project's profile and sources read."""
        return {"FF_DUCKDB_PATH": str(self.database), "FF_DATA_DIR": str(self.data_dir)}

    def run(self, selector: str, **options: Any) -> DbtRunResult:
        options["env"] = {**self.env, **options.get("env", {})}
        return run_dbt_models.fn(selector, project_dir=self.directory, vars=SIZE, **options)


def copy_example(directory: Path) -> Path:
    """Copy the example project to `directory`, without what a build left in it."""
    shutil.copytree(EXAMPLE, directory, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb"))
    return directory


def build_example(root: Path, selector: str) -> Project:
    """Copy the example project under `root` and build `selector` there, at `SIZE`."""
    directory = copy_example(root / "dbt_project")
    database = root / "ff.duckdb"
    data_dir = root / "data"
    build = run_dbt_models.fn(
        selector,
        project_dir=directory,
        vars=SIZE,
        env={"FF_DUCKDB_PATH": str(database), "FF_DATA_DIR": str(data_dir)},
    )
    return Project(directory, database, data_dir, build)


def valuation(mart: pl.DataFrame) -> pl.DataFrame:
    """The example flow's own valuation of the mart: what it writes to Parquet."""
    path = EXAMPLE.parent / "analytics_template_flow.py"
    spec = importlib.util.spec_from_file_location("dbt_test_example_flow", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    valued: pl.DataFrame = module.value_players.fn(mart)
    return valued


@pytest.fixture(scope="module")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The example project copied, its valuation Parquet written, and everything built."""
    root = tmp_path_factory.mktemp("dbt")
    output = root / "data" / "analytics" / "player_valuation" / "latest.parquet"
    output.parent.mkdir(parents=True)
    mart = build_mart(generate_raw(seasons=2, players=60, seed=5))
    valuation(mart).write_parquet(output)
    return build_example(root, "+mrt_fantasy_actuals_weekly mrt_player_valuation")


@pytest.fixture(scope="module")
def seeded_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A copy of the example project with only its seed built."""
    return build_example(tmp_path_factory.mktemp("dbt-nodes"), "dim_scoring_rule")


@pytest.fixture
def adopter_project(tmp_path: Path) -> Path:
    """The example project, unbuilt, with the adopting project's kind of profile."""
    directory = copy_example(tmp_path / "dbt_project")
    (directory / "profiles.yml").write_text(ADOPTER_PROFILE)
    (directory / "models" / "marts" / "mrt_note.sql").write_text(NOTE_MODEL)
    return directory
