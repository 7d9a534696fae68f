"""Alerts sent by the Prefect server: for runs whose own process cannot report them.

A monitored flow alerts from inside its process. A process killed by the OOM killer or
SIGKILL, a lost machine or a hung run sends nothing. These automations are evaluated by
the Prefect server (self-hosted or Cloud) from the events of every flow run:

- a flow run enters Crashed (its worker saw the process die);
- a flow run that sent heartbeats stops sending them (its worker or machine is gone);
- a flow run stays Running past a limit (it hangs).

Each sends a Discord message through a notification block, which the server itself
calls. The default block is Prefect's own `CustomWebhookNotificationBlock` shaped as a
Discord message, so it runs on Prefect Cloud too, where the kit's code is not installed.

The three automations' definitions, their message templates and their install are one
module (a little over 350 lines): each trigger and the text sent for it are read together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from pydantic import SecretStr

from ff_prefect_kit._errors import ConfigError, InvalidOptionError
from ff_prefect_kit._internals import saved_block_id
from ff_prefect_kit._settings import AUTOMATION_BLOCK_NAME
from ff_prefect_kit.alerts._model import Severity
from ff_prefect_kit.alerts._redaction import validate_webhook_url

if TYPE_CHECKING:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.events.schemas.automations import AutomationCore

__all__ = [
    "ALERT_HANDLED_EVENT",
    "AUTOMATION_BLOCK_NAME",
    "AUTOMATION_PREFIX",
    "DEFAULT_CRASH_GRACE",
    "DEFAULT_HEARTBEAT_TIMEOUT",
    "DEFAULT_RUNNING_LIMIT",
    "InstalledAutomation",
    "automation_webhook_block",
    "check_windows",
    "install_automations",
    "kit_automations",
]

ALERT_HANDLED_EVENT = "ff-prefect-kit.alert.handled"
"""The event a monitored flow emits for its run once its alert is sent or held back.

