"""`doctor`: check that this machine can run the kit's flows, and say how to fix what is not.

`run_checks()` computes the results (a list of `CheckResult`) without printing;
`render()` prints them; `exit_code()` turns them into the command's exit status.

Required checks (a ✘ exits 1): Prefect loads and is a supported release; the
settings (environment and `.env`) parse; `PREFECT_API_URL`, when set, is an http(s)
URL whose `/health` answers in full within the timeout, and the API accepts the
credential Prefect would send (`PREFECT_API_AUTH_STRING`, else `PREFECT_API_KEY`);
`DISCORD_WEBHOOK_URL`, when set, is a Discord webhook URL (and, with `--send-test`,
Discord confirms a test alert); `FF_DUCKDB_PATH`, when set, is a DuckDB file that opens
read-only; the data folder (`FF_DATA_DIR`) exists or can be created, and is writable;
`just`, when the working directory's justfile has a recipe that runs dbt; a `.env` file
inside a git work tree is ignored by git.

Optional checks (a miss is a ~ warning): no webhook (alerts go to the logs); without
`PREFECT_API_URL`, a start-up timeout of the local ephemeral API not raised
(`ff-prefect-kit init` raises it); dbt, unless `FF_DBT_PROJECT_DIR` names a dbt project;
a DuckDB file locked by a writer (dbt), which is transient.

No check prints a secret: the webhook URL appears with its token hidden, a credential
never appears, and every line goes through `redact()` on its way out.

One module per job: `_result` (what a check reports), one module per family of checks
(`_versions`, `_settings`, `_prefect_api`, `_discord`, `_storage`, `_tools`, `_git`),
`_render` (printing the report) and `_command` (running the checks, the exit status,
the typer command).
"""

from ff_prefect_kit.cli._doctor._command import doctor, exit_code, run_checks
from ff_prefect_kit.cli._doctor._render import render
from ff_prefect_kit.cli._doctor._result import CheckResult, Status

__all__ = ["CheckResult", "Status", "doctor", "exit_code", "render", "run_checks"]
