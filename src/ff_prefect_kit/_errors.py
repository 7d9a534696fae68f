"""The kit's exception hierarchy: every error the kit raises on purpose is a `KitError`."""

from __future__ import annotations


class KitError(Exception):
    """Base class of every error raised by ff_prefect_kit.

    `transient` tells `analytics_task`'s default retry policy whether running the
    same call again may succeed. Kit errors describe bad configuration or bad data
    unless a subclass says otherwise, so they are not retried.
    """

    transient: bool = False


class ConfigError(KitError, ValueError):
    """A setting is missing or malformed.

    The message names the variable and where to set it; it never echoes a secret.
    """


class InvalidOptionError(KitError, TypeError, ValueError):
    """A decorator was given an option it does not know, or a value it cannot use.

    It is both a `TypeError` (like Python's own error for an unknown keyword) and a
    `ValueError` (like an out-of-range number), so either `except` catches it.
    """


class SchemaValidationError(KitError, ValueError):
    """Data did not match its Pydantic schema. Never retried."""


class UnresolvedTaskFailureError(KitError):
    """A monitored flow returned while task runs it submitted had failed unobserved.

    Attributes:
        failures: `(task run name, exception or None, state message)` for each.
    """

    def __init__(
        self, message: str, failures: list[tuple[str, BaseException | None, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.failures = failures or []
