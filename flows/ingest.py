"""The ingest flow: thin Prefect orchestration over the pipeline stages.

discover files -> stage the site chrome earlier drops learnt -> process
batches in parallel (read, chrome, clean, repeats, fingerprint), each batch
writing its rows (and the chrome it learnt) to staging Parquet files under the
warehouse -> under the writer lock: plan the drop against the warehouse
(dedup + provenance) from the staging files' small columns and commit it in
one transaction, texts inserted straight from staging -> remove staging ->
publish a summary artifact.

Where batches run: in worker processes on this machine (`workers`, default
all cores; a one-batch drop runs in-process, as a process pool's start-up
would cost more than it saves), or on a Dask cluster (`dask_address`). Workers
only write staging files; planning and the commit happen once, here.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from pipeline import sources
from pipeline.dedup import DedupParams
from pipeline.drop import CleanParams, drop_row, plan_drop, stage_batch
from pipeline.warehouse import Warehouse, fault_point, writer_lock

DEFAULT_BATCH_SIZE = 500
STAGING = ".staging"  # under the warehouse: one folder per run, removed when the run ends


def default_workers() -> int:
    return int(os.environ.get("NEWSFOLD_WORKERS") or os.cpu_count() or 1)


def batch_runner(n_batches: int, workers: int, dask_address: str | None) -> TaskRunner | None:
    """The task runner for the batch tasks (see module docstring); None: the flow's own (threads)."""
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    if workers > 1 and n_batches > 1:
        return ProcessPoolTaskRunner(max_workers=min(workers, n_batches))
    return None


@contextlib.contextmanager
def shared_prefect_api() -> Iterator[None]:
    """Point worker processes at this process's Prefect API.

    Without a configured PREFECT_API_URL, Prefect runs a temporary local server
    for the flow; worker processes would not know it and each would start a
    server of its own (seconds of CPU each, and their task runs would be lost).
    """
    if PREFECT_API_URL.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the running temporary server (one per process)
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield


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


@task(name="load-known-chrome", cache_policy=NO_CACHE)
def known_chrome_task(warehouse: str, out_path: str, files: list[str]) -> str | None:
    """Stage the site chrome earlier drops learnt for the files' sources, for the batches to start from."""
    if not (Path(warehouse) / "catalog.sqlite").exists():
        return None
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    with Warehouse(warehouse, read_only=True) as wh:
        return out_path if wh.write_chrome_keys(out_path, sources.source_names(files)) else None


@task(name="process-batch", cache_policy=NO_CACHE)
def process_task(paths: list[str], params: DedupParams, clean_params: CleanParams, out_path: str,
                 known_chrome: str | None) -> dict:
    fault_point("in_batch")
    return stage_batch(paths, params, clean_params, out_path, known_chrome)


@task(name="plan-and-commit", cache_policy=NO_CACHE)
def commit_task(staging: list[str], warehouse: str, params: DedupParams, label: str | None,
                inputs: list[str], started_at: datetime, n_files: int) -> dict:
    timings = {}
    t0 = time.perf_counter()
    with Warehouse(warehouse) as wh:
        drop_id = wh.next_drop_id()
        plan = plan_drop(staging, wh, params, drop_id)
        t1 = time.perf_counter()
        timings["plan"] = t1 - t0
        plan.counts["n_seen_before"] += n_files - plan.counts["n_files"]
        plan.counts["n_files"] = n_files
        plan.tables["drops"] = drop_row(plan, label, inputs, started_at, datetime.now(timezone.utc), params,
                                        version())
        wh.commit_drop(drop_id, plan.tables, relation_updates=plan.relation_updates, staged=plan.staged)
        timings["commit"] = time.perf_counter() - t1
    return {"drop_id": drop_id, "label": label, **plan.counts, "stage_s": timings}


def _summary_markdown(summary: dict) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in summary.items())
    return f"# newsfold drop {summary['drop_id']}\n\n| metric | value |\n|---|---|\n{rows}\n"


@flow(name="newsfold-ingest", task_runner=ThreadPoolTaskRunner(max_workers=os.cpu_count() or 2),
      log_prints=False)
