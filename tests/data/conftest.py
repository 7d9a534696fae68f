"""A real S3 API on loopback for the object-store tests: moto's server, one per session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class Bucket:
    """A bucket of its own on the loopback S3 server, and a client to look inside it."""

    name: str
    endpoint: str
    client: Any

    def keys(self) -> list[str]:
        """Every key in the bucket, sorted."""
        listed = self.client.list_objects_v2(Bucket=self.name).get("Contents", [])
        return sorted(item["Key"] for item in listed)

    def get(self, key: str) -> bytes:
        """The object's bytes."""
        body: bytes = self.client.get_object(Bucket=self.name, Key=key)["Body"].read()
        return body


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1, on a free port, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Bucket:
    """A new bucket, with this process's AWS_* settings pointing at the loopback server."""
    import boto3

    settings = {
        "AWS_ACCESS_KEY_ID": "ff-test-key-id",
        "AWS_SECRET_ACCESS_KEY": "ff-test-secret-" + uuid.uuid4().hex,
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ALLOW_HTTP": "true",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "FF_ANALYTICS_URL"):
        monkeypatch.delenv(name, raising=False)
    name = f"ff-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=settings["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=settings["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=name)
    return Bucket(name, s3_endpoint, client)
