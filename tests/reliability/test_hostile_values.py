"""Exceptions that cannot print and values that would forge log lines break nothing."""

from __future__ import annotations

import logging

import pytest

from ff_prefect_kit import Severity, monitored_flow
from ff_prefect_kit._errors import describe
from ff_prefect_kit._logging import kit_logger
from ff_prefect_kit.alerts import Alert
from ff_prefect_kit.testing import mock_discord_webhook


class Unprintable(Exception):
    """An exception whose message cannot be turned into text."""

    def __str__(self) -> str:
        raise ValueError("no text for you")


def test_describe_survives_an_unprintable_exception() -> None:
    """The kit names such an exception by its type and says why it has no message."""
    assert describe(Unprintable()) == (
        "Unprintable: <message unprintable: ValueError in its __str__>"
    )


@pytest.mark.usefixtures("prefect_test_harness")
def test_a_flow_failing_with_an_unprintable_exception_still_alerts() -> None:
    """The run ends Failed and one alert names the exception's type."""
    with mock_discord_webhook() as discord:

        @monitored_flow(name="fails-unprintably")
        def fails() -> None:
            raise Unprintable

        state = fails(return_state=True)
    assert state.is_failed()
    [message] = discord.messages
    assert "Unprintable" in message.text


def test_a_newline_in_a_logged_value_cannot_start_a_fake_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Control characters in a path or name are escaped in the kit's log line."""
    with caplog.at_level(logging.INFO, logger="ff_prefect_kit"):
        kit_logger.info("Loaded mart %r from %s", "x", "/tmp/a\nERROR | forged line\x1b[31m")
    [record] = [r for r in caplog.records if r.name == "ff_prefect_kit"]
    assert record.getMessage() == ("Loaded mart 'x' from /tmp/a\\nERROR | forged line\\x1b[31m")


def test_a_multi_line_alert_value_is_indented_under_its_fact() -> None:
    """In the text form, a value's further lines are indented: no value passes for a fact."""
    alert = Alert(Severity.FAILURE, "nightly failed", fields=(("Error", "boom\nHost: fake"),))
    assert "Error: boom\n    Host: fake" in alert.as_text()
