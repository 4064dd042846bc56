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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import chrome, clean, dedup, readers, repeats, sources
from .model import Doc
from .plan import (CHROME_KEYS, INTERNAL_ERROR, PROCESSED, chrome_dict, chrome_path, chrome_table, staging_row,
                   staging_table)
from .warehouse import fault_point

DEFAULT_CHUNK_DOCS = 500  # documents per staging file (and per pass of the stages)


@dataclass(frozen=True)
class CleanParams:
    max_bytes: int = sources.DEFAULT_MAX_BYTES
    min_words: int = clean.MIN_ARTICLE_WORDS
    follow_symlinks: bool = False  # follow symlinks that lead outside the given paths (sources.discover)
    fields: readers.FieldMap = readers.FieldMap()  # which JSONL/CSV fields hold text, title, url, ...


log = logging.getLogger("newsfold.drop")


def _reject_internal(doc: Doc, stage: str, exc: BaseException) -> None:
    """An error while processing one document rejects that document only (logged, and kept in
    `documents.error`); the rest of the batch goes on."""
    log.warning("%s failed on %s: %s: %s", stage, doc.source_path, type(exc).__name__, exc, exc_info=exc)
    doc.reject_reason = INTERNAL_ERROR
    doc.error = f"{stage}: {type(exc).__name__}: {exc}"[:2000]
    doc.units = []


def failed_doc(path: Path, stage: str, exc: BaseException, max_bytes: int) -> Doc:
    """The record of a path whose processing raised: its identity, reason internal_error."""
    spath = sources.display_path(path)
    try:
        digest = sources.content_digest(path, max_bytes)
    except Exception:
        digest = hashlib.sha256(spath.encode()).hexdigest()
    doc = Doc(sources.doc_id_for(spath, digest), spath, sources.display_path(path.parent.name), digest, 0)
    _reject_internal(doc, stage, exc)
    return doc


def _read_one(path: Path, max_bytes: int) -> Doc:
    fault_point(f"read:{path.name}")  # test hook: a document that kills its worker
    try:
        return sources.read_document(path, max_bytes)
    except Exception as exc:  # read_document rejects what is wrong on disk; this is a bug in it
        return failed_doc(path, "read", exc, max_bytes)


def _snapshot(doc: Doc) -> tuple:
    return (doc.reject_reason, list(doc.units), len(doc.removed), doc.title, doc.byline, doc.published_at)


def _restore(doc: Doc, state: tuple) -> None:
    doc.reject_reason, units, n_removed, doc.title, doc.byline, doc.published_at = state
    doc.units = list(units)
    del doc.removed[n_removed:]


def _each(docs: list[Doc], stage: str, run: Callable[[Doc], object]) -> None:
    """Run a per-document stage on each accepted document; one that raises is rejected as it
    was before the stage, with the error."""
    for d in docs:
        if d.accepted:
            state = _snapshot(d)
            try:
                run(d)
            except Exception as exc:
                _restore(d, state)
                _reject_internal(d, stage, exc)


def _strip_chrome(docs: list[Doc], known: dict | None) -> dict[str, np.ndarray]:
    """chrome.strip_batch, isolated per document. The chrome stage learns across the batch,
    so when it raises, each document is tried alone to find the ones it fails on; those are
    rejected and the batch runs again without them (alone, a document still gets the known
    chrome cut, but learns nothing)."""
    states = [_snapshot(d) for d in docs]
    try:
        return chrome.strip_batch(docs, known)
    except Exception as exc:
        log.warning("chrome stage failed on the batch (%s: %s); retrying document by document",
                    type(exc).__name__, exc)
    for d, state in zip(docs, states):
        _restore(d, state)
    _each(docs, "chrome", lambda d: chrome.strip_batch([d], known))
    good = [(d, state) for d, state in zip(docs, states) if d.reject_reason != INTERNAL_ERROR]
    for d, state in good:
        _restore(d, state)
    try:
        return chrome.strip_batch([d for d, _ in good], known)
    except Exception:  # failing together but not alone: each keeps what it gets alone
        for d, state in good:
            _restore(d, state)
        _each([d for d, _ in good], "chrome", lambda d: chrome.strip_batch([d], known))
        return {}


