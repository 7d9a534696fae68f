"""The package's public face."""

import ff_prefect_kit

EXPECTED = {
    "Alert",
    "AlertSink",
    "ConfigError",
    "InvalidOptionError",
    "KitError",
    "KitSettings",
    "LogSink",
    "RetryPolicy",
    "SchemaValidationError",
    "Severity",
    "UnresolvedTaskFailureError",
    "analytics_task",
    "bridge_logger",
    "flow_alert",
    "frame_cache_key",
    "is_testing",
    "monitored_flow",
    "set_testing",
}


def test_all_lists_exactly_the_public_names() -> None:
    """`__all__` names every public name and nothing else."""
    public = {name for name in vars(ff_prefect_kit) if name.isidentifier() and name[0] != "_"}
    public -= {"testing"}  # a subpackage, imported on demand
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
