"""Each model, seed or snapshot dbt built as a Prefect asset, with its parents upstream.

A node's key is `duckdb://<database>/<table>`; its upstream assets are its parents in
the manifest: models and seeds (the same key), and sources, a source read from a file
through dbt-duckdb's `external_location` as `file://<path>` (the key `write_parquet`
gives the file it wrote).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

from ff_prefect_kit._assets import file_asset_key, table_asset_key, valid_asset_keys
from ff_prefect_kit.dbt._node_runs import Manifest, NodeRun, table_name

__all__ = ["ASSET_TYPES", "emit_asset", "upstream_keys"]

ASSET_TYPES = frozenset({"model", "seed", "snapshot"})
_QUOTED = re.compile(r"'([^']+)'")


def _source_key(node: Mapping[str, Any], database: Path, project: Path) -> str | None:
    """A source's asset key: its file if dbt-duckdb reads it from one, else its table."""
    location = str(
        node.get("relation_name") or (node.get("meta") or {}).get("external_location") or ""
    )
    # dbt-duckdb's relation for a file: `read_parquet('<path>')` or `'<path>'`; a
    # table's is `"db"."schema"."name"`.
    quoted = None if location.startswith('"') else _QUOTED.search(location)
    path = quoted.group(1) if quoted else ""
    if path and "{" not in path and "*" not in path:
        if "://" in path:
            return path
        if "." in Path(path).name:
            return file_asset_key(project / path)
    table = table_name(node)
    return table_asset_key(database, table) if table else None


def upstream_keys(
    run: NodeRun, database: Path, project: Path, manifest: Manifest, tables: Mapping[str, str]
) -> list[str]:
    """The asset keys of a node's parents: tables for models and seeds, sources' files."""
    keys = []
    for parent in run.depends_on:
        kind = parent.split(".", 1)[0]
        if kind == "source":
            node = manifest.node(parent)
            found = _source_key(node, database, project) if node else None
        elif kind in ASSET_TYPES:
            table = (
                tables.get(parent) or table_name(manifest.node(parent)) or parent.rsplit(".")[-1]
            )
            found = table_asset_key(database, table)
        else:
            found = None
        if found is not None:
            keys.append(found)
    return keys


def emit_asset(run: NodeRun, key: str, upstream: list[str], task_run_id: UUID) -> bool:
    """Emit the materialization of a model dbt ran; whether it was built."""
    from prefect.events import emit_event

    if run.skipped or not valid_asset_keys([key]):
        return False
    related_assets = [a.key for a in valid_asset_keys(upstream)]
    for asset in related_assets:
        emit_event(
            event="prefect.asset.referenced", resource={"prefect.resource.id": asset}, related=[]
        )
    related: list[dict[str, str]] = [
        {"prefect.resource.id": asset, "prefect.resource.role": "asset"} for asset in related_assets
    ]
    related.append({"prefect.resource.id": "dbt", "prefect.resource.role": "asset-materialized-by"})
    related.append(
        {
            "prefect.resource.id": f"prefect.task-run.{task_run_id}",
            "prefect.resource.role": "task-run",
        }
    )
    outcome = "failed" if run.failed else "succeeded"
    payload = {} if run.rows_affected is None else {"rows_affected": run.rows_affected}
    emit_event(
        event=f"prefect.asset.materialization.{outcome}",
        resource={"prefect.resource.id": key},
        occurred=run.completed,
        related=related,
        payload=payload or None,
    )
    return not run.failed
