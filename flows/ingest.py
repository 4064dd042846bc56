"""The ingest flow: thin Prefect orchestration over the pipeline stages.

discover files -> process batches in parallel (read, clean, repeats,
fingerprint) -> under the writer lock: plan the drop against the warehouse
(dedup + provenance) and commit it in one transaction -> publish a summary
artifact.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pyarrow as pa
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from pipeline import sources
from pipeline.dedup import DedupParams
from pipeline.drop import CleanParams, drop_row, plan_drop, process_batch
from pipeline.warehouse import Warehouse, fault_point, writer_lock

DEFAULT_BATCH_SIZE = 500


def version() -> str:
    try:
        return metadata.version("newsfold")
    except metadata.PackageNotFoundError:
        return "dev"


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(paths: list[str]) -> list[str]:
    return [str(p) for p in sources.discover(paths)]


@task(name="skip-known-files", cache_policy=NO_CACHE)
def skip_known_task(files: list[str], warehouse: str, max_bytes: int) -> list[str]:
    """Drop files whose path+bytes the warehouse already holds, before any real work."""
    if not (Path(warehouse) / "catalog.sqlite").exists():
        return files
    ids = {f: sources.identify(Path(f), max_bytes) for f in files}
    with Warehouse(warehouse, read_only=True) as wh:
        known = wh.known_doc_ids([i for i in ids.values() if i])
    return [f for f in files if ids[f] not in known]


@task(name="process-batch", cache_policy=NO_CACHE)
def process_task(paths: list[str], params: DedupParams, clean_params: CleanParams) -> pa.Table:
    return process_batch(paths, params, clean_params)


@task(name="plan-and-commit", cache_policy=NO_CACHE)
def commit_task(processed: pa.Table, warehouse: str, params: DedupParams, label: str | None,
                inputs: list[str], started_at: datetime, n_files: int) -> dict:
    with Warehouse(warehouse) as wh:
        drop_id = wh.next_drop_id()
        plan = plan_drop(processed, wh, params, drop_id)
        plan.counts["n_seen_before"] += n_files - processed.num_rows
        plan.counts["n_files"] = n_files
        plan.tables["drops"] = drop_row(plan, label, inputs, started_at, datetime.now(timezone.utc), params,
                                        version())
        wh.commit_drop(drop_id, plan.tables, plan.article_updates, plan.relation_updates)
    return {"drop_id": drop_id, "label": label, **plan.counts}


def _summary_markdown(summary: dict) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in summary.items())
    return f"# newsfold drop {summary['drop_id']}\n\n| metric | value |\n|---|---|\n{rows}\n"


@flow(name="newsfold-ingest", task_runner=ThreadPoolTaskRunner(max_workers=os.cpu_count() or 2),
      log_prints=False)
def ingest_flow(paths: list[str], warehouse: str = "warehouse", label: str | None = None,
                batch_size: int = DEFAULT_BATCH_SIZE, params: DedupParams = DedupParams(),
                clean_params: CleanParams = CleanParams(), wait_s: float = 0.0,
                only_new: bool = False) -> dict:
    """Ingest files/folders as one drop: every new file gets a `documents` row; the drop commits atomically.

    Files the warehouse already holds (same path, same bytes) are skipped and
    counted as seen before. With `only_new` (the inbox schedule), a run that
    finds nothing new records no drop.
    """
    logger = get_run_logger()
    started = datetime.now(timezone.utc)
    inputs = [os.path.abspath(p) for p in paths]
    with writer_lock(warehouse, wait_s):
        all_files = discover_task(inputs)
        files = skip_known_task(all_files, warehouse, clean_params.max_bytes)
        if only_new and not files:
            logger.info("nothing new in %s", ", ".join(inputs))
            return {"drop_id": None, "label": label, "n_files": len(all_files), "n_seen_before": len(all_files)}
        batches = [files[i:i + batch_size] for i in range(0, len(files), batch_size)] or [[]]
        logger.info("drop: %d files (%d seen before) in %d batches", len(all_files), len(all_files) - len(files),
                    len(batches))
        progress = create_progress_artifact(0.0, description="newsfold ingest: batches processed")
        futures = [process_task.submit(b, params, clean_params) for b in batches]
        tables = []
        for k, fut in enumerate(futures, 1):
            tables.append(fut.result())
            update_progress_artifact(progress, 100.0 * k / len(futures))
            logger.info("processed batch %d/%d (%d files)", k, len(futures), len(batches[k - 1]))
        processed = pa.concat_tables(tables)
        fault_point("before_plan")
        summary = commit_task(processed, warehouse, params, label, inputs, started, len(all_files))
    summary["elapsed_s"] = round((datetime.now(timezone.utc) - started).total_seconds(), 2)
    create_markdown_artifact(_summary_markdown(summary), key="newsfold-drop-summary",
                             description=f"newsfold drop {summary['drop_id']}")
    logger.info("drop %s committed: %s", summary["drop_id"], summary)
    return summary
