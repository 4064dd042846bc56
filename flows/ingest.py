"""The ingest flow: thin Prefect orchestration over the pipeline stages.

discover files -> stage the site chrome earlier drops learnt (and the ids of
records of JSONL/CSV/WARC files the warehouse holds) -> cut big container
files into parts (byte ranges) and group files and parts into batches -> process
batches in parallel (read, chrome, clean, repeats, fingerprint), each batch
writing its rows (and the chrome it learnt) to staging Parquet files under the
warehouse -> under the writer lock: plan the drop against the warehouse
(dedup + provenance) from the staging files' small columns and commit it in
one transaction, texts inserted straight from staging -> remove staging ->
publish a summary artifact.

Where batches run: in worker processes on this machine (`workers`, default
all cores; a one-batch drop runs in-process, as a process pool's start-up
would cost more than it saves), or on a Dask cluster (`dask_address`). Each
batch is a Prefect task run either way; on this machine the task runs on a flow
thread and its batch in a plain process pool (`WorkerPool`: workers that do not
import Prefect). Workers only write staging files; planning and the commit
happen once, here.
"""
# No `from __future__ import annotations`: a deployment's flow runs (`newsfold serve` with a
# Prefect server) load this file by path and validate parameters against the annotations,
# which as strings ("IngestConfig") would not resolve there.
import contextlib
import logging
import multiprocessing
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Self

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.utilities.annotations import opaque

from pipeline import readers, sources
from pipeline.config import IngestConfig, check_index_parameters_of
from pipeline.drop import stage_batch, stage_batch_in_worker, stage_one_by_one, start_worker
from pipeline.plan import DropInfo, plan_drop
from pipeline.stage import PipelineStats
from pipeline.warehouse import Warehouse, fault_point, writer_lock

# Listeners for the flow's progress (the `newsfold ingest` terminal display). The flow
# reports each step once, through `_report_progress`, to its Prefect progress artifact
# (the UI) and to these.
PROGRESS_LISTENERS: list[Callable[[dict], None]] = []
THIRD_PARTY_WARNINGS = logging.getLogger("newsfold.warnings")
STAGING = ".staging"  # under the warehouse: one folder per run, removed when the run ends


def default_workers() -> int:
    return int(os.environ.get("NEWSFOLD_WORKERS") or os.cpu_count() or 1)


def local_workers(n_batches: int, workers: int, dask_address: str | None) -> int:
    """How many worker processes of this machine stage a drop's batches; 0: none (a Dask
    cluster does, or one process is enough)."""
    if dask_address or workers <= 1 or n_batches <= 1:
        return 0
    return min(workers, n_batches)


def batch_runner(n_batches: int, workers: int, dask_address: str | None) -> TaskRunner | None:
    """The task runner for the batch tasks (see module docstring); None: the flow's own (threads).
    With worker processes, the batch tasks run on threads of their own, one per worker, each
    handing its batch to a `WorkerPool` process (`worker_pool`)."""
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    if n := local_workers(n_batches, workers, dask_address):
        return ThreadPoolTaskRunner(max_workers=n)
    return None


class WorkerPool:
    """Worker processes that stage batches, each batch still a Prefect task run of the flow.

    Why not Prefect's ProcessPoolTaskRunner: it runs each task's Prefect engine in the worker,
    so every worker imports Prefect (~1.5 CPU s) and every batch pays for a new API client
    (two TLS contexts), its settings context sent and rebuilt, and its state events and logs
    forwarded back through a queue: ~0.16 CPU s a batch over the processes (40 empty tasks
    on 2 workers, measured). Here the task runs on a flow thread (one per worker) and only
    the batch goes to a plain spawn process pool whose workers import the pipeline alone.
    A worker that dies breaks the pool: the batches it took down fail (the flow retries their
    files one by one) and later batches get a new pool."""

    def __init__(self, workers: int):
        self.workers = workers
        self._lock = threading.Lock()
        self._closed = False
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=start_worker)

    def stage(self, *args) -> dict:
        """stage_batch_in_worker(*args) in a worker process; its receipt."""
        with self._lock:
            executor = self._executor
        try:
            return executor.submit(stage_batch_in_worker, *args).result()
        except BrokenProcessPool:
            with self._lock:
                if self._executor is executor and not self._closed:  # the first batch to see it replaces the pool
                    executor.shutdown(wait=False, cancel_futures=True)
                    self._executor = self._start()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, *_) -> None:
        with self._lock:
            self._closed = True
        if exc_type is not None:  # stopped or failed: the batches still running are not waited for
            for process in list((self._executor._processes or {}).values()):
                process.terminate()
        self._executor.shutdown(wait=True, cancel_futures=True)


