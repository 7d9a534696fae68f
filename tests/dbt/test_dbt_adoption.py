"""`run_dbt_models` in a project configured the way real ones are: env-var paths, targets, just.

A copy of the example project gets a profile shaped like the adopting project's: the
DuckDB path from `DBT_DUCKDB_PATH` with a relative default, and a second target.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ff_prefect_kit import DbtRunError, MartLockedError, run_dbt_models
from ff_prefect_kit.dbt import DbtRunResult

JUSTFILE = "dbt-run *ARGS:\n    dbt build {{ARGS}}\n"
POSITIONAL_JUSTFILE = '[positional-arguments]\ndbt-run *ARGS:\n    dbt build "$@"\n'


def _rules(database: Path) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        return int(con.sql("select count(*) from dim_scoring_rule").fetchall()[0][0])


def test_the_profile_reads_its_path_from_env_in_process(
    adopter_project: Path, tmp_path: Path
) -> None:
    """`env` reaches the in-process runner's profile, and the environment is restored after."""
    database = tmp_path / "from-env.duckdb"
    run_dbt_models.fn(
        "dim_scoring_rule", project_dir=adopter_project, env={"DBT_DUCKDB_PATH": str(database)}
    )
    assert _rules(database) > 0
    assert "DBT_DUCKDB_PATH" not in os.environ


@pytest.mark.parametrize("command", [None, ["dbt", "build"]], ids=["in-process", "subprocess"])
def test_a_relative_profile_path_is_the_same_file_for_both_runners(
    adopter_project: Path, command: list[str] | None
) -> None:
    """Both runners run in the project directory: `target/dev.duckdb` is the project's."""
    run_dbt_models.fn("dim_scoring_rule", project_dir=adopter_project, command=command)
    assert _rules(adopter_project / "target" / "dev.duckdb") > 0


def test_target_picks_the_profiles_other_output(adopter_project: Path) -> None:
    """`target="ci"` builds into the ci output's database, not the default one."""
    result = run_dbt_models.fn("dim_scoring_rule", project_dir=adopter_project, target="ci")
    assert _rules(adopter_project / "target" / "ci.duckdb") > 0
    assert not (adopter_project / "target" / "dev.duckdb").exists()
    assert "--target" in result.command


def _move_profile(project: Path, tmp_path: Path) -> Path:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (project / "profiles.yml").rename(profiles / "profiles.yml")
    return profiles


def test_profiles_dir_is_passed_when_given(adopter_project: Path, tmp_path: Path) -> None:
    """A profile kept outside the project is used through `profiles_dir`."""
    profiles = _move_profile(adopter_project, tmp_path)
    result = run_dbt_models.fn(
        "dim_scoring_rule", project_dir=adopter_project, profiles_dir=profiles
    )
    assert _rules(adopter_project / "target" / "dev.duckdb") > 0
    assert "--profiles-dir" in result.command


def test_dbt_profiles_dir_from_the_environment_is_honoured(
    adopter_project: Path, tmp_path: Path
) -> None:
    """With DBT_PROFILES_DIR set and no `profiles_dir`, dbt finds the profile there."""
    profiles = _move_profile(adopter_project, tmp_path)
    result = run_dbt_models.fn(
        "dim_scoring_rule", project_dir=adopter_project, env={"DBT_PROFILES_DIR": str(profiles)}
    )
    assert _rules(adopter_project / "target" / "dev.duckdb") > 0
    assert "--profiles-dir" not in result.command


def test_nothing_is_added_that_was_not_asked_for(adopter_project: Path) -> None:
    """No --vars, --profiles-dir or --target of the kit's own: dbt keeps its partial parse."""
    result = run_dbt_models.fn("dim_scoring_rule", project_dir=adopter_project)
    assert not {"--vars", "--profiles-dir", "--target"} & set(result.command)


def _note(database: Path) -> str:
    with duckdb.connect(str(database), read_only=True) as con:
        return str(con.sql("select note from mrt_note").fetchall()[0][0])


@pytest.mark.parametrize("justfile", [JUSTFILE, POSITIONAL_JUSTFILE], ids=["ARGS", "positional"])
def test_a_just_recipe_receives_json_vars_whole(adopter_project: Path, justfile: str) -> None:
    """`dbt build {{ARGS}}` and `[positional-arguments]` recipes get the JSON vars intact."""
    (adopter_project / "justfile").write_text(justfile)
    note = 'a "quoted" note: {with} spaces'
    run_dbt_models.fn(
        "mrt_note", project_dir=adopter_project, command=["just", "dbt-run"], vars={"note": note}
    )
    assert _note(adopter_project / "target" / "dev.duckdb") == note


HOLD_THE_FILE = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()  # until the test closes the pipe or kills this process
"""


@pytest.mark.parametrize("command", [None, ["dbt", "build"]], ids=["in-process", "subprocess"])
def test_a_database_held_by_another_process_is_a_retryable_lock_error(
    adopter_project: Path, tmp_path: Path, command: list[str] | None
) -> None:
    """A DuckDB file that a notebook holds open raises MartLockedError, which is retried."""
    database = tmp_path / "held.duckdb"
    duckdb.connect(str(database)).close()
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_FILE, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "holding"
            with pytest.raises(MartLockedError, match="another process holds the file") as caught:
                run_dbt_models.fn(
                    "dim_scoring_rule",
                    project_dir=adopter_project,
                    command=command,
                    env={"DBT_DUCKDB_PATH": str(database)},
                )
        finally:
            holder.kill()
    assert caught.value.transient
    assert "lock" in str(caught.value)


def test_other_failures_are_not_lock_errors(adopter_project: Path) -> None:
    """A failing model stays a DbtRunError (not retried), even with the lock words absent."""
    (adopter_project / "models" / "marts" / "mrt_bad.sql").write_text("select nope from nowhere\n")
    with pytest.raises(DbtRunError) as caught:
        run_dbt_models.fn("mrt_bad", project_dir=adopter_project)
    assert not isinstance(caught.value, MartLockedError)


def test_the_result_names_what_ran(adopter_project: Path) -> None:
    """The result records the in-process invocation and the selector."""
    result = run_dbt_models.fn("dim_scoring_rule", project_dir=adopter_project)
    assert isinstance(result, DbtRunResult)
    assert result.command[:2] == ("dbtRunner", "build")
    assert result.selector == "dim_scoring_rule"
