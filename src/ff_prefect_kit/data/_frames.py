"""Rows as a Polars frame: a DataFrame as it is, Pydantic models one row each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ff_prefect_kit._errors import ParquetWriteError

if TYPE_CHECKING:
    import polars as pl
    from pydantic import BaseModel

__all__ = ["models_to_frame", "to_frame"]


def to_frame(data: pl.DataFrame | Sequence[BaseModel]) -> pl.DataFrame:
    """`data` as a DataFrame: models go through `pl.DataFrame`, or JSON dumps if needed."""
    import polars as pl
    from pydantic import BaseModel

    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, str | bytes) or not isinstance(data, Sequence):
        raise ParquetWriteError(
            f"write_parquet takes a polars DataFrame or a list of Pydantic models, "
            f"got {type(data).__name__}"
        )
    if not data:
        raise ParquetWriteError(
            "write_parquet got an empty list of models: there are no columns to write; "
            "pass an empty DataFrame with the columns instead"
        )
    if not all(isinstance(m, BaseModel) for m in data):
        odd = next(m for m in data if not isinstance(m, BaseModel))
        raise ParquetWriteError(
            f"write_parquet takes Pydantic models in a list, found a {type(odd).__name__}"
        )
    return models_to_frame(data)


def models_to_frame(models: Sequence[BaseModel]) -> pl.DataFrame:
    """One row per model: Polars' own constructor, with JSON forms where it cannot type a field.

    Enum members, UUIDs and precision-less Decimals become their JSON values (the
    enum's value, the UUID's text, the decimal's text); every other column keeps the
    type Polars gives it (dates stay dates).
    """
    import decimal
    import enum
    import uuid

    import polars as pl

    try:
        frame = pl.DataFrame(models)
        order = frame.columns
    except Exception:
        # e.g. a Decimal without precision or an Enum: Polars refuses the rows.
        dumps = [m.model_dump() for m in models]
        untyped = (decimal.Decimal, uuid.UUID, enum.Enum)
        skip = {k for d in dumps for k, v in d.items() if isinstance(v, untyped)}
        frame = pl.DataFrame(
            [{k: v for k, v in d.items() if k not in skip} for d in dumps],
            infer_schema_length=None,
        )
        order = list(dumps[0])
    frame = _with_time_zones(frame, models)
    odd = [name for name in order if name not in frame.columns or frame.schema[name] == pl.Object]
    if not odd:
        return frame
    as_json = pl.DataFrame(
        [m.model_dump(mode="json", include=set(odd)) for m in models], infer_schema_length=None
    )
    if frame.width == 0:
        return as_json.select(order)
    return frame.with_columns(as_json.select(odd)).select(order)


def _with_time_zones(frame: pl.DataFrame, models: Sequence[BaseModel]) -> pl.DataFrame:
    """Give back the time zone Polars drops from aware datetimes (it keeps them as UTC)."""
    import polars as pl

    zoned = {}
    for name, dtype in frame.schema.items():
        if not isinstance(dtype, pl.Datetime) or dtype.time_zone is not None:
            continue
        zones = {
            _zone_name(value)
            for value in (getattr(m, name, None) for m in models)
            if isinstance(value, dt.datetime)
        }
        if len(zones) == 1 and (zone := zones.pop()) is not None:
            zoned[name] = pl.col(name).dt.replace_time_zone("UTC").dt.convert_time_zone(zone)
        elif zones and None not in zones:
            # Several zones: one column holds one, so the instants stay in UTC.
            zoned[name] = pl.col(name).dt.replace_time_zone("UTC")
    if not zoned:
        return frame
    try:
        return frame.with_columns(**zoned)
    except pl.exceptions.PolarsError:  # a zone Polars does not know: UTC, as it was
        return frame.with_columns(pl.col(name).dt.replace_time_zone("UTC") for name in zoned)


def _zone_name(value: dt.datetime) -> str | None:
    """The IANA name (or `UTC`) of an aware datetime's zone; `None` for a naive one."""
    import zoneinfo

    zone = value.tzinfo
    if zone is None or value.utcoffset() is None:
        return None
    # A fixed offset has no IANA name: its instants are kept in UTC.
    return zone.key if isinstance(zone, zoneinfo.ZoneInfo) else "UTC"