def worker_pool(n_batches: int, workers: int, dask_address: str | None) -> WorkerPool | None:
    """The worker processes for a drop's batches; None: the batches run where their tasks do."""
    n = local_workers(n_batches, workers, dask_address)
    return WorkerPool(n) if n else None


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


# What the first flow call imports lazily (Prefect's run engines; fastapi's encoder, which
# serialises the flow's parameters: ~0.3 CPU s; the sockets of its events client; the Arrow
# datasets DuckDB uses for registered tables). Imported ahead by `import_run_machinery`.
RUN_MACHINERY = ("prefect.flow_engine", "prefect.task_engine", "fastapi.encoders", "anyio._core._sockets",
                 "pyarrow.dataset")


def import_run_machinery() -> None:
    """Import what the first flow run would import on its way, while the command waits for a
    temporary Prefect server anyway (it idles ~1-2 s there): that time then comes off the run."""
    import importlib

    for name in RUN_MACHINERY:
        with contextlib.suppress(ImportError):  # a later version may have moved it: then the flow imports it
            importlib.import_module(name)


def version() -> str:
    try:
        return metadata.version("newsfold")
    except metadata.PackageNotFoundError:
        return "dev"


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(paths: list[str], follow_symlinks: bool = False, warehouse: str | None = None) -> list[str]:
    return [str(p) for p in sources.discover(paths, follow_symlinks, skip=[warehouse] if warehouse else [])]


@task(name="read-warehouse", cache_policy=NO_CACHE)
def read_warehouse_task(files: list[str], warehouse: str, config: IngestConfig, run_dir: str) -> dict:
    """All the drop needs from the warehouse, in one read-only session (each session attaches
    the DuckLake catalog: ~0.3 CPU s, a large share of a small drop): the index parameters (an
    ingest with other ones is refused), the files it already holds (path and bytes: skipped
    before any real work), and, staged in run_dir for the batches, the site chrome earlier
    drops learnt for the drop's sources and the ids of the records of its container files.

    Container files (JSONL, CSV, WARC, zip) and gzipped files are always kept: their records
    are skipped one by one (a grown export adds its new records).
    """
    view = {"files": files, "known_chrome": None, "known_records": None}
    if not (Path(warehouse) / "catalog.sqlite").exists():
        return view
    ids = {f: sources.identify(Path(f), config.reading.max_bytes) for f in files if not readers.known_by_record(f)}
    with Warehouse(warehouse, read_only=True) as wh:
        check_index_parameters_of(wh, warehouse, config)
        known = wh.known_doc_ids([i for i in ids.values() if i])
        files = view["files"] = [f for f in files if readers.known_by_record(f) or ids[f] not in known]
        if not files:
            return view
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        # records name their own sites (source_domain, the URL): all chrome when a container (or a .gz) is in the drop
        containers = [f for f in files if readers.known_by_record(f)]
        names = None if containers else sources.source_names(files)
        chrome_path = str(Path(run_dir) / "known-chrome.parquet")
        view["known_chrome"] = chrome_path if wh.write_chrome_keys(chrome_path, names) else None
        records_path = str(Path(run_dir) / "known-records.parquet")
        if containers and wh.write_known_records(records_path, [sources.display_path(f) for f in containers]):
            view["known_records"] = records_path
    return view


def make_batches(files: list[str], batch_size: int, part_bytes: int = readers.DEFAULT_PART_BYTES
                 ) -> list[list[readers.Part]]:
    """Files and parts of big files, grouped into batches of at most `batch_size` files and
    about `part_bytes` bytes: a big JSONL or WARC file is cut into parts that different
    workers read (readers.split_parts), so one 2 GB export does not go to one task."""
    batches: list[list[readers.Part]] = []
    current: list[readers.Part] = []
    current_bytes = 0
    for f in files:
        for part in readers.split_parts(f, part_bytes):
            size = part_size(part)
            if current and (len(current) >= batch_size or current_bytes + size > part_bytes):
                batches.append(current)
                current, current_bytes = [], 0
            current.append(part)
            current_bytes += size
    if current:
        batches.append(current)
    return batches or [[]]


def part_size(part: readers.Part) -> int:
    if part.end is not None:
        return part.end - part.start
    try:
        return os.path.getsize(part.path) - part.start
    except OSError:
        return 0


