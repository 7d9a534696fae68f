"""Suite-wide isolation, applied before Prefect is first imported.

Prefect reads its settings when it is imported, so the suite's home and its
offline server settings are set here, at the top, rather than in a fixture.
"""

import os
import tempfile

os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="ff-prefect-kit-suite-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW"] = "ignore"
# Settings under test come from each test, never from the developer's shell or .env:
# a failing-flow test must not post to a real Discord channel.
os.environ["FF_ENV_FILE"] = os.devnull
for name in ("DISCORD_WEBHOOK_URL", "PREFECT_API_KEY", "FF_DUCKDB_PATH", "FF_DBT_PROJECT_DIR"):
    os.environ.pop(name, None)