def ingest_flow(paths: list[str], warehouse: str = "warehouse", label: str | None = None,
                batch_size: int = DEFAULT_BATCH_SIZE, params: DedupParams = DedupParams(),
                clean_params: CleanParams = CleanParams(), wait_s: float = 0.0,
                only_new: bool = False, workers: int | None = None, dask_address: str | None = None) -> dict:
    """Ingest files/folders as one drop: every new file gets a `documents` row; the drop commits atomically.

    Files the warehouse already holds (same path, same bytes) are skipped and
    counted as seen before. With `only_new` (the inbox schedule), a run that
    finds nothing new records no drop. `workers` (default $NEWSFOLD_WORKERS or
    all cores) local processes run the batches, or the Dask cluster at
    `dask_address` (default $NEWSFOLD_DASK_ADDRESS) does.
    """
    logger = get_run_logger()
    started = datetime.now(timezone.utc)
    inputs = [os.path.abspath(p) for p in paths]
    workers = workers or default_workers()
    dask_address = dask_address or os.environ.get("NEWSFOLD_DASK_ADDRESS") or None
    stage_s: dict[str, float] = {}
    with writer_lock(warehouse, wait_s):
        t0 = time.perf_counter()
        all_files = discover_task(inputs)
        files = skip_known_task(all_files, warehouse, clean_params.max_bytes)
        stage_s["discover"] = time.perf_counter() - t0
        if only_new and not files:
            logger.info("nothing new in %s", ", ".join(inputs))
            return {"drop_id": None, "label": label, "n_files": len(all_files), "n_seen_before": len(all_files)}
        batches = [files[i:i + batch_size] for i in range(0, len(files), batch_size)] or [[]]
        logger.info("drop: %d files (%d seen before) in %d batches", len(all_files), len(all_files) - len(files),
                    len(batches))
        # We hold the writer lock, so staging left in the warehouse is from a run that died.
        staging_root = Path(warehouse) / STAGING
        shutil.rmtree(staging_root, ignore_errors=True)
        run_dir = (staging_root / uuid.uuid4().hex).resolve()
        try:
            t0 = time.perf_counter()
            known_chrome = known_chrome_task(warehouse, str(run_dir / "known-chrome.parquet"), files)
            progress = create_progress_artifact(0.0, description="newsfold ingest: batches processed")
            receipts = []
            runner = batch_runner(len(batches), workers, dask_address)
            with shared_prefect_api(), runner or contextlib.nullcontext():
                submit = (lambda **kw: runner.submit(process_task, parameters=kw)) if runner else process_task.submit
                futures = [submit(paths=b, params=params, clean_params=clean_params,
                                  out_path=str(run_dir / f"batch-{k:06d}.parquet"), known_chrome=known_chrome)
                           for k, b in enumerate(batches)]
                for k, fut in enumerate(futures, 1):
                    receipts.append(fut.result())
                    update_progress_artifact(progress, 100.0 * k / len(futures))
                    logger.info("processed batch %d/%d (%d files)", k, len(futures), len(batches[k - 1]))
            stage_s["process"] = time.perf_counter() - t0
            cpu: dict[str, float] = {}
            for r in receipts:
                for k, v in r["timings"].items():
                    cpu[k] = cpu.get(k, 0.0) + v
            fault_point("before_plan")
            summary = commit_task([r["path"] for r in receipts], warehouse, params, label, inputs, started,
                                  len(all_files))
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
            with contextlib.suppress(OSError):
                staging_root.rmdir()  # only if empty
    summary["stage_s"] = {k: round(v, 2) for k, v in {**stage_s, **summary["stage_s"]}.items()}
    summary["process_cpu_s"] = {k: round(v, 2) for k, v in cpu.items()}
    summary["elapsed_s"] = round((datetime.now(timezone.utc) - started).total_seconds(), 2)
    create_markdown_artifact(_summary_markdown(summary), key="newsfold-drop-summary",
                             description=f"newsfold drop {summary['drop_id']}")
    logger.info("drop %s committed: %s", summary["drop_id"], summary)
    return summary
