"""Testing: a fast Prefect harness, a fake Discord webhook, run records, synthetic marts.

Every piece is a plain API that works without pytest; the pytest plugin
(`pytest_ff_prefect_kit`, loaded through the `pytest11` entry point) wraps each in a
fixture. `ff_prefect_kit.testing.strategies` adds Hypothesis strategies (it needs
`hypothesis`).
"""

from ff_prefect_kit._config import is_testing, set_testing
from ff_prefect_kit._errors import HarnessStartError
from ff_prefect_kit._exports import publish as _publish
from ff_prefect_kit.testing._contract import (
    ALLOWED_SEASON_TYPES,
    MART_COLUMNS,
    MART_TABLE,
    PLAYERS_TABLE,
    POSITIONS,
    STAT_COLUMNS,
    STAT_PROFILE,
    UNMAPPED_SHARE,
)
from ff_prefect_kit.testing._database import default_database_cache
from ff_prefect_kit.testing._discord import (
    CapturedMessage,
    DiscordWebhookMock,
    mock_discord_webhook,
)
from ff_prefect_kit.testing._generator import SyntheticRaw, generate_raw, scoring_rules
from ff_prefect_kit.testing._harness import HarnessHandle, prefect_harness
from ff_prefect_kit.testing._marts import build_mart, build_synthetic_marts
from ff_prefect_kit.testing._prefect_server import PrefectServer
from ff_prefect_kit.testing._records import RunRecord, TaskRecord, run_record

__all__ = [
    "ALLOWED_SEASON_TYPES",
    "MART_COLUMNS",
    "MART_TABLE",
    "PLAYERS_TABLE",
    "POSITIONS",
    "STAT_COLUMNS",
    "STAT_PROFILE",
    "UNMAPPED_SHARE",
    "CapturedMessage",
    "DiscordWebhookMock",
    "HarnessHandle",
    "HarnessStartError",
    "PrefectServer",
    "RunRecord",
    "SyntheticRaw",
    "TaskRecord",
    "build_mart",
    "build_synthetic_marts",
    "default_database_cache",
    "generate_raw",
    "is_testing",
    "mock_discord_webhook",
    "prefect_harness",
    "run_record",
    "scoring_rules",
    "set_testing",
]

_publish(globals(), __all__)