def _fingerprint(docs: list[Doc], params: dedup.DedupParams) -> dict[int, tuple]:
    """index in docs -> (n_shingles, minhash bytes, bands) of each accepted document; one that
    fails alone is rejected."""
    accepted = [i for i, d in enumerate(docs) if d.accepted]

    def run(idx: list[int]) -> dict[int, tuple]:
        sizes, sigs, bands = dedup.fingerprint([docs[i].text for i in idx], params)
        return {i: (int(sizes[k]), dedup.sig_to_bytes(sigs[k]), bands[k]) for k, i in enumerate(idx)}

    if not accepted:
        return {}
    try:
        return run(accepted)
    except Exception as exc:
        log.warning("fingerprint failed on the batch (%s: %s); retrying document by document",
                    type(exc).__name__, exc)
    out: dict[int, tuple] = {}
    for i in accepted:
        try:
            out.update(run([i]))
        except Exception as exc:
            _reject_internal(docs[i], "fingerprint", exc)
    return out


def as_part(item: str | Path | readers.Part) -> readers.Part:
    return item if isinstance(item, readers.Part) else readers.Part(str(item))


def read_batch(parts: Sequence[str | Path | readers.Part], clean_params: CleanParams = CleanParams(),
               skip_ids: set[str] | None = None, skipped: list[int] | None = None) -> Iterator[Doc]:
    """The documents of a batch's parts, streamed; records whose doc_id is in `skip_ids` (the
    warehouse has them) are left out and counted in skipped[0]."""
    for part in map(as_part, parts):
        if not readers.is_container(part.path) and not readers.is_gzipped(part.path):
            yield _read_one(Path(part.path), clean_params.max_bytes)
            continue
        fault_point(f"read:{Path(part.path).name}")  # test hook: a document that kills its worker
        try:
            for doc in readers.read_part(part, clean_params.fields, clean_params.max_bytes, skip_ids or ()):
                if doc is None:
                    if skipped is not None:
                        skipped[0] += 1
                    continue
                yield doc
        except Exception as exc:  # a bug in a reader: the records read so far stand, the rest is one rejection
            doc = readers.part_failure(part, INTERNAL_ERROR)
            _reject_internal(doc, "read", exc)
            yield doc


def process_batch(paths: list[str | Path | readers.Part], params: dedup.DedupParams,
                  clean_params: CleanParams = CleanParams(), timings: dict[str, float] | None = None,
                  known_chrome: str | Path | None = None, learnt_chrome: dict | None = None) -> pa.Table:
    """The batch's rows (paths: files, or parts of files; see readers.Part).

    timings: if given, gets the seconds spent per stage added to it.
    known_chrome: a Parquet file (CHROME_KEYS) of chrome the warehouse learnt earlier.
    learnt_chrome: if given, gets the chrome keys learnt from this batch, per source.
    """
    timings = {} if timings is None else timings
    clock = time.perf_counter()
    docs = list(read_batch(paths, clean_params))
    timings["read"] = timings.get("read", 0.0) + time.perf_counter() - clock
    return process_docs(docs, params, clean_params, timings, known_chrome, learnt_chrome)


