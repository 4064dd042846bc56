"""Compose the stages for one batch: read, process and stage its documents.

`process_batch` runs read -> clean -> repeats -> fingerprint on a batch of
paths and returns one Arrow table (one row per document: a file, or a record
of a JSONL/CSV/WARC file). It is pure and independent of other batches, so
the flow can run batches in parallel; `stage_batch` streams a batch's parts
(whole files, or byte ranges of a big container) and writes its rows to
staging Parquet files, one per `chunk_docs` documents, so no process ever
holds the texts of a whole drop, nor of a whole 2 GB export. The staging
schema and the plan of a drop's commit are pipeline/plan.py's.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import collector_paused, readers, sources
from .config import IngestConfig
from .model import Doc
from .plan import (INTERNAL_ERROR, PROCESSED, accepted_values, chrome_path, chrome_table, staging_row, staging_table,
                   staging_table_of)
from .stage import (ChromeStage, CleanStage, FingerprintStage, PipelineStats, RepeatsStage, Stage, StageStats,
                    reject_internal, run_stages)
from .warehouse import fault_point


def failed_doc(path: Path, stage: str, exc: BaseException, max_bytes: int) -> Doc:
    """The record of a path whose processing raised: its identity, reason internal_error."""
    spath = sources.display_path(path)
    try:
        digest = sources.content_digest(path, max_bytes)
    except Exception:
        digest = hashlib.sha256(spath.encode()).hexdigest()
    doc = Doc(sources.doc_id_for(spath, digest), spath, sources.display_path(path.parent.name), digest, 0)
    reject_internal(doc, stage, exc)
    return doc


def _read_one(path: Path, max_bytes: int) -> Doc:
    fault_point(f"read:{path.name}")  # test hook: a document that kills its worker
    try:
        # a plain file skips readers.read_part, and so its URL step (an HTML page's canonical URL)
        return readers.settle_urls(sources.read_document(path, max_bytes))
    except Exception as exc:  # read_document rejects what is wrong on disk; this is a bug in it
        return failed_doc(path, "read", exc, max_bytes)


def as_part(item: str | Path | readers.Part) -> readers.Part:
    return item if isinstance(item, readers.Part) else readers.Part(str(item))


def read_batch(parts: Sequence[str | Path | readers.Part], config: IngestConfig = IngestConfig(),
               skip_ids: set[str] | None = None, skipped: list[int] | None = None) -> Iterator[Doc]:
    """The documents of a batch's parts, streamed; records whose doc_id is in `skip_ids` (the
    warehouse has them) are left out and counted in skipped[0]."""
    max_bytes, fields = config.reading.max_bytes, config.reading.field_map()
    for part in map(as_part, parts):
        if not readers.is_container(part.path) and not readers.is_gzipped(part.path):
            yield _read_one(Path(part.path), max_bytes)
            continue
        fault_point(f"read:{Path(part.path).name}")  # test hook: a document that kills its worker
        try:
            for doc in readers.read_part(part, fields, max_bytes, skip_ids or ()):
                if doc is None:
                    if skipped is not None:
                        skipped[0] += 1
                    continue
                yield doc
        except Exception as exc:  # a bug in a reader: the records read so far stand, the rest is one rejection
            doc = readers.part_failure(part, INTERNAL_ERROR)
            reject_internal(doc, "read", exc)
            yield doc


def process_batch(paths: list[str | Path | readers.Part], config: IngestConfig = IngestConfig(),
                  timings: dict[str, float] | None = None, known_chrome: str | Path | None = None,
                  learnt_chrome: dict | None = None) -> pa.Table:
    """The batch's rows (paths: files, or parts of files; see readers.Part).

    timings: if given, gets the seconds spent per stage added to it.
    known_chrome: a Parquet file (CHROME_KEYS) of chrome the warehouse learnt earlier.
    learnt_chrome: if given, gets the chrome keys learnt from this batch, per source.
    """
    stats = PipelineStats()
    clock = time.perf_counter()
    docs = list(read_batch(paths, config))
    stats.add("read", read_stats(docs, time.perf_counter() - clock))
    table = process_docs(docs, config, stats, known_chrome, learnt_chrome)
    if timings is not None:
        for name, seconds in stats.seconds().items():
            timings[name] = timings.get(name, 0.0) + seconds
    return table


def stages(config: IngestConfig, chrome_stage: ChromeStage) -> list[Stage]:
    """The stages a batch runs through, in order."""
    folded: dict[str, str] = {}  # the repeats stage folds the non-ASCII paragraphs, the fingerprint reuses them
    return [chrome_stage, CleanStage(config.cleaning.min_words), RepeatsStage(config.repeats.min_words, folded),
            FingerprintStage(config.dedup, folded)]


def process_docs(docs: list[Doc], config: IngestConfig = IngestConfig(), stats: PipelineStats | None = None,
                 known_chrome: str | Path | None = None, learnt_chrome: dict | None = None) -> pa.Table:
    """The rows of documents already read (see process_batch); `stats`, if given, gets each
    stage's stats added."""
    stats = PipelineStats() if stats is None else stats
    chrome_stage = ChromeStage.from_file(known_chrome, docs, config.chrome)
    docs = run_stages(docs, stages(config, chrome_stage), stats)
    if learnt_chrome is not None:
        learnt_chrome.update(chrome_stage.learnt)
    with stats.timed("rows"):
        values = []
        for d in docs:
            try:
                values.append(accepted_values(d))
            except Exception as exc:
                reject_internal(d, "rows", exc)
                values.append(accepted_values(d))
        table = staging_table_of(docs, values)
        del docs
    return table


