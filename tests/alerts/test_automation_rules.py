"""The automations the kit installs, and the webhook block they send through."""

from __future__ import annotations

import os
from datetime import timedelta
from uuid import uuid4

import pytest

from ff_prefect_kit import ConfigError, InvalidOptionError, monitored_flow
from ff_prefect_kit.alerts._automations import (
    ALERT_HANDLED_EVENT,
    AUTOMATION_PREFIX,
    automation_webhook_block,
    kit_automations,
)
from ff_prefect_kit.testing import mock_discord_webhook

WEBHOOK = "https://discord.com/api/webhooks/123456789012345678/automation-secret-token"


def _by_name(**options: object) -> dict[str, object]:
    made = kit_automations(uuid4(), **options)  # type: ignore[arg-type]
    return {automation.name.removeprefix(AUTOMATION_PREFIX): automation for automation in made}


def test_three_automations_by_default() -> None:
    """Crashed, no heartbeats and running too long, each named with the kit's prefix."""
    assert sorted(_by_name()) == [
        "flow run crashed",
        "flow run running too long",
        "flow run stopped sending heartbeats",
    ]


def test_the_crash_automation_waits_for_the_kits_own_alert() -> None:
    """After Crashed the server expects the kit's handled event within the grace period."""
    trigger = _by_name(crash_grace=timedelta(seconds=45))["flow run crashed"].trigger  # type: ignore[attr-defined]
    assert trigger.after == {"prefect.flow-run.Crashed"}
    assert trigger.expect == {ALERT_HANDLED_EVENT}
    assert trigger.for_each == {"prefect.resource.id"}
    assert trigger.within == timedelta(seconds=45)


def test_a_limit_of_none_leaves_its_automation_out() -> None:
    """`running_limit=None` and `heartbeat_timeout=None` install only the crash automation."""
    assert list(_by_name(running_limit=None, heartbeat_timeout=None)) == ["flow run crashed"]


def test_flows_limit_every_automation_to_their_runs() -> None:
    """`flows=` matches the runs related to those flows by name."""
    for automation in _by_name(flows=["analytics-template"]).values():
        related = automation.trigger.match_related  # type: ignore[attr-defined]
        assert related["prefect.resource.name"] == ["analytics-template"]
        assert related["prefect.resource.role"] in ("flow", ["flow"])


def test_a_window_under_ten_seconds_is_refused() -> None:
    """Prefect refuses proactive windows under 10 s: the kit says so first."""
    with pytest.raises(InvalidOptionError, match="heartbeat_timeout must be at least 10 s"):
        kit_automations(uuid4(), heartbeat_timeout=timedelta(seconds=5))


def test_a_blank_flow_name_is_refused() -> None:
    """A blank name in `flows` is refused, not installed as a filter matching nothing."""
    with pytest.raises(InvalidOptionError, match="flow names must not be blank"):
        kit_automations(uuid4(), flows=[" "])


def test_the_message_never_quotes_the_state_message() -> None:
    """The server cannot redact secrets: the body names the run, never its error text."""
    for automation in _by_name().values():
        [action] = automation.actions  # type: ignore[attr-defined]
        assert "state.message" not in action.body
        assert "flow_run.name" in action.body
        assert action.subject.startswith(("🚨", "⚠️"))


def test_the_webhook_block_refuses_a_url_that_is_not_discords() -> None:
    """A wrong URL is a ConfigError that does not echo it."""
    with pytest.raises(ConfigError, match="not a Discord webhook URL") as caught:
        automation_webhook_block("https://example.com/hook?token=hunter2")
    assert "hunter2" not in str(caught.value)


def test_the_webhook_block_keeps_the_url_secret() -> None:
    """The block's URL is a template; the real one lives in its secrets, hidden in dumps."""
    block = automation_webhook_block(WEBHOOK)
    assert block.url == "{{webhook_url}}"
    assert "automation-secret-token" not in repr(block)
    assert "automation-secret-token" not in str(block.model_dump(mode="json"))


def test_the_webhook_block_posts_a_discord_message() -> None:
    """What the server sends is a Discord message within its limits, mentions off."""
    block = automation_webhook_block(WEBHOOK, username="FF Analytics Bot")
    with mock_discord_webhook(passthrough=()) as discord:
        block.notify("Flow run: brave-fox\nState: Crashed", "🚨 nightly crashed")
    [message] = discord.messages
    assert message.content == "🚨 nightly crashed"
    assert message.embed["description"] == "Flow run: brave-fox\nState: Crashed"
    assert message.payload["allowed_mentions"] == {"parse": []}
    assert message.payload["username"] == "FF Analytics Bot"


@pytest.mark.parametrize(("failures", "outcome"), [(1, "sent"), (2, "held back")])
@pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")
def test_a_monitored_flows_alert_is_recorded_as_an_event(
    monkeypatch: pytest.MonkeyPatch, failures: int, outcome: str
) -> None:
    """Sent or held back, the alert emits the handled event the crash automation waits for."""
    import prefect.events

    emitted: list[tuple[str, dict[str, str], list[dict[str, str]], dict[str, object]]] = []
    monkeypatch.setattr(
        prefect.events,
        "emit_event",
        lambda event, resource, related, payload: emitted.append(
            (event, resource, related, payload)
        ),
    )

    @monitored_flow(name=f"handled-{uuid4().hex[:8]}")
    def fails() -> None:
        raise RuntimeError("boom")

    with mock_discord_webhook():
        states = [fails(return_state=True) for _ in range(failures)]
    event, resource, related, payload = emitted[-1]
    assert event == ALERT_HANDLED_EVENT
    assert [r["prefect.resource.role"] for r in related] == ["flow"]  # `--flow` matches it
    assert related[0]["prefect.resource.name"] == fails.name
    assert (
        resource["prefect.resource.id"]
        == f"prefect.flow-run.{states[-1].state_details.flow_run_id}"
    )
    assert payload == {"outcome": outcome}


@pytest.mark.usefixtures("prefect_test_harness", "no_retry_delays")
def test_an_alert_only_written_to_the_logs_is_not_recorded_as_handled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No webhook: the alert reached nobody, so the server's crash automation must still send."""
    import prefect.events

    emitted: list[object] = []
    monkeypatch.setattr(prefect.events, "emit_event", lambda *a, **k: emitted.append(a))
    monkeypatch.delenv("DISCORD_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("FF_ENV_FILE", os.devnull)

    @monitored_flow(name=f"logged-{uuid4().hex[:8]}")
    def fails() -> None:
        raise RuntimeError("boom")

    assert fails(return_state=True).is_failed()
    assert emitted == []


def test_a_run_that_left_running_ends_the_heartbeat_and_running_windows() -> None:
    """TimedOut, AwaitingRetry, Paused: the run is not lost nor hanging, no alert comes."""
    made = _by_name()
    for name in ("flow run stopped sending heartbeats", "flow run running too long"):
        expect = made[name].trigger.expect  # type: ignore[attr-defined]
        for state in ("TimedOut", "AwaitingRetry", "Paused", "Crashed", "Completed"):
            assert f"prefect.flow-run.{state}" in expect, (name, state)