def process_docs(docs: list[Doc], params: dedup.DedupParams, clean_params: CleanParams = CleanParams(),
                 timings: dict[str, float] | None = None, known_chrome: str | Path | None = None,
                 learnt_chrome: dict | None = None) -> pa.Table:
    """The rows of documents already read (see process_batch)."""
    timings = {} if timings is None else timings
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = timings.get(stage, 0.0) + now - clock
        clock = now
    known = None
    if known_chrome is not None:
        names = sorted({d.source_name for d in docs})
        known = chrome_dict(pq.read_table(known_chrome, filters=[("source_name", "in", names)]) if names
                            else CHROME_KEYS.empty_table())
    learnt = _strip_chrome(docs, known)
    if learnt_chrome is not None:
        learnt_chrome.update(learnt)
    lap("chrome")
    _each(docs, "clean", lambda d: clean.clean_document(d, clean_params.min_words))
    lap("clean")
    _each(docs, "repeats", repeats.collapse_repeats)
    lap("repeats")
    prints = _fingerprint(docs, params)
    lap("fingerprint")
    rows = []
    for d in docs:
        try:
            rows.append(staging_row(d))
        except Exception as exc:
            _reject_internal(d, "rows", exc)
            rows.append(staging_row(d))
    for i, (n_shingles, minhash, bands) in prints.items():
        if docs[i].accepted:
            rows[i].update(n_shingles=n_shingles, minhash=minhash, bands=bands)
    del docs
    table = staging_table(rows)
    lap("rows")
    return table


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


def stage_batch(paths: list[str | Path | readers.Part], params: dedup.DedupParams, clean_params: CleanParams,
                out_path: str | Path, known_chrome: str | Path | None = None,
                known_records: str | Path | None = None, chunk_docs: int = DEFAULT_CHUNK_DOCS) -> dict:
    """Process a batch (files, or parts of big files) and write its rows to staging Parquet
    files, `out_path` and, past `chunk_docs` documents, `out_path`'s siblings `<stem>.<k>.parquet`,
    each with the chrome it learnt at `chrome_path(file)`; return a small receipt.

    Memory is bounded by `chunk_docs` documents whatever the size of the files: the parts
    are read as a stream and each chunk goes through the stages and to disk on its own.
    Records the warehouse already holds (`known_records`, see known_record_ids) are skipped
    before any work and counted in the receipt's `skipped`.
    """
    timings: dict[str, float] = {}
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    skipped = [0]
    docs = read_batch(paths, clean_params, known_record_ids(known_records, paths), skipped)
    written, rows = [], 0
    clock = time.perf_counter()
    for k, chunk in enumerate(_chunks(docs, chunk_docs)):
        timings["read"] = timings.get("read", 0.0) + time.perf_counter() - clock
        learnt: dict[str, np.ndarray] = {}
        table = process_docs(chunk, params, clean_params, timings, known_chrome, learnt)
        del chunk
        t0 = time.perf_counter()
        path = out_path if k == 0 else out_path.with_suffix(f".{k}.parquet")
        _write_atomically(chrome_table(learnt), chrome_path(path))
        _write_atomically(table, path)
        written.append(str(path))
        rows += table.num_rows
        del table
        clock = time.perf_counter()
        timings["write_staging"] = timings.get("write_staging", 0.0) + clock - t0
    if not written:  # nothing new in the batch: an empty file keeps receipts uniform
        _write_atomically(PROCESSED.empty_table(), out_path)
        written.append(str(out_path))
    return {"path": written[0], "paths": written, "rows": rows, "skipped": skipped[0], "timings": timings}


def stage_one_by_one(paths: list[str | Path], params: dedup.DedupParams, clean_params: CleanParams,
                     out_stem: str | Path, known_chrome: str | Path | None = None) -> list[dict]:
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
                receipts.append(pool.submit(stage_batch, [path], params, clean_params, out_path,
                                            known_chrome).result())
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
                _reject_internal(doc, "worker", error)
            else:
                doc = failed_doc(Path(part.path), "worker", error, clean_params.max_bytes)
            table = staging_table([staging_row(doc)])
            out_path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(table, out_path)
            receipts.append({"path": str(out_path), "paths": [str(out_path)], "rows": 1, "skipped": 0,
                             "timings": {}})
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return receipts


