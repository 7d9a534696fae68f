"""Outputs and external marts in a bucket: moto's S3 server on loopback, real Parquet."""

from __future__ import annotations

import io

import polars as pl
import pytest
from prefect import flow
from tests.conftest import Bucket, Emitted

from ff_prefect_kit import (
    ConfigError,
    InvalidMartNameError,
    MartNotFoundError,
    ObjectStoreError,
    OutputPathError,
    load_dbt_mart,
    write_parquet,
)
from ff_prefect_kit.core import RetryPolicy
from ff_prefect_kit.data import read_parquet
from ff_prefect_kit.data._parquet import write_parquet as write_plain

SCORES = pl.DataFrame({"player_id": [1, 2, 3], "points": [12.5, 7.0, 21.25]})


def _root(bucket: Bucket, prefix: str = "analytics") -> str:
    return f"s3://{bucket.name}/{prefix}"


def test_a_relative_path_is_written_under_ff_analytics_url(
    s3_bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With FF_ANALYTICS_URL set, `x/latest.parquet` becomes one object under its prefix."""
    monkeypatch.setenv("FF_ANALYTICS_URL", _root(s3_bucket))
    result = write_parquet.fn(SCORES, "scores/latest.parquet")
    assert s3_bucket.keys() == ["analytics/scores/latest.parquet"]
    assert (result.path, result.url, result.rows) == (
        None,
        f"s3://{s3_bucket.name}/analytics/scores/latest.parquet",
        3,
    )


def test_the_reported_size_is_the_objects_size(s3_bucket: Bucket) -> None:
    """`bytes` is the stored object's length, and the object is the frame's Parquet."""
    result = write_parquet.fn(SCORES, "scores/latest.parquet", root=_root(s3_bucket))
    stored = s3_bucket.get("analytics/scores/latest.parquet")
    assert result.bytes == len(stored)
    assert pl.read_parquet(io.BytesIO(stored)).equals(SCORES)


def test_read_parquet_reads_an_object_back_whole(s3_bucket: Bucket) -> None:
    """`read_parquet` takes the object's URL and returns the frame written."""
    written = write_parquet.fn(SCORES, "scores/latest.parquet", root=_root(s3_bucket))
    assert written.url is not None
    assert read_parquet(written.url).equals(SCORES)


def test_an_explicit_url_under_the_root_is_written(s3_bucket: Bucket) -> None:
    """A full `s3://` output path inside the root's prefix is accepted as given."""
    url = f"{_root(s3_bucket)}/weekly/latest.parquet"
    assert write_parquet.fn(SCORES, url, root=_root(s3_bucket)).url == url


@pytest.mark.parametrize(
    "where",
    [
        "s3://{bucket}/elsewhere/x.parquet",
        "s3://{bucket}/analytics-other/x.parquet",
        "s3://other-bucket/analytics/x.parquet",
    ],
)
def test_a_url_outside_the_root_is_refused_and_nothing_is_written(
    s3_bucket: Bucket, where: str
) -> None:
    """Another prefix, a look-alike prefix or another bucket: refused, naming the root."""
    with pytest.raises(OutputPathError, match="outside the analytics root"):
        write_parquet.fn(SCORES, where.format(bucket=s3_bucket.name), root=_root(s3_bucket))
    assert s3_bucket.keys() == []


@pytest.mark.parametrize(
    "path", ["../escape.parquet", "a//b.parquet", "./x.parquet", "a\\b.parquet", "a/\nb.parquet"]
)
def test_a_key_that_would_not_be_where_it_seems_is_refused(s3_bucket: Bucket, path: str) -> None:
    """`..`, `.` and empty folders, backslashes and control characters never reach the store."""
    with pytest.raises(OutputPathError, match="output path"):
        write_parquet.fn(SCORES, path, root=_root(s3_bucket))
    assert s3_bucket.keys() == []


def test_a_local_absolute_path_under_an_object_root_is_refused(s3_bucket: Bucket) -> None:
    """An absolute local path with a bucket root says to give a relative path or a URL."""
    with pytest.raises(OutputPathError, match="relative to the root"):
        write_parquet.fn(SCORES, "/tmp/x.parquet", root=_root(s3_bucket))


def test_an_object_url_with_a_local_root_is_refused_unless_allowed(
    s3_bucket: Bucket, tmp_path: pytest.TempPathFactory
) -> None:
    """A bucket URL while the root is a folder is refused; `allow_outside_root` writes it."""
    url = f"s3://{s3_bucket.name}/adhoc/x.parquet"
    with pytest.raises(OutputPathError, match="FF_ANALYTICS_URL"):
        write_parquet.fn(SCORES, url, root=str(tmp_path))
    assert write_parquet.fn(SCORES, url, root=str(tmp_path), allow_outside_root=True).url == url


def test_a_failed_write_keeps_the_previous_object(s3_bucket: Bucket) -> None:
    """A frame that cannot be written as Parquet fails before anything reaches the store."""
    write_parquet.fn(SCORES, "x/latest.parquet", root=_root(s3_bucket))
    before = s3_bucket.get("analytics/x/latest.parquet")
    unwritable = pl.DataFrame({"o": pl.Series([object()], dtype=pl.Object)})
    with pytest.raises(Exception):  # noqa: B017, PT011 - Polars' own error type varies by version
        write_parquet.fn(unwritable, "x/latest.parquet", root=_root(s3_bucket))
    assert (s3_bucket.keys(), s3_bucket.get("analytics/x/latest.parquet")) == (
        ["analytics/x/latest.parquet"],
        before,
    )


def test_history_keeps_a_timestamped_copy_in_the_bucket(s3_bucket: Bucket) -> None:
    """`history=True` leaves `latest.<UTC stamp>.parquet` that a later write leaves alone."""
    first = write_parquet.fn(SCORES, "x/latest.parquet", root=_root(s3_bucket), history=True)
    write_parquet.fn(SCORES.head(1), "x/latest.parquet", root=_root(s3_bucket))
    assert first.history_url is not None
    assert first.history_url.startswith(f"s3://{s3_bucket.name}/analytics/x/latest.2")
    assert read_parquet(first.history_url).equals(SCORES)


def test_a_missing_bucket_names_it_and_is_not_retried(s3_bucket: Bucket) -> None:
    """No such bucket: an OutputPathError saying to create it, which no retry can fix."""
    missing = f"s3://{s3_bucket.name}-gone/analytics"
    with pytest.raises(OutputPathError, match="does not exist") as raised:
        write_parquet.fn(SCORES, "x.parquet", root=missing)
    assert f"{s3_bucket.name}-gone" in str(raised.value)
    assert not RetryPolicy().should_retry(raised.value)


def test_an_unreachable_store_is_an_object_store_error_that_is_retried(
    s3_bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listening at the endpoint: ObjectStoreError, naming the endpoint setting."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    with pytest.raises(ObjectStoreError, match="AWS_ENDPOINT_URL") as raised:
        write_parquet.fn(SCORES, "x.parquet", root=_root(s3_bucket))
    assert RetryPolicy().should_retry(raised.value)


def test_no_credentials_anywhere_is_a_config_error_naming_the_variables(
    s3_bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No key set and no instance role answering: ConfigError naming the keys, not retried."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_METADATA_ENDPOINT", "http://127.0.0.1:9")  # no instance role here
    with pytest.raises(ConfigError, match="AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") as raised:
        write_parquet.fn(SCORES, "x.parquet", root=_root(s3_bucket))
    assert not RetryPolicy().should_retry(raised.value)


def test_the_secret_key_never_appears_in_an_error(
    s3_bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store error whose text holds AWS_SECRET_ACCESS_KEY shows it redacted (no task)."""
    secret = "ff-canary-" + "s3cr3t" * 4
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:9/{secret}")
    with pytest.raises(ObjectStoreError) as raised:
        write_plain(SCORES, "x.parquet", root=_root(s3_bucket))
    assert "127.0.0.1:9" in str(raised.value)
    assert secret not in str(raised.value)


def test_a_bucket_name_s3_cannot_have_is_refused_before_any_request(s3_bucket: Bucket) -> None:
    """An uppercase or too-short bucket name: refused with S3's naming rule."""
    with pytest.raises(OutputPathError, match="3 to 63 lowercase"):
        write_parquet.fn(SCORES, "x.parquet", root="s3://My_Bucket/analytics")


def test_without_obstore_writing_to_a_bucket_names_the_extra(
    s3_bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """obstore missing: a ConfigError naming the kit's `s3` extra."""
    monkeypatch.setitem(__import__("sys").modules, "obstore.store", None)
    with pytest.raises(ConfigError, match=r"\[s3\]"):
        write_parquet.fn(SCORES, "x.parquet", root=_root(s3_bucket))


def test_an_external_mart_loads_from_the_external_root(s3_bucket: Bucket) -> None:
    """`load_dbt_mart(name, "s3://bucket/marts")` reads `marts/<name>.parquet`."""
    write_parquet.fn(SCORES, "mrt_scores.parquet", root=_root(s3_bucket, "marts"))
    loaded = load_dbt_mart.fn("mrt_scores", _root(s3_bucket, "marts"), columns=["points"])
    assert loaded.equals(SCORES.select("points"))


def test_a_missing_external_mart_is_mart_not_found(s3_bucket: Bucket) -> None:
    """No object for the mart: MartNotFoundError naming its URL and how dbt writes it."""
    with pytest.raises(MartNotFoundError, match="external_root") as raised:
        load_dbt_mart.fn("mrt_missing", _root(s3_bucket, "marts"))
    assert f"s3://{s3_bucket.name}/marts/mrt_missing.parquet" in str(raised.value)


def test_a_missing_column_of_an_external_mart_lists_its_columns(s3_bucket: Bucket) -> None:
    """Asking for a column the object lacks: MartNotFoundError with the columns it has."""
    write_parquet.fn(SCORES, "mrt_scores.parquet", root=_root(s3_bucket, "marts"))
    with pytest.raises(MartNotFoundError) as raised:
        load_dbt_mart.fn("mrt_scores", _root(s3_bucket, "marts"), columns=["rank"])
    assert raised.value.available == ["player_id", "points"]


def test_an_external_mart_is_named_by_its_model_alone(s3_bucket: Bucket) -> None:
    """`main.mrt_scores` against an external root: refused, suggesting `mrt_scores`."""
    with pytest.raises(InvalidMartNameError, match="'mrt_scores'"):
        load_dbt_mart.fn("main.mrt_scores", _root(s3_bucket, "marts"))


@flow
def external_mart_to_bucket(marts: str, outputs: str) -> None:
    """Load an external mart from a bucket and write a frame of it to another prefix."""
    write_parquet(load_dbt_mart("mrt_scores", marts), "scores/latest.parquet", root=outputs)


@pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")
def test_an_object_written_from_an_external_mart_is_an_asset_with_it_upstream(
    s3_bucket: Bucket, emitted: Emitted
) -> None:
    """write-parquet materializes the object's `s3://` URL, the mart's object upstream."""
    marts, outputs = _root(s3_bucket, "marts"), _root(s3_bucket, "outputs")
    write_parquet.fn(SCORES, "mrt_scores.parquet", root=marts)
    external_mart_to_bucket(marts, outputs)
    event = emitted.materialized()[f"{outputs}/scores/latest.parquet"]
    upstream = {
        r["prefect.resource.id"] for r in event["related"] if r["prefect.resource.role"] == "asset"
    }
    assert (upstream, event["payload"]["rows"]) == ({f"{marts}/mrt_scores.parquet"}, 3)