@task(name="process-batch", cache_policy=NO_CACHE)
def process_task(paths: list[readers.Part], config: IngestConfig, out_path: str, known_chrome: str | None,
                 known_records: str | None = None, pool: WorkerPool | None = None) -> dict:
    if pool is not None:
        return pool.stage(paths, config, out_path, known_chrome, known_records)
    if multiprocessing.parent_process() is None:
        # in the flow's process (threads): warnings reach the caller's logging (the CLI
        # routes them to its log file); catch_warnings is not thread-safe
        fault_point("in_batch")
        return stage_batch(paths, config, out_path, known_chrome, known_records)
    return stage_batch_in_worker(paths, config, out_path, known_chrome, known_records)  # on a Dask worker


def _report_progress(artifact_id, **event) -> None:
    if artifact_id is not None and event.get("batches_total"):
        update_progress_artifact(artifact_id, 100.0 * event["batches_done"] / event["batches_total"])
    for listener in PROGRESS_LISTENERS:
        listener(event)


@task(name="plan-and-commit", cache_policy=NO_CACHE)
def commit_task(staging: list[str], warehouse: str, config: IngestConfig, label: str | None,
                inputs: list[str], started_at: datetime, n_files: int) -> dict:
    timings = {}
    t0 = time.perf_counter()
    # drops.parameters holds the whole config (IngestConfig.to_dict)
    info = DropInfo(label=label, inputs=tuple(inputs), started_at=started_at, n_found=n_files, version=version(),
                    parameters=config.to_dict())
    with Warehouse(warehouse) as wh:
        drop_id = wh.next_drop_id()
        plan = plan_drop(staging, wh, config.dedup, drop_id, info=info)
        t1 = time.perf_counter()
        timings["plan"] = t1 - t0
        wh.commit_drop(drop_id, plan.tables, relation_updates=plan.relation_updates, staged=plan.staged)
        timings["commit"] = time.perf_counter() - t1
        elapsed = wh.sql("SELECT elapsed_s FROM drops WHERE drop_id = ?", [drop_id]).fetchone()[0]
    return {"drop_id": drop_id, "label": label, **plan.counts, "stage_s": timings, "elapsed_s": elapsed}


def _process_batches(batches: list[list[readers.Part]], run_dir: Path, done: dict, *,
                     runner: TaskRunner | None, pool: WorkerPool | None, **task_args) -> list[dict]:
    """Run process_task on each batch (on `runner`, or the flow's threads; staged in `pool`'s
    processes if given); a batch that fails as a whole (its worker died, ...) is retried one
    document at a time. Returns the receipts, in batch order; `done` counts the batches and
    files processed, for the progress reports."""
    logger = get_run_logger()
    progress = create_progress_artifact(0.0, description="newsfold ingest: batches processed")
    _report_progress(None, stage="process", **done)
    receipts = []
    with contextlib.ExitStack() as stack:
        stack.enter_context(shared_prefect_api())
        stack.enter_context(runner or contextlib.nullcontext())
        if pool is not None:  # stopped before the runner, whose threads wait for its workers
            stack.enter_context(pool)
            task_args = {**task_args, "pool": pool}
        submit = (lambda **kw: runner.submit(process_task, parameters=kw)) if runner else process_task.submit
        # opaque: Prefect would walk the batch's parts (dataclasses) twice per task looking for
        # futures to resolve and inputs to record (~14 ms a batch of 500 parts in this process).
        # Not on Dask: the wrapper reaches the task there as a plain tuple.
        wrap = opaque if pool is not None else (lambda parts: parts)
        futures = [submit(paths=wrap(b), out_path=str(run_dir / f"batch-{k:06d}.parquet"), **task_args)
                   for k, b in enumerate(batches)]
        for k, fut in enumerate(futures, 1):
            try:
                batch_receipts = [fut.result()]
            except Exception as exc:  # e.g. its worker died: retry its files one by one
                logger.warning("batch %d/%d failed (%s: %s); retrying its %d files one by one", k,
                               len(futures), type(exc).__name__, exc, len(batches[k - 1]))
                batch_receipts = stage_one_by_one(batches[k - 1], task_args["config"],
                                                  run_dir / f"batch-{k - 1:06d}-retry", task_args["known_chrome"])
            receipts.extend(batch_receipts)
            for receipt in batch_receipts:  # this batch's only: the earlier ones are logged
                for w in receipt.pop("warnings", []):
                    THIRD_PARTY_WARNINGS.info("batch %d: %s", k, w)
            done.update(files_done=done["files_done"] + len(batches[k - 1]), batches_done=k)
            _report_progress(progress, stage="process", **done)
            logger.info("processed batch %d/%d (%d parts)", k, len(futures), len(batches[k - 1]))
    return receipts


