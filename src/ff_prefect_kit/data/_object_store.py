"""Analytics outputs and external marts on S3 or an S3-compatible store.

Workers on several machines cannot share `data/analytics/` on a local disk; a bucket
they can. An output path, or the analytics root (`FF_ANALYTICS_URL`), may be an
`s3://bucket/prefix` URL, with the local writer's guarantees where they make sense:

- whole object or none: the Parquet bytes are built in memory first (a frame that
  cannot be written fails before anything is sent), then sent in one PUT, which S3
  makes visible whole or not at all; the previous object stays until then;
- root confinement: a key must lie under the root's prefix, with no `.`/`..`/empty
  segment, control character or backslash in it; an explicit URL elsewhere is refused
  unless `allow_outside_root=True`;
- readers get one whole object: one GET of the whole object, never ranged reads that
  could meet two versions while a writer replaces it;
- no secret in errors: every message goes through the kit's redaction, which knows
  `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.

Credentials and the endpoint come from the environment, read by `obstore` (the Python
face of the `object_store` crate that Polars itself uses): `AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT_URL`,
`AWS_ALLOW_HTTP`. The kit never reads, passes or logs them. `obstore` comes with the
`s3` extra.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ff_prefect_kit._errors import ConfigError, ObjectStoreError, OutputPathError
from ff_prefect_kit._secrets import redact

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "ObjectLocation",
    "is_object_url",
    "object_location",
    "probe",
    "put_parquet",
    "read_object",
]

SCHEME = "s3://"
KEY_MAX_BYTES = 1024
"""The longest key S3 takes, in UTF-8 bytes."""

# S3's rules for a bucket name (general purpose buckets): 3 to 63 lowercase letters,
# digits, dots and hyphens, starting and ending with a letter or digit.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_S3_EXTRA_HINT = (
    "object storage needs obstore: add the kit with its s3 extra, for example "
    "`uv add --editable /path/to/ff_prefect_kit --extra s3` or "
    "`uv pip install -e '/path/to/ff_prefect_kit[s3]'`"
)
_CREDENTIALS_HINT = (
    "check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) in the "
    "environment, and that they may read and write the bucket"
)


def is_object_url(value: object) -> bool:
    """Whether `value` is an `s3://` URL (text; a `Path` cannot hold one)."""
    return isinstance(value, str) and value[: len(SCHEME)].lower() == SCHEME


@dataclass(frozen=True)
class ObjectLocation:
    """An object (or, with an empty or folder-like key, a prefix) in a bucket."""

    bucket: str
    key: str

    @property
    def url(self) -> str:
        """`s3://bucket/key`."""
        return f"{SCHEME}{self.bucket}/{self.key}"

    def contains(self, other: ObjectLocation) -> bool:
        """Whether `other` lies under this prefix (in the same bucket)."""
        if other.bucket != self.bucket:
            return False
        return not self.key or other.key.startswith(self.key.rstrip("/") + "/")


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 120 else f"{text[:100]}...{text[-15:]} ({len(text)} characters)"


def _parse(url: str, what: str) -> ObjectLocation:
    """`url` split into bucket and key, both checked; the key may be empty."""
    rest = url[len(SCHEME) :]
    bucket, _, key = rest.partition("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise OutputPathError(
            f"{what} {_shown(url)} does not name an S3 bucket ({bucket!r}): a bucket name is "
            "3 to 63 lowercase letters, digits, dots and hyphens, e.g. "
            "'s3://ff-analytics/outputs'"
        )
    return ObjectLocation(bucket, _checked_key(key, url, what))


def _checked_key(key: str, url: str, what: str) -> str:
    if _CONTROL.search(key) or "\\" in key:
        raise OutputPathError(
            f"{what} {_shown(url)} has a control character or a backslash in its key: use "
            "'/' between folders and printable characters only"
        )
    if any("\ud800" <= char <= "\udfff" for char in key):
        raise OutputPathError(
            f"{what} {_shown(url)} contains a lone surrogate, which is not text a key can "
            "be written in: build the name from valid Unicode"
        )
    segments = key.rstrip("/").split("/") if key.rstrip("/") else []
    if any(segment in ("", ".", "..") for segment in segments):
        raise OutputPathError(
            f"{what} {_shown(url)} has an empty, '.' or '..' folder in its key: S3 keeps "
            "those literally, so the object would not be where the path seems to say; "
            "write the key without them"
        )
    if len(key.encode("utf-8")) > KEY_MAX_BYTES:
        raise OutputPathError(
            f"{what} {_shown(url)} has a key of {len(key.encode('utf-8'))} bytes; S3 takes "
            f"at most {KEY_MAX_BYTES}: shorten it"
        )
    return key


def object_location(
    output_path: object, root: str, *, allow_outside_root: bool = False
) -> ObjectLocation:
    """Where an output lands under the object-store root `root`.

    Args:
        output_path: An `s3://` URL, or a path relative to the root (`"x/latest.parquet"`).
        root: The root, `s3://bucket` or `s3://bucket/prefix`.
        allow_outside_root: Accept an URL outside the root.

    Returns:
        The object's bucket and key.

    Raises:
        OutputPathError: The root or the path is not a usable S3 location, the path
            leaves the root, or it names a folder rather than an object.
    """
    base = _parse(root, "analytics root")
    if is_object_url(output_path):
        assert isinstance(output_path, str)
        target = _parse(output_path, "output path")
        if not allow_outside_root and not base.contains(target):
            raise OutputPathError(
                f"output path {_shown(output_path)} is outside the analytics root "
                f"{_shown(base.url)} (FF_ANALYTICS_URL): use a key under it, or pass "
                "allow_outside_root=True if writing elsewhere is intended"
            )
    else:
        relative = _relative_key(output_path, base)
        prefix = base.key.rstrip("/")
        target = _parse(
            f"{SCHEME}{base.bucket}/{prefix + '/' if prefix else ''}{relative}", "output path"
        )
    if not target.key or target.key.endswith("/"):
        raise OutputPathError(
            f"output path {_shown(target.url)} names a folder, not an object: add a file "
            "name such as 'latest.parquet'"
        )
    return target


def _relative_key(output_path: object, base: ObjectLocation) -> str:
    import os
    from pathlib import PurePosixPath

    if isinstance(output_path, bytes) or not isinstance(output_path, str | os.PathLike):
        raise OutputPathError(
            f"output path must be a str or a pathlib.Path, got {type(output_path).__name__}: "
            "pass the path as text"
        )
    text = os.fspath(output_path)
    if not isinstance(text, str):
        raise OutputPathError("output path must be text: pass it as a str")
    if PurePosixPath(text).is_absolute() or re.match(r"[A-Za-z]:[\\/]", text):
        raise OutputPathError(
            f"output path {_shown(text)} is a local absolute path, but the analytics root is "
            f"{_shown(base.url)} (FF_ANALYTICS_URL): give the path relative to the root "
            "(e.g. 'player_valuation/latest.parquet'), or a full s3:// URL"
        )
    return text.replace(os.sep, "/") if os.sep != "/" else text


def _obstore() -> Any:
    """The obstore module; a ConfigError naming the `s3` extra when it is missing."""
    try:
        import obstore
    except ImportError as exc:
        raise ConfigError(_S3_EXTRA_HINT) from exc
    return obstore


def _store(bucket: str, deadline: float | None = None) -> Any:
    """A client for `bucket`; with `deadline`, each request's whole time, never retried."""
    try:
        from obstore.store import S3Store
    except ImportError as exc:
        raise ConfigError(_S3_EXTRA_HINT) from exc
    if deadline is None:
        return S3Store(bucket)
    import os

    limit = dt.timedelta(seconds=deadline)
    # Client options given in code replace those from the environment: keep AWS_ALLOW_HTTP.
    allow_http = os.environ.get("AWS_ALLOW_HTTP", "").strip().lower() in {"1", "true", "yes"}
    return S3Store(
        bucket,
        client_options={"timeout": limit, "connect_timeout": limit, "allow_http": allow_http},
        retry_config={"max_retries": 0, "retry_timeout": limit},
    )