The "flow run crashed" automation waits for it: the server alerts only for a crash
that no process of the kit reported.
"""
AUTOMATION_PREFIX = "ff-prefect-kit: "
"""Every automation the kit installs is named with this prefix."""
DEFAULT_RUNNING_LIMIT = timedelta(hours=3)
DEFAULT_HEARTBEAT_TIMEOUT = timedelta(seconds=90)
DEFAULT_CRASH_GRACE = timedelta(seconds=60)
# Prefect refuses a proactive trigger whose window is shorter.
_SHORTEST = timedelta(seconds=10)

# A run that left Running: finished (TimedOut is a Failed state of its own name), waiting
# to retry, paused, or being cancelled. None of these sends heartbeats or hangs.
_LEFT_RUNNING = (
    "prefect.flow-run.Completed",
    "prefect.flow-run.Failed",
    "prefect.flow-run.TimedOut",
    "prefect.flow-run.Crashed",
    "prefect.flow-run.Cancelled",
    "prefect.flow-run.Cancelling",
    "prefect.flow-run.AwaitingRetry",
    "prefect.flow-run.Paused",
    "prefect.flow-run.Suspended",
)
# Rendered by the server with Jinja: the flow, the run, its state and its page. Never the
# state's message: it may quote an exception holding a secret, and the server cannot
# redact it as the kit does.
_BODY = (
    "Flow run: {{ flow_run.name }}\n"
    "State: {{ flow_run.state.name }}\n"
    "Started: {{ flow_run.start_time }}\n"
    "Run: {{ (flow_run|ui_url) or flow_run.id }}\n"
    "{reason}\n"
    "Sent by the Prefect server (automation {name!r}): the run's own process could not "
    "report it."
)


@dataclass(frozen=True)
class InstalledAutomation:
    """One automation after `install_automations`.

    Attributes:
        name: Its name, `ff-prefect-kit: ...`.
        id: Its id on the server, `None` once removed.
        action: `"created"`, `"updated"` or `"removed"`.
    """

    name: str
    id: UUID | None
    action: Literal["created", "updated", "removed"]


def automation_webhook_block(
    webhook_url: str | SecretStr, *, username: str = "FF Analytics Bot"
) -> CustomWebhookNotificationBlock:
    """Prefect's custom webhook block, posting a Discord message like the kit's alerts.

    The webhook URL is kept in the block's secrets, so the UI and the API show it
    hidden. The message has the emoji-prefixed subject, an embed with the body, and
    mentions switched off.

    Args:
        webhook_url: The Discord webhook URL.
        username: The name the message is posted under.

    Raises:
        ConfigError: `webhook_url` is not a Discord webhook URL (the value is not shown).
    """
    url = validate_webhook_url(webhook_url)
    return _webhook_block(url, username=username)


def _webhook_block(url: SecretStr, *, username: str) -> CustomWebhookNotificationBlock:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    return CustomWebhookNotificationBlock(
        name="ff-prefect-kit automations",
        url="{{webhook_url}}",
        method="POST",
        json_data={
            "username": username,
            "content": "{{subject}}",
            "embeds": [
                {
                    "title": "{{subject}}",
                    "description": "{{body}}",
                    "color": Severity.CRITICAL.colour,
                }
            ],
            "allowed_mentions": {"parse": []},
        },
        timeout=10,
        secrets={"webhook_url": url.get_secret_value()},
    )


def check_windows(
    running_limit: timedelta | None,
    heartbeat_timeout: timedelta | None,
    crash_grace: timedelta,
    *,
    names: tuple[str, str, str] = ("running_limit", "heartbeat_timeout", "crash_grace"),
) -> None:
    """Refuse a window Prefect would refuse, naming it as `names` spell the three.

    Raises:
        InvalidOptionError: A window shorter than 10 s.
    """
    limits = dict(zip(names, (running_limit, heartbeat_timeout, crash_grace), strict=True))
    for label, limit in limits.items():
        if limit is not None and limit < _SHORTEST:
            raise InvalidOptionError(
                f"{label} must be at least {_SHORTEST.seconds} s (Prefect's shortest window "
                f"for such a trigger), got {limit.total_seconds():g} s: give a longer one"
            )


def kit_automations(
    block_document_id: UUID,
    *,
    running_limit: timedelta | None = DEFAULT_RUNNING_LIMIT,
    heartbeat_timeout: timedelta | None = DEFAULT_HEARTBEAT_TIMEOUT,
    flows: Sequence[str] = (),
    crash_grace: timedelta = DEFAULT_CRASH_GRACE,
) -> list[AutomationCore]:
    """The automations the kit installs, not yet saved.

    Args:
        block_document_id: The notification block the server sends through.
        running_limit: Alert on a run still Running after this long; `None` for none.
        heartbeat_timeout: Alert on a run that sent heartbeats and then none for this
            long; `None` for none. Runs send heartbeats only when their worker or
            process sets `PREFECT_FLOWS_HEARTBEAT_FREQUENCY` (Prefect 3.6:
            `PREFECT_RUNNER_HEARTBEAT_FREQUENCY`), in seconds, at least 30.
        flows: Only the runs of these flows (by name); empty for every flow.
        crash_grace: How long the server waits, after a run enters Crashed, for the
            kit's own alert (the worker that saw the process die runs the flow's crash
            hooks) before it alerts instead.

    Raises:
        InvalidOptionError: A limit shorter than 10 s, or a blank flow name.
    """
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    check_windows(running_limit, heartbeat_timeout, crash_grace)
    if any(not name.strip() for name in flows):
        raise InvalidOptionError(f"flow names must not be blank, got {list(flows)!r}")
    related: dict[str, Any] = (
        {"prefect.resource.role": "flow", "prefect.resource.name": list(flows)} if flows else {}
    )
    match = {"prefect.resource.id": "prefect.flow-run.*"}

    def automation(
        name: str, description: str, subject: str, reason: str, trigger: EventTrigger
    ) -> AutomationCore:
        full = AUTOMATION_PREFIX + name
        body = _BODY.replace("{reason}", reason).replace("{name!r}", repr(full))
        return AutomationCore(
            name=full,
            description=description,
            enabled=True,
            trigger=trigger,
            actions=[
                SendNotification(block_document_id=block_document_id, subject=subject, body=body)
            ],
        )

    made = [
        automation(
            "flow run crashed",
            "A flow run entered Crashed: its process died (OOM killer, SIGKILL, lost machine).",
            f"{Severity.CRITICAL.emoji} {{{{ flow.name }}}} crashed",
            "Its process ended without reporting a result: the OOM killer, a SIGKILL, "
            "or a lost machine.",
            # Proactive: a monitored flow's own alert (sent from its process, or from
            # the worker that saw it die) emits ALERT_HANDLED_EVENT; only a crash that
            # none reported within the grace period is alerted by the server.
            EventTrigger(
                after={"prefect.flow-run.Crashed"},
                expect={ALERT_HANDLED_EVENT},
                for_each={"prefect.resource.id"},
                match=match,
                match_related=related,
                posture=Posture.Proactive,
                threshold=1,
                within=crash_grace,
            ),
        )
    ]
    if heartbeat_timeout is not None:
        seconds = int(heartbeat_timeout.total_seconds())
        made.append(
            automation(
                "flow run stopped sending heartbeats",
                f"A flow run sent no heartbeat for {seconds} s and did not finish.",
                f"{Severity.CRITICAL.emoji} {{{{ flow.name }}}} stopped sending heartbeats",
                f"No heartbeat for {seconds} s and no final state: its worker, process or "
                "machine is gone. Prefect still shows it Running.",
                EventTrigger(
                    after={"prefect.flow-run.heartbeat"},
                    expect={"prefect.flow-run.heartbeat", *_LEFT_RUNNING},
                    for_each={"prefect.resource.id"},
                    match=match,
                    match_related=related,
                    posture=Posture.Proactive,
                    threshold=1,
                    within=heartbeat_timeout,
                ),
            )
        )
    if running_limit is not None:
        minutes = round(running_limit.total_seconds() / 60, 1)
        made.append(
            automation(
                "flow run running too long",
                f"A flow run has been Running for more than {minutes:g} min.",
                f"{Severity.FAILURE.emoji} {{{{ flow.name }}}} still running after {minutes:g} min",
                f"Still Running after {minutes:g} min: it may hang. Cancel it from its page "
                "if it does.",
                EventTrigger(
                    after={"prefect.flow-run.Running"},
                    expect=set(_LEFT_RUNNING),
                    for_each={"prefect.resource.id"},
                    match=match,
                    match_related=related,
                    posture=Posture.Proactive,
                    threshold=1,
                    within=running_limit,
                ),
            )
        )
    return made


_ALL_NAMES = tuple(
    AUTOMATION_PREFIX + name
    for name in (
        "flow run crashed",
        "flow run stopped sending heartbeats",
        "flow run running too long",
    )
)


def install_automations(
    block_document_id: UUID,
    *,
    running_limit: timedelta | None = DEFAULT_RUNNING_LIMIT,
    heartbeat_timeout: timedelta | None = DEFAULT_HEARTBEAT_TIMEOUT,
    flows: Sequence[str] = (),
    crash_grace: timedelta = DEFAULT_CRASH_GRACE,
) -> list[InstalledAutomation]:
    """Create or update the kit's automations on the Prefect API; idempotent.

    Running it again leaves one automation of each name, updated to these options. An
    automation switched off (`running_limit=None` or `heartbeat_timeout=None`) is removed.

    Args:
        block_document_id: The notification block the server sends through.
        running_limit: See `kit_automations`.
        heartbeat_timeout: See `kit_automations`.
        flows: See `kit_automations`.
        crash_grace: See `kit_automations`.

    Returns:
        What was created, updated or removed.
    """
    from prefect.client.orchestration import get_client

    wanted = kit_automations(
        block_document_id,
        running_limit=running_limit,
        heartbeat_timeout=heartbeat_timeout,
        flows=flows,
        crash_grace=crash_grace,
    )
    done: list[InstalledAutomation] = []
    with get_client(sync_client=True) as client:
        for automation in wanted:
            existing = client.read_automations_by_name(automation.name)
            if existing:
                keep, *extra = existing
                client.update_automation(keep.id, automation)
                for duplicate in extra:
                    client.delete_automation(duplicate.id)
                done.append(InstalledAutomation(automation.name, keep.id, "updated"))
            else:
                created = client.create_automation(automation)
                done.append(InstalledAutomation(automation.name, created, "created"))
        for name in _ALL_NAMES:
            if any(automation.name == name for automation in wanted):
                continue
            for stale in client.read_automations_by_name(name):
                client.delete_automation(stale.id)
                done.append(InstalledAutomation(name, None, "removed"))
    return done


def block_document_id(block: Any) -> UUID:
    """The id of a saved block; `ConfigError` when it was never saved."""
    found = saved_block_id(block)
    if found is None:
        raise ConfigError(f"the {type(block).__name__} block is not saved: save it first")
    return found
