"""Compose the stages for one drop: per-batch processing and the drop's commit plan.

`process_batch` runs read -> clean -> repeats -> fingerprint on a batch of
paths and returns one Arrow table (one row per document: a file, or a record
of a JSONL/CSV/WARC file). It is pure and independent of other batches, so
the flow can run batches in parallel; `stage_batch` streams a batch's parts
(whole files, or byte ranges of a big container) and writes its rows to
staging Parquet files, one per `chunk_docs` documents, so no process ever
holds the texts of a whole drop, nor of a whole 2 GB export.

`plan_drop` reads only the small columns of a drop's staging files (ids,
hashes, signatures, band hashes), looks up what the warehouse already knows
(documents seen before, exact and LSH candidates), clusters with
`dedup.assign` and builds the small tables of the commit; the big ones
(documents, articles, removed spans, signatures, band index) are inserted by
the commit straight from the staging files.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import chrome, clean, dedup, readers, repeats, schema, sources
from .config import ChromeConfig, IngestConfig
from .model import Doc
from .warehouse import StagedDrop, Warehouse, fault_point

SPAN_TYPE = pa.struct([(f.name, f.type) for f in schema.TABLES["removed_spans"]
                       if f.name not in ("doc_id", "drop_id")])
# documents.clean_text is staged as `text` (the articles' text comes from the same column)
_DOC_FIELDS = [f for f in schema.TABLES["documents"] if f.name not in ("drop_id", "ingested_at", "clean_text")]
PROCESSED = pa.schema(_DOC_FIELDS + [
    ("text", pa.string()),
    ("word_count", pa.int32()),
    ("n_metadata", pa.int8()),       # how many of title, byline, date were found
    ("minhash", pa.binary()),
    ("bands", pa.list_(pa.uint64())),
    ("spans", pa.list_(SPAN_TYPE)),
    ("n_spans", pa.int32()),         # len(spans), so planning can count them without reading them
])
# What planning reads from the staging files: no texts, no spans.
PLAN_COLUMNS = ["doc_id", "status", "title", "clean_sha256", "n_shingles", "n_metadata", "minhash", "bands",
                "n_spans", "canonical_url"]


def _doc_row(doc: Doc) -> dict:
    text = doc.text if doc.accepted else None
    return {
        "doc_id": doc.doc_id, "source_path": doc.source_path, "source_name": doc.source_name,
        "format": doc.fmt, "content_sha256": doc.content_sha256, "size_bytes": doc.size_bytes,
        "encoding": doc.encoding,
        "status": schema.ACCEPTED if doc.accepted else schema.REJECTED,
        "reject_reason": doc.reject_reason,
        "title": doc.title, "byline": doc.byline, "published_at": doc.published_at,
        "raw_chars": len(doc.raw_text),
        "clean_chars": len(text) if text is not None else None,
        "clean_sha256": dedup.clean_sha256(text) if text is not None else None,
        "text": text,
        "word_count": sum(clean.word_count(u.text) for u in doc.units) if text is not None else None,
        "n_metadata": sum(x is not None for x in (doc.title, doc.byline, doc.published_at)),
        "spans": [{"stage": r.stage, "reason": r.reason, "start": r.start, "end": r.end, "text": r.text,
                   "repeat_of_start": r.repeat_of_start, "repeat_of_end": r.repeat_of_end}
                  for r in doc.removed],
        "n_spans": len(doc.removed),
        "error": doc.error,
        "source_uri": doc.source_uri or doc.source_path, "url": doc.url, "canonical_url": doc.canonical_url,
        "fetched_at": doc.fetched_at,
    }


# Staged chrome: the warehouse's chrome_keys without the drop id, which the commit adds.
CHROME_KEYS = pa.schema([schema.TABLES["chrome_keys"].field(n) for n in ("source_name", "key")])


def chrome_table(keys: dict[str, np.ndarray]) -> pa.Table:
    """source name -> chrome keys, as a table (CHROME_KEYS)."""
    names = [name for name, k in keys.items() for _ in range(len(k))]
    flat = np.concatenate(list(keys.values())) if keys else np.empty(0, dtype=np.uint64)
    return pa.table({"source_name": pa.array(names, pa.string()), "key": pa.array(flat, pa.uint64())})


def chrome_dict(table: pa.Table) -> dict[str, np.ndarray]:
    """The inverse of chrome_table: source name -> sorted chrome keys."""
    if not table.num_rows:
        return {}
    table = table.sort_by([("source_name", "ascending"), ("key", "ascending")])
    names = table.column("source_name").to_numpy(zero_copy_only=False)
    keys = table.column("key").to_numpy()
    cuts = np.flatnonzero(names[1:] != names[:-1]) + 1
    return {str(names[a]): keys[a:b] for a, b in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [len(names)])))}


INTERNAL_ERROR = "internal_error"
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


def _strip_chrome(docs: list[Doc], known: dict | None, settings: ChromeConfig = ChromeConfig()
                  ) -> dict[str, np.ndarray]:
    """chrome.strip_batch, isolated per document. The chrome stage learns across the batch,
    so when it raises, each document is tried alone to find the ones it fails on; those are
    rejected and the batch runs again without them (alone, a document still gets the known
    chrome cut, but learns nothing)."""
    def strip_batch(batch: list[Doc], known: dict | None) -> dict[str, np.ndarray]:
        return chrome.strip_batch(batch, known, min_docs=settings.min_docs, min_own_words=settings.min_own_words,
                                  min_run=settings.min_run, gram_words=settings.gram_words)

    states = [_snapshot(d) for d in docs]
    try:
        return strip_batch(docs, known)
    except Exception as exc:
        log.warning("chrome stage failed on the batch (%s: %s); retrying document by document",
                    type(exc).__name__, exc)
    for d, state in zip(docs, states):
        _restore(d, state)
    _each(docs, "chrome", lambda d: strip_batch([d], known))
    good = [(d, state) for d, state in zip(docs, states) if d.reject_reason != INTERNAL_ERROR]
    for d, state in good:
        _restore(d, state)
    try:
        return strip_batch([d for d, _ in good], known)
    except Exception:  # failing together but not alone: each keeps what it gets alone
        for d, state in good:
            _restore(d, state)
        _each([d for d, _ in good], "chrome", lambda d: strip_batch([d], known))
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


def _table(rows: list[dict]) -> pa.Table:
    try:
        return pa.Table.from_pylist(rows, schema=PROCESSED)
    except Exception as exc:  # a value Arrow cannot hold: find the row and keep only its identity
        log.warning("batch rows do not convert (%s: %s); converting row by row", type(exc).__name__, exc)
    tables = []
    for r in rows:
        try:
            tables.append(pa.Table.from_pylist([r], schema=PROCESSED))
        except Exception as exc:
            keep = ("doc_id", "source_path", "source_name", "format", "content_sha256", "size_bytes")
            row = {k: r[k] for k in keep} | {"status": schema.REJECTED, "reject_reason": INTERNAL_ERROR,
                                              "error": f"rows: {type(exc).__name__}: {exc}"[:2000], "n_spans": 0}
            tables.append(pa.Table.from_pylist([row], schema=PROCESSED))
    return pa.concat_tables(tables)


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
            _reject_internal(doc, "read", exc)
            yield doc


def process_batch(paths: list[str | Path | readers.Part], config: IngestConfig = IngestConfig(),
                  timings: dict[str, float] | None = None, known_chrome: str | Path | None = None,
                  learnt_chrome: dict | None = None) -> pa.Table:
    """The batch's rows (paths: files, or parts of files; see readers.Part).

    timings: if given, gets the seconds spent per stage added to it.
    known_chrome: a Parquet file (CHROME_KEYS) of chrome the warehouse learnt earlier.
    learnt_chrome: if given, gets the chrome keys learnt from this batch, per source.
    """
    timings = {} if timings is None else timings
    clock = time.perf_counter()
    docs = list(read_batch(paths, config))
    timings["read"] = timings.get("read", 0.0) + time.perf_counter() - clock
    return process_docs(docs, config, timings, known_chrome, learnt_chrome)


def process_docs(docs: list[Doc], config: IngestConfig = IngestConfig(), timings: dict[str, float] | None = None,
                 known_chrome: str | Path | None = None, learnt_chrome: dict | None = None) -> pa.Table:
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
    learnt = _strip_chrome(docs, known, config.chrome)
    if learnt_chrome is not None:
        learnt_chrome.update(learnt)
    lap("chrome")
    _each(docs, "clean", lambda d: clean.clean_document(d, config.cleaning.min_words))
    lap("clean")
    _each(docs, "repeats", lambda d: repeats.collapse_repeats(d, config.repeats.min_words))
    lap("repeats")
    prints = _fingerprint(docs, config.dedup)
    lap("fingerprint")
    rows = []
    for d in docs:
        try:
            rows.append(_doc_row(d))
        except Exception as exc:
            _reject_internal(d, "rows", exc)
            rows.append(_doc_row(d))
    for i, (n_shingles, minhash, bands) in prints.items():
        if docs[i].accepted:
            rows[i].update(n_shingles=n_shingles, minhash=minhash, bands=bands)
    del docs
    table = _table(rows)
    lap("rows")
    return table


def _write_atomically(table: pa.Table, path: Path) -> None:
    # written under a temporary name and renamed, so a staging file that exists is complete
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def chrome_path(staging_file: str | Path) -> Path:
    """Where a batch's learnt chrome is staged, next to its rows."""
    return Path(staging_file).with_suffix(".chrome.parquet")


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
    timings: dict[str, float] = {}
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    skipped = [0]
    chunk_docs = config.execution.batch_size
    docs = read_batch(paths, config, known_record_ids(known_records, paths), skipped)
    written, rows = [], 0
    clock = time.perf_counter()
    for k, chunk in enumerate(_chunks(docs, chunk_docs)):
        timings["read"] = timings.get("read", 0.0) + time.perf_counter() - clock
        learnt: dict[str, np.ndarray] = {}
        table = process_docs(chunk, config, timings, known_chrome, learnt)
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
                _reject_internal(doc, "worker", error)
            else:
                doc = failed_doc(Path(part.path), "worker", error, config.reading.max_bytes)
            table = _table([_doc_row(doc)])
            out_path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(table, out_path)
            receipts.append({"path": str(out_path), "paths": [str(out_path)], "rows": 1, "skipped": 0,
                             "timings": {}})
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return receipts


