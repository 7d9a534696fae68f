"""`run_dbt_models` runs dbt as the adopter's own command line does: where, with what, which target.

`working_dir` is the folder dbt runs in (their justfile runs it from the repository
root); `extra_args` passes more of dbt's options, never one the kit sets; a `target`
that names the profile's default is left out, so dbt's partial parse stays valid.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from tests.dbt.conftest import EXAMPLE

from ff_prefect_kit import DbtRunError, InvalidOptionError, run_dbt_models

RAW_FILES_MODEL = "select count(*) as n from read_parquet('data/raw/*.parquet')\n"
JUSTFILE = "dbt-run *ARGS:\n    dbt build {{ARGS}}\n"
# A singular test of a seed and a model: `eager` indirect selection (dbt's default)
# runs it when the seed alone is selected, `cautious` only when both are.
EPHEMERAL_MODEL = "{{ config(materialized='ephemeral') }}\nselect 1 as id\n"
TWO_PARENT_TEST = (
    "select * from {{ ref('dim_scoring_rule') }} cross join {{ ref('mrt_one') }} where false\n"
)
TWO_PARENT_TEST_ID = "test.ff_analytics_example.rules_and_one"


def _count(database: Path, table: str) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        return int(con.sql(f"select * from {table}").fetchall()[0][0])


@pytest.mark.parametrize("command", [None, ["dbt", "build"]], ids=["in-process", "subprocess"])
def test_a_model_reads_relative_paths_from_the_working_dir(
    adopter_project: Path, tmp_path: Path, command: list[str] | None
) -> None:
    """With `working_dir` the repository root, `read_parquet('data/raw/*')` finds its files."""
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    pl.DataFrame({"id": [1, 2, 3]}).write_parquet(raw / "part-0.parquet")
    (adopter_project / "models" / "marts" / "mrt_raw_files.sql").write_text(RAW_FILES_MODEL)
    database = tmp_path / "marts.duckdb"
    run_dbt_models.fn(
        "mrt_raw_files",
        project_dir=adopter_project,
        working_dir=tmp_path,
        command=command,
        env={"DBT_DUCKDB_PATH": str(database)},
    )
    assert _count(database, "mrt_raw_files") == 3


def test_a_working_dir_that_is_not_a_directory_is_refused(tmp_path: Path) -> None:
    """A `working_dir` that does not exist raises DbtRunError naming it, before dbt starts."""
    missing = tmp_path / "no-such-root"
    with pytest.raises(DbtRunError, match=f"working_dir '{missing}' is not a directory"):
        run_dbt_models.fn("dim_scoring_rule", project_dir=EXAMPLE, working_dir=missing)


@pytest.mark.parametrize(
    ("extra_args", "command", "tested"),
    [
        (None, None, True),
        (["--indirect-selection", "cautious"], None, False),
        (["--indirect-selection", "cautious"], ["just", "dbt-run"], False),
    ],
    ids=["eager", "cautious", "cautious-through-just"],
)
def test_extra_args_reach_dbt(
    adopter_project: Path,
    extra_args: list[str] | None,
    command: list[str] | None,
    tested: bool,
) -> None:
    """`--indirect-selection cautious` leaves out a test of a parent that is not selected."""
    (adopter_project / "justfile").write_text(JUSTFILE)
    (adopter_project / "models" / "marts" / "mrt_one.sql").write_text(EPHEMERAL_MODEL)
    (adopter_project / "tests").mkdir()
    (adopter_project / "tests" / "rules_and_one.sql").write_text(TWO_PARENT_TEST)
    result = run_dbt_models.fn(
        "dim_scoring_rule", project_dir=adopter_project, command=command, extra_args=extra_args
    )
    assert (TWO_PARENT_TEST_ID in {n.unique_id for n in result.nodes}) is tested
    assert (
        "cautious" in result.command if extra_args else "--indirect-selection" not in result.command
    )


@pytest.mark.parametrize(
    ("extra_args", "named"),
    [
        (["--select", "mrt_x"], "--select"),
        (["-s", "mrt_x"], "-s"),
        (["--models", "mrt_x"], "--models"),
        (["--project-dir", "."], "project_dir="),
        (["--profiles-dir", "."], "profiles_dir="),
        (["--target", "ci"], "target="),
        (["--target=ci"], "target="),
        (["-tci"], "target="),
        (["--threads", "2", "--vars", "{}"], "vars="),
    ],
)
def test_extra_args_setting_what_the_kit_sets_are_refused(
    extra_args: list[str], named: str
) -> None:
    """An option the kit sets is refused, naming it and the keyword to use instead."""
    with pytest.raises(InvalidOptionError, match="extra_args may not set") as caught:
        run_dbt_models.fn("dim_scoring_rule", project_dir=EXAMPLE, extra_args=extra_args)
    assert named in str(caught.value)


@pytest.mark.parametrize(
    ("extra_args", "said"),
    [
        ("--indirect-selection cautious", "must be a list of strings"),
        (["--threads", 2], r"holds 2 \(int\): each argument must be a str"),
    ],
    ids=["a-string", "not-a-str"],
)
def test_extra_args_must_be_a_list_of_strings(extra_args: object, said: str) -> None:
    """A single string, or an argument that is not a str, is refused with what to pass."""
    with pytest.raises(InvalidOptionError, match=said):
        run_dbt_models.fn(
            "dim_scoring_rule",
            project_dir=EXAMPLE,
            extra_args=extra_args,  # type: ignore[arg-type]
        )


def test_the_profiles_default_target_keeps_dbts_partial_parse(
    adopter_project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`target=` the profile's default between plain runs: no `--target`, no re-parse."""
    run_dbt_models.fn("dim_scoring_rule", project_dir=adopter_project)
    caplog.clear()
    with caplog.at_level("INFO", logger="ff_prefect_kit.dbt"):
        result = run_dbt_models.fn("dim_scoring_rule", project_dir=adopter_project, target="local")
        run_dbt_models.fn("dim_scoring_rule", project_dir=adopter_project)
    said = [r.getMessage() for r in caplog.records if r.name == "ff_prefect_kit.dbt"]
    assert sum("Done. PASS=4" in line for line in said) == 2
    assert not [line for line in said if "Unable to do partial parsing" in line]
    assert "--target" not in result.command