def probe(root: str, deadline: float) -> str:
    """Write and delete a small object under `root`, each request within `deadline` s.

    Returns:
        The probe's URL (deleted again).

    Raises:
        OutputPathError: `root` is not a usable S3 location, or the bucket is missing.
        ConfigError: obstore is missing, or the credentials are refused.
        ObjectStoreError: The store failed or did not answer in time.
    """
    import secrets

    obstore = _obstore()

    base = _parse(root, "analytics root")
    prefix = base.key.rstrip("/")
    location = ObjectLocation(
        base.bucket, f"{prefix + '/' if prefix else ''}.ff-prefect-kit-probe-{secrets.token_hex(6)}"
    )
    store = _store(location.bucket, deadline)
    try:
        obstore.put(store, location.key, b"ff_prefect_kit doctor", use_multipart=False)
        obstore.delete(store, location.key)
    except Exception as exc:
        raise _failure(exc, "write", location) from None
    return location.url


def _failure(exc: Exception, verb: str, location: ObjectLocation) -> Exception:
    """The kit's error for an object-store failure, redacted, naming the fix."""
    said = redact(str(exc).split("\n\nDebug source:", 1)[0])[:600]
    if "NoSuchBucket" in said:
        return OutputPathError(
            f"cannot {verb} {location.url}: bucket {location.bucket!r} does not exist at the "
            "endpoint (AWS_ENDPOINT_URL, or AWS's own): create it, or fix FF_ANALYTICS_URL. "
            f"The store said: {said}"
        )
    if "/latest/api/token" in said or "/latest/meta-data/" in said:
        # No key in the environment, so the client asked the instance metadata service.
        return ConfigError(
            f"cannot {verb} {location.url}: no AWS credentials in the environment, and no "
            "instance role answered: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and "
            f"AWS_SESSION_TOKEN for temporary ones). The store said: {said}"
        )
    names = {klass.__name__ for klass in type(exc).__mro__}
    if names & {"PermissionDeniedError", "UnauthenticatedError", "PermissionError"}:
        return ConfigError(
            f"cannot {verb} {location.url}: access denied; {_CREDENTIALS_HINT}. "
            f"The store said: {said}"
        )
    if "UnknownConfigurationKeyError" in names:
        return ConfigError(f"cannot {verb} {location.url}: {said}. Fix the AWS_* setting it names")
    return ObjectStoreError(
        f"cannot {verb} {location.url} ({type(exc).__name__}): {said}. Check the endpoint "
        f"(AWS_ENDPOINT_URL; AWS_ALLOW_HTTP=true for an http:// one) and the network; "
        "a previous object, if any, is unchanged"
    )