def read_stats(docs: list[Doc], seconds: float) -> StageStats:
    """Reading as a stage: the documents read, those rejected on reading, by reason."""
    rejected = Counter(d.reject_reason for d in docs if not d.accepted)
    return StageStats(len(docs), len(docs) - sum(rejected.values()), dict(rejected), {}, seconds)


def _write_atomically(table: pa.Table, path: Path) -> None:
    # written under a temporary name and renamed, so a staging file that exists is complete
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def known_record_ids(known_records: str | Path | None, parts: Sequence[str | Path | readers.Part]) -> set[str]:
    """The doc_ids the warehouse holds for the records of these parts' container files
    (from the Parquet file the flow staged, see Warehouse.write_known_records)."""
    paths = sorted({sources.display_path(p.path) for p in map(as_part, parts) if readers.known_by_record(p.path)})
    if known_records is None or not paths:
        return set()
    return set(pq.read_table(known_records, columns=["doc_id"],
                             filters=[("source_path", "in", paths)]).column("doc_id").to_pylist())


def _chunks(docs: Iterator[Doc], size: int) -> Iterator[list[Doc]]:
    chunk: list[Doc] = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def stage_batch(paths: list[str | Path | readers.Part], config: IngestConfig, out_path: str | Path,
                known_chrome: str | Path | None = None, known_records: str | Path | None = None) -> dict:
    """Process a batch (files, or parts of big files) and write its rows to staging Parquet
    files, `out_path` and, past `chunk_docs` (config.execution.batch_size) documents,
    `out_path`'s siblings `<stem>.<k>.parquet`, each with the chrome it learnt at
    `chrome_path(file)`; return a small receipt.

    Memory is bounded by `chunk_docs` documents whatever the size of the files: the parts
    are read as a stream and each chunk goes through the stages and to disk on its own.
    Records the warehouse already holds (`known_records`, see known_record_ids) are skipped
    before any work and counted in the receipt's `skipped`.
    """
    stats = PipelineStats()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    skipped = [0]
    chunk_docs = config.execution.batch_size
    docs = read_batch(paths, config, known_record_ids(known_records, paths), skipped)
    written, rows = [], 0
    clock = time.perf_counter()
    for k, chunk in enumerate(_chunks(docs, chunk_docs)):
        stats.add("read", read_stats(chunk, time.perf_counter() - clock))
        learnt: dict[str, np.ndarray] = {}
        table = process_docs(chunk, config, stats, known_chrome, learnt)
        del chunk
        with stats.timed("write_staging"):
            path = out_path if k == 0 else out_path.with_suffix(f".{k}.parquet")
            _write_atomically(chrome_table(learnt), chrome_path(path))
            _write_atomically(table, path)
            written.append(str(path))
            rows += table.num_rows
            del table
        clock = time.perf_counter()
    if not written:  # nothing new in the batch: an empty file keeps receipts uniform
        _write_atomically(PROCESSED.empty_table(), out_path)
        written.append(str(out_path))
    return {"path": written[0], "paths": written, "rows": rows, "skipped": skipped[0],
            "stats": stats.to_dict()}


