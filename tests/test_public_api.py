"""The package's public face."""

import ff_prefect_kit

EXPECTED = {
    "Alert",
    "AlertSink",
    "AlertThrottle",
    "ConfigError",
    "DatabaseNotFoundError",
    "DbtNodeResult",
    "DbtRunError",
    "DbtRunResult",
    "DiscordAlerts",
    "DiscordClient",
    "InvalidMartNameError",
    "InvalidOptionError",
    "KitError",
    "KitSettings",
    "LogSink",
    "MartLockedError",
    "MartNotFoundError",
    "OutputPathError",
    "ParquetWriteError",
    "ParquetWriteResult",
    "RetryPolicy",
    "SchemaValidationError",
    "Severity",
    "UnresolvedTaskFailureError",
    "analytics_task",
    "bridge_logger",
    "compute_analytics",
    "flow_alert",
    "frame_cache_key",
    "is_testing",
    "load_dbt_mart",
    "monitored_flow",
    "read_mart",
    "register_blocks",
    "run_dbt",
    "run_dbt_models",
    "send_alert",
    "set_testing",
    "validate_frame",
    "validate_records",
    "write_parquet",
    "write_parquet_atomic",
}


def test_all_lists_exactly_the_public_names() -> None:
    """`__all__` names every public name and nothing else."""
    public = {name for name in vars(ff_prefect_kit) if name.isidentifier() and name[0] != "_"}
    public -= {"synthetic", "testing"}  # public submodules, imported on demand
    assert set(ff_prefect_kit.__all__) == EXPECTED
    assert public == EXPECTED


def test_all_is_sorted() -> None:
    """`__all__` is sorted, so additions land in one obvious place."""
    assert ff_prefect_kit.__all__ == sorted(ff_prefect_kit.__all__)


def test_every_kit_error_derives_from_kit_error() -> None:
    """Each exported exception is a `KitError`."""
    errors = [
        getattr(ff_prefect_kit, name)
        for name in ff_prefect_kit.__all__
        if name.endswith("Error") and name != "KitError"
    ]
    assert errors
    assert all(issubclass(e, ff_prefect_kit.KitError) for e in errors)
