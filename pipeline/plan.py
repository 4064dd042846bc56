"""Staging and planning of a drop: the staging schema, and the plan of its commit.

Batches (pipeline/drop.py) write one staging row per document (`PROCESSED`)
to Parquet files under the warehouse. `plan_drop` reads only the small columns
of a drop's staging files (ids, hashes, signatures, band hashes), looks up what
the warehouse already knows (documents seen before, exact and LSH candidates),
clusters with `dedup.assign` and builds the small tables of the commit; the big
ones (documents, articles, removed spans, signatures, band index) are inserted
by the commit straight from the staging files.
"""
from __future__ import annotations

import ctypes
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import dedup, schema
from .text import UNSPACED_CHAR, word_count
from .model import Doc

INTERNAL_ERROR = "internal_error"  # reject reason of a document a stage failed on (pipeline/stage.py)
log = logging.getLogger("newsfold.drop")

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
# What planning reads from the staging files: no texts, no spans; the fingerprints
# (FINGERPRINT_COLUMNS) are read apart, file by file, straight into matrices.
PLAN_COLUMNS = ["doc_id", "status", "title", "clean_sha256", "n_shingles", "n_metadata", "n_spans", "canonical_url"]
FINGERPRINT_COLUMNS = ["minhash", "bands"]
# How the commit fills the warehouse from staging rows: warehouse column -> staging column.
# (removed_spans come from the `spans` list, lsh_bands from the `bands` list.)
STAGED_AS = {
    "documents": {f.name: f.name for f in _DOC_FIELDS} | {"clean_text": "text"},
    "articles": {"canonical_doc_id": "doc_id", "title": "title", "byline": "byline", "published_at": "published_at",
                 "text": "text", "word_count": "word_count", "clean_sha256": "clean_sha256"},
    "signatures": {"doc_id": "doc_id", "n_shingles": "n_shingles", "minhash": "minhash"},
}
SPANS, BANDS = "spans", "bands"


def accepted_values(doc: Doc) -> tuple[str | None, str | None, int | None]:
    """(clean text, its sha256, word count) of an accepted document, Nones for a rejected one:
    the values of a staging row that are worked out (and may raise, e.g. on a lone surrogate)."""
    if not doc.accepted:
        return None, None, None
    text = doc.text
    return text, dedup.clean_sha256(text), _word_count_of_units(text, doc)


def _word_count_of_units(text: str, doc: Doc) -> int:
    """sum(word_count(u.text) for u in doc.units), `text` being doc.text: without a character
    of an unspaced script, the units' spaces are the joined text's (one count, not one per unit)."""
    if text.isascii() or not UNSPACED_CHAR.search(text):
        return text.count(" ") + sum(1 for u in doc.units if u.text)
    return sum(word_count(u.text) for u in doc.units)


def staging_row(doc: Doc) -> dict:
    """A processed document as a staging row (PROCESSED); texts and fingerprints of accepted ones only."""
    values = accepted_values(doc)
    return ({name: getattr(doc, attr) for name, attr in _AS_IS.items()}
            | {name: value_of(doc, values) for name, value_of in _DERIVED.items()}
            | {"spans": [{"stage": r.stage, "reason": r.reason, "start": r.start, "end": r.end, "text": r.text,
                          "repeat_of_start": r.repeat_of_start, "repeat_of_end": r.repeat_of_end}
                         for r in doc.removed]})


# A staging row's fields, but for its spans: taken from the document as they are (PROCESSED
# column -> Doc attribute), and worked out from it and its accepted_values (text, sha256, word
# count; Nones for a rejected document). staging_row builds a row of them, staging_table_of a column.
_AS_IS = {"doc_id": "doc_id", "source_path": "source_path", "source_name": "source_name", "format": "fmt",
          "content_sha256": "content_sha256", "size_bytes": "size_bytes", "encoding": "encoding",
          "reject_reason": "reject_reason", "title": "title", "byline": "byline", "published_at": "published_at",
          "error": "error", "url": "url", "canonical_url": "canonical_url", "fetched_at": "fetched_at"}
