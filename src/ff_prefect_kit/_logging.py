"""Bridge stdlib loggers into Prefect's run logs.

Prefect ships to the API only the records of its own loggers and of those named in
`PREFECT_LOGGING_EXTRA_LOGGERS`, and the root logger sits at WARNING, so the INFO
lines of `logging.getLogger(__name__)` in a task module would reach neither the
run's logs nor the console. `bridge_logger` fixes that for one logger, without
environment variables; the kit's decorators call it for the decorated function's
module and for the kit's own logger.
"""

from __future__ import annotations

import logging
import threading

from ff_prefect_kit._context import in_run

__all__ = ["bridge_logger", "kit_logger"]

kit_logger = logging.getLogger("ff_prefect_kit")

_lock = threading.Lock()
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

    with _lock:
        if not any(isinstance(h, RunLogBridge | APILogHandler) for h in logger.handlers):
            logger.addHandler(RunLogBridge())
        if logger.level == logging.NOTSET:
            logger.setLevel(level)
    return logger
