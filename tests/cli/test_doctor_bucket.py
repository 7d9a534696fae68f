"""`doctor`'s bucket check: FF_ANALYTICS_URL tried with a small object, never guessed."""

from __future__ import annotations

import os

import pytest
from tests.conftest import Bucket

from ff_prefect_kit import KitSettings
from ff_prefect_kit.cli._doctor import Status
from ff_prefect_kit.cli._doctor._storage import check_bucket


def _settings(url: str | None) -> KitSettings:
    return KitSettings(analytics_url=url, _env_file=os.devnull)


def test_without_ff_analytics_url_the_bucket_check_is_skipped() -> None:
    """No bucket configured: skipped, saying outputs stay under FF_DATA_DIR."""
    result = check_bucket(_settings(None), timeout=5)
    assert (result.status, "FF_DATA_DIR" in result.detail) == (Status.SKIP, True)


def test_a_writable_bucket_passes_and_keeps_no_probe(s3_bucket: Bucket) -> None:
    """The probe object is written and deleted: OK, and the bucket is as it was."""
    result = check_bucket(_settings(f"s3://{s3_bucket.name}/outputs"), timeout=5)
    assert (result.status, s3_bucket.keys()) == (Status.OK, [])


def test_a_missing_bucket_fails_naming_it(s3_bucket: Bucket) -> None:
    """A bucket that does not exist: FAIL, the bucket named, the setting to fix."""
    result = check_bucket(_settings(f"s3://{s3_bucket.name}-gone/outputs"), timeout=5)
    assert result.status is Status.FAIL
    assert f"{s3_bucket.name}-gone" in result.detail
    assert "FF_ANALYTICS_URL" in result.fix


def test_an_unreachable_endpoint_fails_with_the_endpoint_setting(
    s3_bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listening: FAIL, telling to check AWS_ENDPOINT_URL; the secret not shown."""
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:9/{secret}")
    result = check_bucket(_settings(f"s3://{s3_bucket.name}/outputs"), timeout=2)
    assert (result.status, "AWS_ENDPOINT_URL" in result.fix) == (Status.FAIL, True)
    assert secret not in result.detail
