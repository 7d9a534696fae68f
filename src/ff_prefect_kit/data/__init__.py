"""The data functions: load a dbt mart, validate it against a Pydantic model, write Parquet.

The template tasks built from them, `ff_prefect_kit.load_dbt_mart`, `validate_frame`
and `write_parquet`, live at the top of the kit; each one's plain function is its `.fn`.
"""

from ff_prefect_kit._exports import publish as _publish
from ff_prefect_kit.data._describe import MartColumn, describe_mart
from ff_prefect_kit.data._mart import quote_identifier
from ff_prefect_kit.data._parquet import (
    ParquetWriteResult,
    column_profile,
    read_parquet,
    resolve_output_path,
)
from ff_prefect_kit.data._validation import validate_records, validation_path

__all__ = [
    "MartColumn",
    "ParquetWriteResult",
    "column_profile",
    "describe_mart",
    "quote_identifier",
    "read_parquet",
    "resolve_output_path",
    "validate_records",
    "validation_path",
]

_publish(globals(), __all__)
