"""The discord_webhook_mock fixture and its marker, run in a pytester session."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_fixture_records_alerts_sent_to_the_default_webhook(pytester: pytest.Pytester) -> None:
    """A test using the fixture sees the messages send_alert posts."""
    pytester.makepyfile(
        """
        from ff_prefect_kit import Severity, send_alert

        def test_alert(discord_webhook_mock):
            send_alert("Marts rebuilt", Severity.SUCCESS)
            [message] = discord_webhook_mock.messages
            assert message.severity is Severity.SUCCESS
            assert message.content == "✅ Marts rebuilt"
        """
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_marker_scripts_the_responses(pytester: pytest.Pytester) -> None:
    """`@pytest.mark.discord_webhook_mock(responses=[404])` makes the webhook answer 404 once."""
    pytester.makepyfile(
        """
        import pytest
        from ff_prefect_kit import send_alert

        @pytest.mark.discord_webhook_mock(responses=[404])
        def test_alert(discord_webhook_mock):
            send_alert("hello")
            assert [r.status for r in discord_webhook_mock.requests] == [404]
            assert discord_webhook_mock.messages == []
        """
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_marker_typo_fails_loudly(pytester: pytest.Pytester) -> None:
    """A misspelt marker option errors the test with Python's own TypeError naming it."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.discord_webhook_mock(respones=[404])
        def test_alert(discord_webhook_mock):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    # Python 3.13 adds "Did you mean 'responses'?" to the same line.
    result.stdout.fnmatch_lines(
        ["E *TypeError: mock_discord_webhook() got an unexpected keyword argument 'respones'*"]
    )


def test_message_breaking_discord_limits_fails_at_teardown(pytester: pytest.Pytester) -> None:
    """A hand-made payload over Discord's limits fails the test at teardown, saying why."""
    pytester.makepyfile(
        """
        import httpx

        def test_raw_post(discord_webhook_mock):
            httpx.post(discord_webhook_mock.webhook_url, json={"content": "x" * 2001})
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    lines = [line.removeprefix("E").strip() for line in result.stdout.lines]
    start = lines.index(
        "AssertionError: mock_discord_webhook: a message would be rejected by Discord "
        "or ping people:"
    )
    assert lines[start + 1 : start + 3] == [
        "message 1: content is 2001 characters (limit 2000)",
        'message 1: allowed_mentions is not {"parse": []}: mentions would ping',
    ]


def test_marker_is_registered(pytester: pytest.Pytester) -> None:
    """`--strict-markers` accepts `discord`: the plugin registers it."""
    result = pytester.runpytest_inprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.discord_webhook_mock(*, responses=(), *"])
