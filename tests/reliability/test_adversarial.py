"""Adversarial input, 300 cases a class: a clear KitError or a good result, nothing else.

Never another exception type, a hang, a partial file or a malformed alert.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ff_prefect_kit import (
    ConfigError,
    InvalidMartNameError,
    KitSettings,
    MartNotFoundError,
    OutputPathError,
    Severity,
    load_dbt_mart,
    write_parquet,
)
from ff_prefect_kit.alerts import Alert, build_payload, payload_problems
from ff_prefect_kit.data import read_parquet

T = TypeVar("T")

CASES = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Characters that break naive code: quotes, separators, control characters, unicode,
# lone surrogates (which no file name can be encoded in).
HOSTILE = st.sampled_from(list("ab_.$ '\"`;-/\\\n\r\t\x00\x1bé☃\u202e%{}*?\ud800\udcff"))
# File names around the 255-byte limit, in one- and four-byte characters.
NEAR_NAME_MAX = st.builds(
    lambda char, count: char * count + ".parquet",
    st.sampled_from(["p", "🏈"]),
    st.integers(55, 260),
).filter(lambda name: 240 <= len(os.fsencode(name)) <= 270)


def _outcome(call: Callable[[], T], refusals: tuple[type[Exception], ...]) -> tuple[T | None, str]:
    """`(result, "")`, or `(None, message)` for an expected refusal; anything else raises."""
    try:
        return call(), ""
    except refusals as error:
        return None, str(error)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file with one mart."""
    path = tmp_path_factory.mktemp("adversarial") / "marts.duckdb"
    with duckdb.connect(str(path)) as con:
        con.sql("CREATE TABLE mrt_x AS SELECT 1 AS player_id")
    return path


@CASES
@given(name=st.text(HOSTILE, max_size=40) | st.text(max_size=40))
def test_any_mart_name_loads_or_is_refused_clearly(database: Path, name: str) -> None:
    """A mart name is loaded, or refused as not an identifier, or not found: nothing else."""
    frame, refusal = _outcome(
        lambda: load_dbt_mart.fn(name, database), (InvalidMartNameError, MartNotFoundError)
    )
    assert isinstance(frame, pl.DataFrame) or refusal


@CASES
@given(
    path=st.text(HOSTILE, min_size=1, max_size=60)
    | st.text(min_size=1, max_size=60)
    | NEAR_NAME_MAX
)
def test_any_output_path_is_written_whole_or_refused(tmp_path: Path, path: str) -> None:
    """An output path is written whole under the root, or refused with OutputPathError."""
    root = tmp_path / "root"
    result, refusal = _outcome(
        lambda: write_parquet.fn(pl.DataFrame({"a": [1]}), path, root=root, artifact=False),
        (OutputPathError,),
    )
    if result is None:
        assert refusal
    else:
        assert result.path.is_relative_to(root.resolve())
        # The kit's reader: Polars' own expands `*`, `?` and `[` in a path as a glob.
        assert read_parquet(result.path)["a"].to_list() == [1]
    assert not list(root.rglob("*.tmp")) if root.exists() else True


@CASES
@given(
    title=st.text(max_size=400),
    description=st.text(max_size=6000),
    fields=st.lists(st.tuples(st.text(max_size=300), st.text(max_size=1500)), max_size=30),
)
def test_any_alert_text_renders_within_discords_limits(
    title: str, description: str, fields: list[tuple[str, str]]
) -> None:
    """Any texts give a payload Discord accepts, with no mention able to ping."""
    alert = Alert(Severity.CRITICAL, title, description, tuple(fields))
    assert payload_problems(build_payload(alert)) == []
    assert alert.as_text()


ENV_LINE = st.text(
    st.sampled_from(list("FF_DATADIRUCKBPHW=_ '\"#\n\\${}:/.x0é\x00")), max_size=80
) | st.sampled_from(
    [
        "FF_DATA_DIR=",
        "FF_DATA_DIR='unterminated",
        'DISCORD_WEBHOOK_URL="https://discord.com/api/webhooks/123456/tok"',
        "FF_DUCKDB_PATH=${UNSET_VARIABLE}",
        "export FF_DATA_DIR=data",
        "FF_ALERT_USERNAME=\\x00",
    ]
)


@CASES
@given(lines=st.lists(ENV_LINE, max_size=8))
def test_any_env_file_gives_settings_or_a_config_error(
    tmp_path: Path, lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A malformed .env is read, or refused with ConfigError naming the variable: nothing else."""
    env_file = tmp_path / "adversarial.env"
    env_file.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
    for name in ("FF_DATA_DIR", "FF_DUCKDB_PATH", "DISCORD_WEBHOOK_URL", "FF_ALERT_USERNAME"):
        monkeypatch.delenv(name, raising=False)
    settings_read, refusal = _outcome(
        lambda: KitSettings(_env_file=os.fspath(env_file)), (ConfigError,)
    )
    assert isinstance(getattr(settings_read, "data_dir", None), Path) or refusal