def stage_batch_in_worker(paths: list[str | Path | readers.Part], config: IngestConfig, out_path: str | Path,
                          known_chrome: str | Path | None = None, known_records: str | Path | None = None) -> dict:
    """stage_batch in a worker process (the flow's process pool, a Dask worker). Libraries'
    warnings (dateutil's UnknownTimezoneWarning on "EST", ...) and log records of WARNING and
    above (trafilatura's) go back with the receipt, under "warnings", and the flow logs them:
    a worker never writes on the user's terminal."""
    fault_point("in_batch")
    caught_logs = _RecordCollector()
    root = logging.getLogger()
    root.addHandler(caught_logs)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            receipt = stage_batch(paths, config, out_path, known_chrome, known_records)
    finally:
        root.removeHandler(caught_logs)
    receipt["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught} | caught_logs.lines)
    return receipt


class _RecordCollector(logging.Handler):
    """Keeps the distinct messages of WARNING and above logged while a worker stages a batch."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.add(f"{record.name}: {record.getMessage()}")


def start_worker() -> None:
    """Initializer of the flow's worker processes: import the stages (with the garbage collector
    paused: the imports build many long-lived objects it would keep walking) before the first
    batch arrives, while the flow is still submitting."""
    with collector_paused():
        from . import chrome, clean, dedup, layout, repeats, signatures, text  # noqa: F401


def stage_one_by_one(paths: list[str | Path], config: IngestConfig, out_stem: str | Path,
                     known_chrome: str | Path | None = None) -> list[dict]:
    """Retry a batch that failed as a whole (its worker died, ...) one document at a time.

    Each document runs in a worker process of its own pool, so one that kills its process
    costs only itself: it is recorded as `internal_error` (so is one that fails alone for
    any other reason) and the pool is replaced for the rest. Returns one receipt per
    document, like stage_batch's; staging files are named `<out_stem>-<n>.parquet`.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    receipts = []
    pool = None
    try:
        for n, path in enumerate(paths):
            out_path = Path(f"{out_stem}-{n:06d}.parquet")
            if pool is None:
                pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            try:
                receipts.append(pool.submit(stage_batch, [path], config, out_path, known_chrome).result())
                continue
            except BrokenProcessPool as exc:
                pool.shutdown(wait=False, cancel_futures=True)
                pool = None
                error: BaseException = RuntimeError(f"the worker process died ({exc})")
            except Exception as exc:
                error = exc
            part = as_part(path)
            if readers.is_container(part.path):  # a part of a container: one rejection for the part
                doc = readers.part_failure(part, INTERNAL_ERROR)
                reject_internal(doc, "worker", error)
            else:
                doc = failed_doc(Path(part.path), "worker", error, config.reading.max_bytes)
            table = staging_table([staging_row(doc)])
            out_path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(table, out_path)
            receipts.append({"path": str(out_path), "paths": [str(out_path)], "rows": 1, "skipped": 0,
                             "stats": {}})
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return receipts


