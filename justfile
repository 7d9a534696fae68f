# Every recipe here is something CI runs too (.ci/run).

# List the recipes.
default:
    @just --list

# The main job: the example analytics flow end to end on the embedded defaults.
demo *ARGS:
    uv run ff-prefect-kit demo {{ARGS}}

# The test suite, one worker per core (`just test -m "not slow"`: the fast set).
test *ARGS:
    uv run pytest -n auto {{ARGS}}

# Lint, format check and strict typing.
lint:
    uv run ruff check .
    uv run ruff format --check .
    uv run mypy --strict src tests/typing

# Everything CI runs, from a clean install.
ci:
    bash .ci/run

# Build (run + test) the example dbt project: `just dbt-run --select mrt_player_valuation`.
[positional-arguments]
dbt-run *ARGS:
    cd examples/dbt_project && uv run dbt build --profiles-dir . "$@"

# Test the example dbt project: `just dbt-test --select mrt_fantasy_actuals_weekly`.
[positional-arguments]
dbt-test *ARGS:
    cd examples/dbt_project && uv run dbt test --profiles-dir . "$@"