def _publish_summary(summary: dict, stage_s: dict[str, float], batch_stats: PipelineStats) -> dict:
    """The commit's summary with the flow's stage seconds and the batches' summed stats, published
    as an artifact and logged. elapsed_s: flow start to commit, as stored in drops.elapsed_s."""
    summary["stage_s"] = {k: round(v, 2) for k, v in {**stage_s, **summary["stage_s"]}.items()}
    summary["process_cpu_s"] = {k: round(v, 2) for k, v in batch_stats.seconds().items()}
    summary["process_stats"] = batch_stats.to_dict()  # documents in/out, rejections, spans removed per stage
    create_markdown_artifact(_summary_markdown(summary), key="newsfold-drop-summary",
                             description=f"newsfold drop {summary['drop_id']}")
    get_run_logger().info("drop %s committed: %s", summary["drop_id"], summary)
    return summary


def _summary_markdown(summary: dict) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in summary.items())
    return f"# newsfold drop {summary['drop_id']}\n\n| metric | value |\n|---|---|\n{rows}\n"


@flow(name="newsfold-ingest", task_runner=ThreadPoolTaskRunner(max_workers=os.cpu_count() or 2),
      log_prints=False)
def ingest_flow(paths: list[str], warehouse: str = "warehouse", label: str | None = None,
                config: IngestConfig = IngestConfig(), only_new: bool = False) -> dict:
    """Ingest files/folders as one drop: every new file gets a `documents` row; the drop commits atomically.

    Files the warehouse already holds (same path, same bytes) are skipped and
    counted as seen before. With `only_new` (the inbox schedule), a run that
    finds nothing new records no drop. `config.execution.workers` (default
    $NEWSFOLD_WORKERS or all cores) local processes run the batches, or the
    Dask cluster at `config.execution.dask_address` (default
    $NEWSFOLD_DASK_ADDRESS) does. An ingest whose index parameters differ from
    the warehouse's is refused (see pipeline.config.check_index_parameters).
    """
    logger = get_run_logger()
    started = datetime.now(timezone.utc)
    inputs = [os.path.abspath(p) for p in paths]
    batch_size, wait_s = config.execution.batch_size, config.execution.wait_s
    workers = config.execution.workers or default_workers()
    dask_address = config.execution.dask_address or os.environ.get("NEWSFOLD_DASK_ADDRESS") or None
    stage_s: dict[str, float] = {}
    with writer_lock(warehouse, wait_s):
        # We hold the writer lock, so staging left in the warehouse is from a run that died.
        staging_root = Path(warehouse) / STAGING
        shutil.rmtree(staging_root, ignore_errors=True)
        run_dir = (staging_root / uuid.uuid4().hex).resolve()
        try:
            t0 = time.perf_counter()
            all_files = discover_task(inputs, config.reading.follow_symlinks, warehouse)
            view = read_warehouse_task(all_files, warehouse, config, str(run_dir))
            files, known_chrome, known_records = view["files"], view["known_chrome"], view["known_records"]
            stage_s["discover"] = time.perf_counter() - t0
            if only_new and not files:
                logger.info("nothing new in %s", ", ".join(inputs))
                return {"drop_id": None, "label": label, "n_files": len(all_files), "n_seen_before": len(all_files)}
            batches = make_batches(files, batch_size)
            logger.info("drop: %d files (%d seen before) in %d batches", len(all_files), len(all_files) - len(files),
                        len(batches))
            t0 = time.perf_counter()
            done = {"files_total": len(files), "files_done": 0, "batches_total": len(batches), "batches_done": 0}
            receipts = _process_batches(batches, run_dir, done, config=config,
                                        known_chrome=known_chrome, known_records=known_records,
                                        runner=batch_runner(len(batches), workers, dask_address),
                                        pool=worker_pool(len(batches), workers, dask_address))
            stage_s["process"] = time.perf_counter() - t0
            batch_stats = sum((PipelineStats.from_dict(r["stats"]) for r in receipts), PipelineStats())
            fault_point("before_plan")
            _report_progress(None, stage="commit", **done)
            # documents found: files skipped whole + records skipped by the workers + rows staged
            n_found = (len(all_files) - len(files) + sum(r["skipped"] for r in receipts)
                       + sum(r["rows"] for r in receipts))
            if only_new and not any(r["rows"] for r in receipts):
                logger.info("nothing new in %s", ", ".join(inputs))
                return {"drop_id": None, "label": label, "n_files": n_found, "n_seen_before": n_found}
            summary = commit_task([p for r in receipts for p in r["paths"]], warehouse, config, label, inputs,
                                  started, n_found)
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
            with contextlib.suppress(OSError):
                staging_root.rmdir()  # only if empty
    return _publish_summary(summary, stage_s, batch_stats)
