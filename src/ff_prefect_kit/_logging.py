"""Bridge stdlib loggers into Prefect's run logs.

Prefect ships to the API only the records of its own loggers and of those named in
`PREFECT_LOGGING_EXTRA_LOGGERS`, and the root logger sits at WARNING, so the INFO
lines of `logging.getLogger(__name__)` in a task module would reach neither the
run's logs nor the console. `bridge_logger` fixes that for one logger, without
environment variables. `bridge_user_loggers` does it for every module logger of the
user's own code (a module outside the installed libraries and the standard
library), so a helper module with no decorator is heard too; third-party loggers
(httpx, duckdb, ...) stay out. The kit's decorators call it as each run starts.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import sysconfig
from functools import cache
from pathlib import Path

from ff_prefect_kit import _config
from ff_prefect_kit._context import in_run
from ff_prefect_kit._secrets import redact

__all__ = ["bridge_logger", "bridge_user_loggers", "kit_logger", "one_line"]

# Every control character but the tab: a newline in a value would start a fake log line.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def one_line(value: object) -> str:
    """`value` as text with its control characters escaped (`\\n`, `\\x1b`, ...)."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], str(value))


class _SafeLines(logging.Filter):
    """The kit's log lines: values on one line (paths, names), no secret anywhere."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                one_line(arg) if isinstance(arg, str | os.PathLike) else arg for arg in record.args
            )
        hide_secrets(record)
        return True


def _safe_text(value: object) -> str:
    try:
        return repr(value)
    except Exception as error:  # a value whose repr raises still gets a line
        return f"<{type(value).__name__}, unprintable: {type(error).__name__} in its repr>"


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:
        # An argument whose repr raises, or arguments that do not fit the format: the
        # message and each argument as far as they print, instead of no redaction.
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        shown = " ".join(_safe_text(arg) for arg in args if arg is not None)
        return f"{record.msg} {shown}".rstrip()


def hide_secrets(record: logging.LogRecord) -> None:
    """Redact known secrets from a record's message, traceback and stack, in place."""
    record.msg, record.args = redact(_message(record)), None
    if record.exc_info and not record.exc_text:
        try:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        except Exception:  # a traceback that cannot be formatted: the type alone
            record.exc_text = f"{type(record.exc_info[1]).__name__} (traceback unprintable)"
    # Redacted even when set already: another handler may have formatted it first.
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


kit_logger = logging.getLogger("ff_prefect_kit")
kit_logger.addFilter(_SafeLines())

_BRIDGED_MARK = "_ff_prefect_kit_bridged"


class RunLogBridge(logging.Handler):
    """Forward records to Prefect's API log handler while a flow or task runs.

    Outside a run the record is left alone (it still propagates to the console).
    A record passes through one bridge only, so bridging both `pkg` and `pkg.mod`
    never duplicates a line in the run's logs.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        from prefect.logging.handlers import APILogHandler

        self._api = APILogHandler()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, _BRIDGED_MARK, False):
            return
        setattr(record, _BRIDGED_MARK, True)
        if not in_run():
            return
        hide_secrets(record)
        self._api.emit(record)


def bridge_logger(name: str, level: int = logging.INFO) -> logging.Logger:
    """Send a stdlib logger's records to the current Prefect run's logs.

    Idempotent. A logger that Prefect already ships (one of its own, or one named in
    `PREFECT_LOGGING_EXTRA_LOGGERS`) is left as it is. A logger whose level was never
    set gets `level`, so its INFO lines show; an explicit level is respected.

    Args:
        name: The logger's name, usually a module's `__name__`.
        level: The level to give a logger that has none of its own.

    Returns:
        The bridged logger.
    """
    logger = logging.getLogger(name)
    if name == "prefect" or name.startswith("prefect."):
        return logger
    from prefect.logging.handlers import APILogHandler

    with _config.state.lock:
        if not any(isinstance(h, RunLogBridge | APILogHandler) for h in logger.handlers):
            logger.addHandler(RunLogBridge())
        if logger.level == logging.NOTSET:
            logger.setLevel(level)
    return logger


@cache
def _library_roots() -> tuple[Path, ...]:
    """Where installed libraries and the standard library live."""
    names = ("stdlib", "platstdlib", "purelib", "platlib")
    roots = {Path(path).resolve() for name in names if (path := sysconfig.get_path(name))}
    roots.update(Path(p).resolve() for p in sys.path if "site-packages" in p)
    return tuple(sorted(roots))


def _is_user_module(name: str) -> bool:
    """Whether logger `name` is a module of the user's own code."""
    if name.split(".", maxsplit=1)[0] in ("prefect", "ff_prefect_kit", "pytest_ff_prefect_kit"):
        return False
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None)
    if not file:
        return False
    path = Path(file).resolve()
    return not any(path.is_relative_to(root) for root in _library_roots())


def _fresh_loggers() -> list[str]:
    """The loggers not looked at yet, so each call looks only at new ones."""
    names = logging.root.manager.loggerDict
    state = _config.state
    if len(names) == state.loggers_seen:
        return []
    with state.lock:
        fresh = [name for name in list(names) if name not in state.loggers_considered]
        state.loggers_considered.update(fresh)
        state.loggers_seen = len(names)
    return fresh


def bridge_user_loggers() -> None:
    """Bridge every existing logger named after a module of the user's own code.

    Cheap when nothing changed: loggers are looked at once, and only when new ones
    have appeared since the last call.
    """
    for name in _fresh_loggers():
        if _is_user_module(name):
            bridge_logger(name)


class _HideSecrets(logging.Filter):
    """On a handler: redact known secrets from every record it emits."""

    def filter(self, record: logging.LogRecord) -> bool:
        hide_secrets(record)
        return True


def protect_prefect_logs() -> None:
    """Hide known secrets in what Prefect's own loggers print and ship (idempotent).

    A failed run's state message carries the exception's text, and Prefect logs it and
    sends it to the API: a secret in an error message would otherwise leave there.
    """
    loggers = [logging.getLogger("prefect")]
    loggers += [
        logger
        for name, logger in list(logging.root.manager.loggerDict.items())
        if name.startswith("prefect.") and isinstance(logger, logging.Logger)
    ]
    with _config.state.lock:
        for logger in loggers:
            for handler in logger.handlers:
                if not any(isinstance(f, _HideSecrets) for f in handler.filters):
                    handler.addFilter(_HideSecrets())