def read_plan_columns(staging: Sequence[str | Path]) -> pa.Table:
    """The columns planning needs from a drop's staging files, in file order."""
    tables = [pq.read_table(p, columns=PLAN_COLUMNS) for p in staging]
    if not tables:
        return PROCESSED.empty_table().select(PLAN_COLUMNS)
    return pa.concat_tables(tables)


@dataclass
class DropPlan:
    drop_id: int
    tables: dict[str, pa.Table]        # small tables, inserted as they are
    staged: StagedDrop                 # big tables, inserted from the staging files
    relation_updates: pa.Table         # provenance of old canonicals that a new copy took over
    counts: dict[str, int] = field(default_factory=dict)


def plan_drop(staging: Sequence[str | Path], wh: Warehouse, params: dedup.DedupParams, drop_id: int,
              now: datetime | None = None) -> DropPlan:
    now = now or datetime.now(timezone.utc)
    processed = read_plan_columns(staging)
    n_files = processed.num_rows
    # the same path with the same bytes is the same document: skip what the warehouse has
    known = wh.known_doc_ids(processed.column("doc_id").to_pylist())
    if known:
        processed = processed.filter(pc.invert(pc.is_in(processed["doc_id"], pa.array(list(known)))))
    n_documents = processed.num_rows
    n_spans = int(pc.sum(processed["n_spans"]).as_py() or 0)
    is_accepted = pc.equal(processed["status"], schema.ACCEPTED)
    # filter() copies; at a million documents the copy is a gigabyte, so skip it when it changes nothing
    accepted = processed if pc.all(is_accepted).as_py() is not False else processed.filter(is_accepted)
    del processed, is_accepted

    exact = wh.exact_matches(accepted.column("clean_sha256").to_pylist())
    if wh.has_band_index():
        # query = row number, not doc_id: a million documents x 36 bands of repeated id strings
        # would cost gigabytes; the numbers are mapped back to doc_ids below
        band_matrix = dedup.band_matrix(accepted.column("bands"), params)
        n, width = band_matrix.shape
        query_bands = pa.table({"band": np.tile(dedup.band_ids(params), n),
                                "hash": band_matrix.reshape(-1),
                                "query": np.repeat(np.arange(n, dtype=np.int64), width)})
        candidates = wh.band_matches(query_bands)
        candidates = candidates.set_column(0, "query", accepted["doc_id"].take(candidates["query"]))
        del band_matrix, query_bands
    else:  # a first drop: nothing to look up
        candidates = pa.table({"query": pa.array([], pa.string()), "article_id": pa.array([], pa.string())})
    # canonical URL signal (dedup.same_url_match): articles holding a document with the same canonical URL
    with_url = accepted.select(["doc_id", "canonical_url"]).filter(
        pa.array([dedup.url_key_is_specific(u) for u in accepted.column("canonical_url").to_pylist()], pa.bool_()))
    url_candidates = wh.url_matches(with_url.rename_columns(["query", "canonical_url"]))
    candidates = pa.concat_tables([candidates, url_candidates.cast(candidates.schema)])
    wh_articles = wh.canonical_signatures(pc.unique(candidates["article_id"]).to_pylist())
    # common content: the drop's document frequency of signature minima plus the warehouse's
    minima = dedup.drop_minima(accepted, params)
    known_minima = None
    if params.common_df:
        query = minima.keys
        if wh_articles.num_rows:
            query = np.union1d(query, dedup.minima_keys(dedup.sig_matrix(wh_articles["minhash"], params.num_perm)))
        known_minima = wh.minima_counts(query)
    result = dedup.assign(accepted, params, drop_id=drop_id, exact=exact,
                          warehouse_candidates=candidates, warehouse_articles=wh_articles,
                          warehouse_url_candidates=url_candidates, known_minima=known_minima, minima=minima)
    provenance = result.provenance
    if params.common_df:
        # documents placed in an article the warehouse had: their story is counted already
        article_of = dict(zip(provenance["doc_id"].to_pylist(), provenance["article_id"].to_pylist()))
        from_warehouse = np.array([article_of[d] not in result.new_articles
                                   for d in accepted["doc_id"].to_pylist()], dtype=bool)
        df_keys, df_counts = dedup.minima_to_keep(accepted, minima, known_minima, from_warehouse, params)
    else:
        df_keys, df_counts = np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)

    # exact duplicates add nothing to the index: their text is already there
    indexed = provenance.filter(pc.not_equal(provenance["relation"], schema.EXACT_DUPLICATE)
                                ).select(["doc_id", "article_id"])
    new_articles = pa.table({"article_id": pa.array(list(result.new_articles), pa.string()),
                             "doc_id": pa.array(list(result.new_articles.values()), pa.string())})
    switches = pa.table({"article_id": pa.array([s.article_id for s in result.switches], pa.string()),
                         "doc_id": pa.array([s.new_doc_id for s in result.switches], pa.string())})
    relation_updates = pa.Table.from_pylist(
        [{"doc_id": s.old_doc_id, "relation": schema.CONTAINED, "similarity": s.similarity,
          "containment": s.containment, "matched_doc_id": s.new_doc_id} for s in result.switches],
        schema=pa.schema([schema.TABLES["provenance"].field(n) for n in
                          ("doc_id", "relation", "similarity", "containment", "matched_doc_id")]))
    staged = StagedDrop(files=[str(p) for p in staging], drop_id=drop_id, ingested_at=now,
                        chrome_files=[str(chrome_path(p)) for p in staging if chrome_path(p).exists()],
                        skip=pa.table({"doc_id": pa.array(sorted(known), pa.string())}),
                        new_articles=new_articles, indexed=indexed, switches=switches,
                        band_ids=dedup.band_ids(params).tolist())

    relations = provenance.column("relation").to_pylist()
    counts = {
        "n_files": n_files,
        "n_seen_before": len(known),
        "n_documents": n_documents,
        "n_accepted": accepted.num_rows,
        "n_rejected": n_documents - accepted.num_rows,
        "n_new_articles": len(result.new_articles),
        "n_exact_duplicates": relations.count(schema.EXACT_DUPLICATE),
        "n_near_duplicates": relations.count(schema.NEAR_DUPLICATE),
        "n_contained": relations.count(schema.CONTAINED),
        "n_canonical_switches": len(result.switches),
        "n_spans_removed": n_spans,
    }
    tables = {
        "provenance": provenance,
        "canonical_switches": schema.table("canonical_switches", [
            {"article_id": s.article_id, "drop_id": drop_id, "old_doc_id": s.old_doc_id,
             "new_doc_id": s.new_doc_id} for s in result.switches]),
        "minima_df": pa.table({"key": pa.array(df_keys, pa.uint64()), "n": pa.array(df_counts, pa.int32()),
                               "drop_id": pa.array(np.full(len(df_keys), drop_id), pa.int64())}),
    }
    return DropPlan(drop_id, tables, staged, relation_updates, counts)


def drop_row(plan: DropPlan, label: str | None, inputs: list[str], started_at: datetime,
             finished_at: datetime, params: dedup.DedupParams, version: str) -> pa.Table:
    return schema.table("drops", [{
        "drop_id": plan.drop_id, "label": label, "started_at": started_at, "finished_at": finished_at,
        "inputs": json.dumps(inputs), **plan.counts,
        "elapsed_s": round((finished_at - started_at).total_seconds(), 3),
        "parameters": json.dumps(params.to_dict()), "newsfold_version": version,
    }])