_DERIVED: dict[str, Callable[[Doc, tuple[str | None, str | None, int | None]], object]] = {
    "status": lambda d, v: schema.ACCEPTED if v[0] is not None else schema.REJECTED,
    "raw_chars": lambda d, v: len(d.raw_text),
    "clean_chars": lambda d, v: len(v[0]) if v[0] is not None else None,
    "clean_sha256": lambda d, v: v[1],
    "text": lambda d, v: v[0],
    "word_count": lambda d, v: v[2],
    "n_metadata": lambda d, v: (d.title is not None) + (d.byline is not None) + (d.published_at is not None),
    "n_spans": lambda d, v: len(d.removed),
    "source_uri": lambda d, v: d.source_uri or d.source_path,
    "n_shingles": lambda d, v: d.n_shingles if v[0] is not None else None,
    "minhash": lambda d, v: d.minhash if v[0] is not None else None,
    "bands": lambda d, v: d.bands if v[0] is not None else None,
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


def staging_table(rows: list[dict]) -> pa.Table:
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


def staging_table_of(docs: list[Doc], values: list[tuple[str | None, str | None, int | None]]) -> pa.Table:
    """staging_table([staging_row(d) for d in docs]) built a column at a time, given each
    document's accepted_values: a dict per row and per removed span (~60 a real page) and
    Arrow's row conversion cost ~0.15 ms a document. Falls back to the rows when a value
    does not convert (staging_table then finds the row)."""
    try:
        return pa.Table.from_arrays(_staging_columns(docs, values), schema=PROCESSED)
    except Exception as exc:
        log.warning("batch columns do not convert (%s: %s); converting row by row", type(exc).__name__, exc)
    return staging_table([staging_row(d) for d in docs])


def _staging_columns(docs: list[Doc], values: list[tuple[str | None, str | None, int | None]]) -> list[pa.Array]:
    col: dict[str, list] = {name: [getattr(d, attr) for d in docs] for name, attr in _AS_IS.items()}
    col |= {name: [value_of(d, v) for d, v in zip(docs, values)] for name, value_of in _DERIVED.items()}
    arrays = {name: pa.array(values_, PROCESSED.field(name).type) for name, values_ in col.items()}
    arrays["spans"] = _spans_column(docs)
    return [arrays[f.name] for f in PROCESSED]


def _spans_column(docs: list[Doc]) -> pa.Array:
    """The removed spans of each document as a list<SPAN_TYPE> column, from one flat list."""
    spans = [r for d in docs for r in d.removed]
    offsets = np.zeros(len(docs) + 1, dtype=np.int32)
    np.cumsum([len(d.removed) for d in docs], out=offsets[1:])
    # spelt out: r.stage is a specialised slot read, getattr(r, name) a call (~2x the time)
    by_field = {"stage": [r.stage for r in spans], "reason": [r.reason for r in spans],
                "start": [r.start for r in spans], "end": [r.end for r in spans], "text": [r.text for r in spans],
                "repeat_of_start": [r.repeat_of_start for r in spans], "repeat_of_end": [r.repeat_of_end for r in spans]}
    fields = [pa.array(by_field[f.name], f.type) for f in SPAN_TYPE]
    return pa.ListArray.from_arrays(pa.array(offsets), pa.StructArray.from_arrays(fields, fields=list(SPAN_TYPE)),
                                    type=pa.list_(SPAN_TYPE))


def chrome_path(staging_file: str | Path) -> Path:
    """Where a batch's learnt chrome is staged, next to its rows."""
    return Path(staging_file).with_suffix(".chrome.parquet")


@dataclass
class StagedDrop:
    """A drop's big rows, still in the staging Parquet files its batches wrote.

    The commit inserts documents, articles, removed spans, signatures and the
    band index from these files with SQL, inside the drop's one transaction,
    so no process holds a drop's texts in memory. The small Arrow tables say
    which staged rows go where.
    """

    files: list[str]           # staging Parquet files (PROCESSED rows)
    chrome_files: list[str]    # chrome the batches learnt (CHROME_KEYS rows)
    drop_id: int
    ingested_at: datetime
    skip: pa.Table             # doc_id: documents the warehouse already holds
    new_articles: pa.Table     # article_id, doc_id: new articles and their canonical documents
    indexed: pa.Table          # doc_id, article_id: documents whose signature and bands are stored
    switches: pa.Table         # article_id, doc_id: articles whose canonical copy becomes doc_id
    # LSH band id of each position of the staged band list (dedup.band_ids: the lead windows
    # share ids); None: the position is the id
    band_ids: list[int] | None = None


def read_plan_columns(staging: Sequence[str | Path]) -> pa.Table:
    """The columns planning needs from a drop's staging files, in file order."""
    tables = [pq.read_table(p, columns=PLAN_COLUMNS) for p in staging]
    if not tables:
        return PROCESSED.empty_table().select(PLAN_COLUMNS)
    return pa.concat_tables(tables)


def read_fingerprints(staging: Sequence[str | Path], keep: np.ndarray,
                      params: dedup.DedupParams) -> tuple[np.ndarray, np.ndarray]:
    """(signatures uint32 [k, num_perm], band hashes uint64 [k, width]) of the staged rows
    `keep` marks (bool per row, in file order), read file by file into the two matrices:
    the columns of a whole drop are never held as Arrow arrays besides them (at a million
    documents 0.9 GB more at planning's peak)."""
    width = params.bands + params.lead_bands * params.lead_windows
    n = int(np.count_nonzero(keep))
    sigs = np.empty((n, params.num_perm), dtype="<u4")
    bands = np.empty((n, width), dtype=np.uint64)
    row = at = 0
    for path in staging:
        table = pq.read_table(path, columns=FINGERPRINT_COLUMNS)
        mask = keep[row:row + table.num_rows]
        row += table.num_rows
        table = table.filter(pa.array(mask))
        sigs[at:at + table.num_rows] = dedup.sig_matrix(table.column("minhash"), params.num_perm)
        bands[at:at + table.num_rows] = dedup.band_matrix(table.column("bands"), params)
        at += table.num_rows
    return sigs, bands


class WarehouseReader(Protocol):
    """What planning reads from the warehouse: pipeline.warehouse.Warehouse implements it, and
    a test can plan a drop against a few dicts (tests/test_plan.py)."""

    def known_doc_ids(self, doc_ids: list[str]) -> set[str]:
        """The ones of `doc_ids` the warehouse has (same path, same bytes)."""

    def exact_matches(self, clean_hashes: list[str]) -> dict[str, tuple[str, str]]:
        """clean_sha256 -> (doc_id, article_id) of an earlier accepted document with that text."""

    def has_band_index(self) -> bool:
        """Whether any LSH bands are stored (False before the first drop)."""

    def band_matches(self, bands: pa.Table) -> pa.Table:
        """(query, article_id) for query band hashes (columns query, band, hash)."""

    def url_matches(self, keys: pa.Table) -> pa.Table:
        """(query, article_id) for canonical URLs (columns query, canonical_url)."""

    def canonical_signatures(self, article_ids: list[str]) -> pa.Table:
        """article_id, canonical_doc_id, n_shingles, minhash of these articles."""

    def minima_counts(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(keys, stories) for those of `keys` the warehouse's minima_df holds."""


@dataclass(frozen=True)
class DropInfo:
    """What the flow knows of a drop that its staging files do not say (the drops row)."""

    label: str | None = None
    inputs: tuple[str, ...] = ()
    started_at: datetime | None = None   # None: when planning starts
    # documents found in the inputs: files and records skipped before staging (the warehouse
    # had them) plus the staged rows; None: the staged rows only
    n_found: int | None = None
    version: str = "dev"
    parameters: dict | None = None       # drops.parameters; None: the dedup parameters


@dataclass
class DropPlan:
    drop_id: int
    tables: dict[str, pa.Table]        # small tables, inserted as they are (drops among them)
    staged: StagedDrop                 # big tables, inserted from the staging files
    relation_updates: pa.Table         # provenance of old canonicals that a new copy took over
    counts: dict[str, int] = field(default_factory=dict)   # the drops row's n_* columns


@dataclass
class _Lookups:
    """What the warehouse knows about a drop's accepted documents."""

    exact: dict[str, tuple[str, str]]
    candidates: pa.Table           # (query doc_id, article_id): band and URL matches
    url_candidates: pa.Table       # (query doc_id, article_id): URL matches
    articles: pa.Table             # the candidate articles' canonical signatures
    known_minima: dedup.KnownMinima | None


def plan_drop(staging: Sequence[str | Path], wh: WarehouseReader, params: dedup.DedupParams, drop_id: int,
              now: datetime | None = None, info: DropInfo = DropInfo()) -> DropPlan:
    """Plan the commit of a drop from its staging files: every table's rows and the counts."""
    drop_plan = _plan(staging, wh, params, drop_id, now or datetime.now(timezone.utc), info)
    release_freed_memory()
    return drop_plan


def release_freed_memory() -> None:
    """Hand the memory planning freed back to the system before the commit runs in the same
    process. Arrow's allocator (mimalloc) and glibc's malloc both keep freed pages for reuse:
    at a million documents that was 3 GiB the commit's DuckDB could not use and that counted
    in the ingest's peak."""
    pa.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl): nothing to trim
            pass


def _plan(staging: Sequence[str | Path], wh: WarehouseReader, params: dedup.DedupParams, drop_id: int,
          now: datetime, info: DropInfo) -> DropPlan:
    staged = read_plan_columns(staging)
    n_staged = staged.num_rows
    # the same path with the same bytes is the same document: skip what the warehouse has
    known = wh.known_doc_ids(staged.column("doc_id").to_pylist())
    is_new = pc.invert(pc.is_in(staged["doc_id"], pa.array(list(known), pa.string())))
    n_documents = int(pc.sum(is_new).as_py() or 0)
    n_spans = int(pc.sum(staged.filter(is_new)["n_spans"]).as_py() or 0)
    keep = pc.and_(is_new, pc.equal(staged["status"], schema.ACCEPTED))
    accepted = staged.filter(keep)
    del staged
    sigs, bands = read_fingerprints(staging, keep.to_numpy(zero_copy_only=False), params)
    minima = dedup.drop_minima(accepted, params, sigs=sigs, bands=bands)
    found = _look_up(accepted, wh, params, minima, bands)
    del sigs, bands   # the signatures live on in minima.sigs; clustering needs no band hashes
    release_freed_memory()
    result = dedup.assign(accepted, params, drop_id=drop_id, exact=found.exact,
                          warehouse_candidates=found.candidates, warehouse_articles=found.articles,
                          warehouse_url_candidates=found.url_candidates, known_minima=found.known_minima,
                          minima=minima)
    n_found = n_staged if info.n_found is None else info.n_found
    counts = {
        "n_files": n_found,
        "n_seen_before": len(known) + n_found - n_staged,
        "n_documents": n_documents,
        "n_accepted": accepted.num_rows,
        "n_rejected": n_documents - accepted.num_rows,
        **_fold_counts(result),
        "n_spans_removed": n_spans,
    }
    tables = {
        "provenance": result.provenance,
        "canonical_switches": schema.table("canonical_switches", [
            {"article_id": s.article_id, "drop_id": drop_id, "old_doc_id": s.old_doc_id,
             "new_doc_id": s.new_doc_id} for s in result.switches]),
        "minima_df": _minima_df(accepted, result, minima, found.known_minima, params, drop_id),
        "drops": drops_row(drop_id, counts, info, now, params),
    }
    staged = _staged(staging, drop_id, now, known, result, params)
    return DropPlan(drop_id, tables, staged, _relation_updates(result), counts)


def _look_up(accepted: pa.Table, wh: WarehouseReader, params: dedup.DedupParams,
             minima: dedup.DropMinima, band_matrix: np.ndarray) -> _Lookups:
    """The warehouse's exact matches, band and URL candidates, their articles and the common
    content counts, for a drop's accepted documents (band_matrix: their band hashes)."""
    exact = wh.exact_matches(accepted.column("clean_sha256").to_pylist())
    if wh.has_band_index():
        # query = row number, not doc_id: a million documents x 36 bands of repeated id strings
        # would cost gigabytes; the numbers are mapped back to doc_ids below
        n, width = band_matrix.shape
        query_bands = pa.table({"band": np.tile(dedup.band_ids(params), n),
                                "hash": band_matrix.reshape(-1),
                                "query": np.repeat(np.arange(n, dtype=np.int64), width)})
        candidates = wh.band_matches(query_bands)
        candidates = candidates.set_column(0, "query", accepted["doc_id"].take(candidates["query"]))
        del query_bands
    else:  # a first drop: nothing to look up
        candidates = pa.table({"query": pa.array([], pa.string()), "article_id": pa.array([], pa.string())})
    # canonical URL signal (dedup.same_url_match): articles holding a document with the same canonical URL
    with_url = accepted.select(["doc_id", "canonical_url"]).filter(
        pa.array([dedup.url_key_is_specific(u) for u in accepted.column("canonical_url").to_pylist()], pa.bool_()))
    url_candidates = wh.url_matches(with_url.rename_columns(["query", "canonical_url"]))
    candidates = pa.concat_tables([candidates, url_candidates.cast(candidates.schema)])
    articles = wh.canonical_signatures(pc.unique(candidates["article_id"]).to_pylist())
    # common content: the drop's document frequency of signature minima plus the warehouse's
    known_minima = None
    if params.common_df:
        sig_sets = [minima.sigs]
        if articles.num_rows:
            sig_sets.append(dedup.sig_matrix(articles["minhash"], params.num_perm))
        known_minima = dedup.look_up_minima(sig_sets, wh.minima_counts)
    return _Lookups(exact, candidates, url_candidates, articles, known_minima)


def _fold_counts(result: dedup.Assignment) -> dict[str, int]:
    relations = result.provenance.column("relation").to_pylist()
    return {
        "n_new_articles": len(result.new_articles),
        "n_exact_duplicates": relations.count(schema.EXACT_DUPLICATE),
        "n_near_duplicates": relations.count(schema.NEAR_DUPLICATE),
        "n_contained": relations.count(schema.CONTAINED),
        "n_canonical_switches": len(result.switches),
    }


def _minima_df(accepted: pa.Table, result: dedup.Assignment, minima: dedup.DropMinima,
               known_minima: dedup.KnownMinima | None, params: dedup.DedupParams,
               drop_id: int) -> pa.Table:
    """The drop's rows of minima_df (see dedup.minima_to_keep)."""
    if params.common_df:
        # documents placed in an article the warehouse had: their story is counted already
        provenance = result.provenance
        article_of = dict(zip(provenance["doc_id"].to_pylist(), provenance["article_id"].to_pylist()))
        from_warehouse = np.array([article_of[d] not in result.new_articles
                                   for d in accepted["doc_id"].to_pylist()], dtype=bool)
        df_keys, df_counts = dedup.minima_to_keep(minima, known_minima, from_warehouse)
    else:
        df_keys, df_counts = np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    return pa.table({"key": pa.array(df_keys, pa.uint64()), "n": pa.array(df_counts, pa.int32()),
                     "drop_id": pa.array(np.full(len(df_keys), drop_id), pa.int64())})


def _staged(staging: Sequence[str | Path], drop_id: int, now: datetime, known: set[str],
            result: dedup.Assignment, params: dedup.DedupParams) -> StagedDrop:
    provenance = result.provenance
    # exact duplicates add nothing to the index: their text is already there
    indexed = provenance.filter(pc.not_equal(provenance["relation"], schema.EXACT_DUPLICATE)
                                ).select(["doc_id", "article_id"])
    new_articles = pa.table({"article_id": pa.array(list(result.new_articles), pa.string()),
                             "doc_id": pa.array(list(result.new_articles.values()), pa.string())})
    switches = pa.table({"article_id": pa.array([s.article_id for s in result.switches], pa.string()),
                         "doc_id": pa.array([s.new_doc_id for s in result.switches], pa.string())})
    return StagedDrop(files=[str(p) for p in staging], drop_id=drop_id, ingested_at=now,
                      chrome_files=[str(chrome_path(p)) for p in staging if chrome_path(p).exists()],
                      skip=pa.table({"doc_id": pa.array(sorted(known), pa.string())}),
                      new_articles=new_articles, indexed=indexed, switches=switches,
                      band_ids=dedup.band_ids(params).tolist())


def _relation_updates(result: dedup.Assignment) -> pa.Table:
    """The provenance of the old canonical copies that a more complete copy took over."""
    return pa.Table.from_pylist(
        [{"doc_id": s.old_doc_id, "relation": schema.CONTAINED, "similarity": s.similarity,
          "containment": s.containment, "matched_doc_id": s.new_doc_id} for s in result.switches],
        schema=pa.schema([schema.TABLES["provenance"].field(n) for n in
                          ("doc_id", "relation", "similarity", "containment", "matched_doc_id")]))


def drops_row(drop_id: int, counts: dict[str, int], info: DropInfo, now: datetime,
              params: dedup.DedupParams) -> pa.Table:
    """The drop's row of `drops`. finished_at and elapsed_s are stamped by the commit."""
    started_at = info.started_at or now
    return schema.table("drops", [{
        "drop_id": drop_id, "label": info.label, "started_at": started_at, "finished_at": now,
        "inputs": json.dumps(list(info.inputs)), **counts,
        "elapsed_s": round((now - started_at).total_seconds(), 3),
        "parameters": json.dumps(params.to_dict() if info.parameters is None else info.parameters),
        "newsfold_version": info.version,
    }])