PROFILE = "ff_analytics_example:\n  {target}outputs:\n    local: {{type: duckdb}}\n"


@pytest.mark.parametrize(
    ("target_line", "given", "default"),
    [
        ("target: local\n  ", ({}, []), "local"),
        ("", ({}, []), "default"),
        ("target: \"{{ env_var('WHERE', 'local') }}\"\n  ", ({}, []), None),
        ("target: local\n  ", ({"DBT_TARGET": "ci"}, []), "ci"),
        ("target: local\n  ", ({}, ["--profile", "other"]), None),
        ("target: local\n  ", ({"DBT_PROFILE": "other"}, []), None),
    ],
    ids=["the-profiles", "none-given", "jinja", "DBT_TARGET", "--profile", "DBT_PROFILE"],
)
def test_the_target_dbt_picks_without_target_is_known_only_when_certain(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    target_line: str,
    given: tuple[dict[str, str], list[str]],
    default: str | None,
) -> None:
    """dbt's own pick: DBT_TARGET, else the profile's `target:`; unknown when it depends."""
    from ff_prefect_kit.dbt._options import default_target

    for name in ("DBT_TARGET", "DBT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "profiles.yml").write_text(PROFILE.format(target=target_line))
    (tmp_path / "dbt_project.yml").write_text("profile: ff_analytics_example\n")
    env, extra_args = given
    assert default_target(tmp_path, tmp_path, env, extra_args) == default


@pytest.mark.parametrize(
    ("where", "read", "passed"),
    [("working-dir", "working-dir", False), ("project", "project", True)],
)
def test_outside_the_project_its_profile_comes_after_the_working_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, read: str, passed: bool
) -> None:
    """dbt reads the working dir's profiles.yml; else the project's, passed as --profiles-dir."""
    from ff_prefect_kit.dbt._options import profiles_dir_option

    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    for name in ("working-dir", "project"):
        (tmp_path / name).mkdir()
    (tmp_path / where / "profiles.yml").write_text("{}\n")
    found = profiles_dir_option(None, None, tmp_path / "working-dir", tmp_path / "project")
    assert found == (tmp_path / read, passed)
