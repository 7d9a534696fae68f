"""The template tasks and `analytics_task(output_schema=...)`, run for real in Prefect."""

from __future__ import annotations

import asyncio
from pathlib import Path

import duckdb
import polars as pl
import pytest
from prefect import Task, flow
from pydantic import BaseModel, Field

from ff_prefect_kit import (
    InvalidOptionError,
    SchemaValidationError,
    analytics_task,
    load_dbt_mart,
    validate_frame,
    write_parquet,
)

pytestmark = pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")


class Valuation(BaseModel):
    player_id: int = Field(ge=1)
    points: float = Field(ge=0)


@pytest.fixture
def mart(tmp_path: Path) -> Path:
    """A DuckDB file holding `mrt_fantasy_actuals_weekly`."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.sql(
            "CREATE TABLE mrt_fantasy_actuals_weekly AS "
            "SELECT (i + 1)::INTEGER AS player_id, i * 2.0 AS points FROM range(4) t(i)"
        )
    return path


@pytest.mark.parametrize(
    ("task", "name"),
    [
        (load_dbt_mart, "load-dbt-mart"),
        (validate_frame, "validate-frame"),
        (write_parquet, "write-parquet"),
    ],
)
def test_templates_are_prefect_tasks_with_the_spec_names(task: object, name: str) -> None:
    """Each template is a real `prefect.Task` with a kebab-case name."""
    assert isinstance(task, Task)
    assert task.name == name


def test_validation_is_never_retried() -> None:
    """The same frame cannot pass on a second attempt: validate_frame has no retries."""
    assert validate_frame.retries == 0


@pytest.mark.parametrize("task", [load_dbt_mart, validate_frame, write_parquet])
def test_a_template_task_plain_function_is_its_fn(task: Task[..., object]) -> None:
    """Each template's plain function is reached the Prefect way, as `.fn`."""
    assert task.fn.__name__ == task.name.replace("-", "_")


def test_the_template_flow_runs_load_validate_write(mart: Path, tmp_path: Path) -> None:
    """The template flow, end to end: mart in, validated Parquet out."""

    @flow
    def analytics_template_flow() -> Path:
        df = load_dbt_mart(mart_name="mrt_fantasy_actuals_weekly", db_path=mart)
        results = validate_frame(df, Valuation)
        written = write_parquet(
            results,
            output_path="player_valuation/latest.parquet",
            root=tmp_path / "analytics",
            artifact_key="player-valuation-profile",
        )
        return written.path

    path = analytics_template_flow()
    assert pl.read_parquet(path).to_dicts() == [
        {"player_id": i + 1, "points": i * 2.0} for i in range(4)
    ]


def test_write_parquet_publishes_a_table_artifact(tmp_path: Path) -> None:
    """Inside a run, the writer publishes per-column nulls and min/max as a table artifact."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    @flow
    def writes() -> None:
        write_parquet(
            pl.DataFrame({"a": [1, None, 5]}),
            "x.parquet",
            root=tmp_path,
            artifact_key="kit-profile-test",
        )

    writes()

    async def read() -> list[object]:
        async with get_client() as client:
            return list(
                await client.read_artifacts(
                    artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["kit-profile-test"]))
                )
            )

    artifacts = asyncio.run(read())
    assert len(artifacts) == 1
    data = artifacts[0].data  # type: ignore[attr-defined]
    assert '"nulls": 1' in data
    assert '"min": "1"' in data
    assert '"max": "5"' in data


def test_an_artifact_failure_never_fails_the_write(
    tmp_path: Path, kit_records: pytest.LogCaptureFixture
) -> None:
    """A key Prefect rejects is logged as a warning; the file is still written."""

    @flow
    def writes() -> int:
        return write_parquet(
            pl.DataFrame({"a": [1]}), "x.parquet", root=tmp_path, artifact_key="Not A Key!"
        ).rows

    assert writes() == 1
    assert (tmp_path / "x.parquet").exists()
    assert any("Could not publish" in r.getMessage() for r in kit_records.records)


def test_output_schema_validates_and_conforms_a_returned_frame() -> None:
    """A frame the task returns is validated and returned conformed."""

    @analytics_task(output_schema=Valuation)
    def compute() -> pl.DataFrame:
        return pl.DataFrame({"player_id": [1], "points": [3]})

    @flow
    def run() -> pl.DataFrame:
        return compute()

    assert run().schema["points"] == pl.Float64


def test_output_schema_failure_raises_and_is_not_retried() -> None:
    """A bad row makes the task fail with SchemaValidationError after one attempt."""
    calls = []

    @analytics_task(output_schema=Valuation, retries=3)
    def compute() -> pl.DataFrame:
        calls.append(1)
        return pl.DataFrame({"player_id": [1, 0], "points": [3.0, 1.0]})

    @flow
    def run() -> pl.DataFrame:
        return compute()

    with pytest.raises(SchemaValidationError) as caught:
        run()
    assert caught.value.failures.select("row", "field").rows() == [(1, "player_id")]
    assert len(calls) == 1


def test_output_schema_passes_a_list_of_instances_through() -> None:
    """A list of instances of the schema is already valid and returned as is."""
    made = [Valuation(player_id=1, points=2.0)]

    @analytics_task(output_schema=Valuation)
    def compute() -> list[Valuation]:
        return made

    @flow
    def run() -> list[Valuation]:
        return compute()

    assert run() == made


def test_output_schema_refuses_an_unsupported_return_value() -> None:
    """Returning something that is neither a frame nor a list is a SchemaValidationError."""

    @analytics_task(output_schema=Valuation, retries=0)
    def compute() -> int:
        return 3

    @flow
    def run() -> int:
        return compute()

    with pytest.raises(SchemaValidationError, match="returned int"):
        run()


@pytest.mark.parametrize("schema", [dict, "Valuation", Valuation(player_id=1, points=0)])
def test_output_schema_must_be_a_model_class(schema: object) -> None:
    """Anything but a Pydantic model class is refused when the task is made."""
    with pytest.raises(InvalidOptionError, match="output_schema must be a Pydantic model class"):
        analytics_task(output_schema=schema)  # type: ignore[arg-type]


def test_a_misspelt_output_schema_is_refused_with_the_right_name() -> None:
    """A typo of the kit's own option gets the usual "did you mean" hint."""
    with pytest.raises(InvalidOptionError, match="did you mean 'output_schema'"):
        analytics_task(output_shema=Valuation)