def put_parquet(
    frame: pl.DataFrame, location: ObjectLocation, *, compression: str, history: bool
) -> tuple[int, str | None]:
    """Write `frame` as one Parquet object; with `history`, also a timestamped copy.

    Returns:
        The object's size in bytes, and the copy's URL (or `None`).

    Raises:
        ConfigError: obstore is missing, or the credentials are refused.
        OutputPathError: The bucket does not exist.
        ObjectStoreError: The store could not be reached or failed (retried).
    """
    obstore = _obstore()

    copy = ObjectLocation(location.bucket, history_key(location.key)) if history else None
    if copy is not None and len(copy.key.encode("utf-8")) > KEY_MAX_BYTES:
        raise OutputPathError(
            f"output path {_shown(location.url)}: with history=True the key must leave room "
            f"for a timestamp (at most {KEY_MAX_BYTES} bytes with it): shorten it, or pass "
            "history=False"
        )
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression=compression)  # type: ignore[arg-type]
    store = _store(location.bucket)
    # A view of the buffer, released when sent (a live view keeps the buffer from closing).
    with buffer.getbuffer() as payload:
        size = len(payload)
        try:
            # One PUT: S3 shows the object whole or not at all (no multipart leftovers).
            obstore.put(store, location.key, payload, use_multipart=False)
        except Exception as exc:
            raise _failure(exc, "write", location) from None
    if copy is not None:
        try:
            obstore.copy(store, location.key, copy.key)
        except Exception as exc:
            raise _failure(exc, "keep a copy at", copy) from None
    return size, copy.url if copy else None


def history_key(key: str, now: dt.datetime | None = None) -> str:
    """`folder/latest.parquet` -> `folder/latest.20261129T033000123456Z.parquet`."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    folder, _, name = key.rpartition("/")
    stem, dot, suffix = name.rpartition(".")
    named = f"{stem}.{stamp}.{suffix}" if dot and stem else f"{name}.{stamp}"
    return f"{folder}/{named}" if folder else named


def read_object(url: str, what: str = "Parquet object") -> bytes:
    """The whole object at `url`, in one GET.

    Raises:
        FileNotFoundError: No such object (or bucket); the message names the URL.
        ConfigError: obstore is missing, or the credentials are refused.
        ObjectStoreError: The store could not be reached or failed.
    """
    obstore = _obstore()

    location = _parse(url, what)
    store = _store(location.bucket)
    try:
        return bytes(obstore.get(store, location.key).bytes())
    except FileNotFoundError as exc:
        said = redact(str(exc).split("\n\nDebug source:", 1)[0])[:400]
        raise FileNotFoundError(
            f"{what} {location.url} does not exist. The store said: {said}"
        ) from None
    except Exception as exc:
        raise _failure(exc, "read", location) from None
