"""Compose the stages for one drop: per-batch processing and the drop's commit plan.

`process_batch` runs read -> clean -> repeats -> fingerprint on a batch of
paths and returns one Arrow table (one row per file). It is pure and
independent of other batches, so the flow can run batches in parallel.

`plan_drop` takes all processed rows of a drop, looks up what the warehouse
already knows (documents seen before, exact and LSH candidates), clusters
with `dedup.assign` and builds exactly the rows one commit will write.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import chrome, clean, dedup, repeats, schema, sources
from .model import Doc
from .warehouse import Warehouse

SPAN_TYPE = pa.struct([(f.name, f.type) for f in schema.TABLES["removed_spans"]
                       if f.name not in ("doc_id", "drop_id")])
_DOC_FIELDS = [f for f in schema.TABLES["documents"] if f.name not in ("drop_id", "ingested_at")]
PROCESSED = pa.schema(_DOC_FIELDS + [
    ("text", pa.string()),
    ("word_count", pa.int32()),
    ("n_metadata", pa.int8()),       # how many of title, byline, date were found
    ("minhash", pa.binary()),
    ("bands", pa.list_(pa.uint64())),
    ("spans", pa.list_(SPAN_TYPE)),
])


@dataclass(frozen=True)
class CleanParams:
    max_bytes: int = sources.DEFAULT_MAX_BYTES
    min_words: int = clean.MIN_ARTICLE_WORDS


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
        "word_count": len(text.split()) if text is not None else None,
        "n_metadata": sum(x is not None for x in (doc.title, doc.byline, doc.published_at)),
        "spans": [{"stage": r.stage, "reason": r.reason, "start": r.start, "end": r.end, "text": r.text,
                   "repeat_of_start": r.repeat_of_start, "repeat_of_end": r.repeat_of_end}
                  for r in doc.removed],
    }


def process_batch(paths: list[str | Path], params: dedup.DedupParams,
                  clean_params: CleanParams = CleanParams()) -> pa.Table:
    docs = [repeats.collapse_repeats(clean.clean_document(d, clean_params.min_words))
            for d in chrome.strip_batch(list(sources.read_documents(map(Path, paths), clean_params.max_bytes)))]
    rows = [_doc_row(d) for d in docs]
    accepted = [i for i, d in enumerate(docs) if d.accepted]
    if accepted:
        sizes, sigs, bands = dedup.fingerprint([rows[i]["text"] for i in accepted], params)
        for k, i in enumerate(accepted):
            rows[i]["n_shingles"] = int(sizes[k])
            rows[i]["minhash"] = dedup.sig_to_bytes(sigs[k])
            rows[i]["bands"] = bands[k]
    return pa.Table.from_pylist(rows, schema=PROCESSED)


@dataclass
class DropPlan:
    drop_id: int
    tables: dict[str, pa.Table]
    article_updates: pa.Table
    relation_updates: pa.Table
    counts: dict[str, int] = field(default_factory=dict)


def plan_drop(processed: pa.Table, wh: Warehouse, params: dedup.DedupParams, drop_id: int,
              now: datetime | None = None) -> DropPlan:
    now = now or datetime.now(timezone.utc)
    n_files = processed.num_rows
    # the same path with the same bytes is the same document: skip what the warehouse has
    known = wh.known_doc_ids(processed.column("doc_id").to_pylist())
    if known:
        processed = processed.filter(pc.invert(pc.is_in(processed["doc_id"], pa.array(list(known)))))
    accepted = processed.filter(pc.equal(processed["status"], schema.ACCEPTED))

    acc_ids = accepted.column("doc_id").to_pylist()
    band_matrix = dedup.band_matrix(accepted.column("bands"), params)
    exact = wh.exact_matches(accepted.column("clean_sha256").to_pylist())
    query_bands = dedup.band_table(acc_ids, band_matrix).rename_columns(["band", "hash", "query"])
    candidates = wh.band_matches(query_bands)
    wh_articles = wh.canonical_signatures(pc.unique(candidates["article_id"]).to_pylist())
    result = dedup.assign(accepted, params, drop_id=drop_id, exact=exact,
                          warehouse_candidates=candidates, warehouse_articles=wh_articles)

    article_of = dict(zip(result.provenance.column("doc_id").to_pylist(),
                          result.provenance.column("article_id").to_pylist()))
    docs = processed.drop_columns(["text", "word_count", "n_metadata", "minhash", "bands", "spans"])
    docs = docs.append_column("drop_id", pa.array([drop_id] * docs.num_rows, pa.int64()))
    docs = docs.append_column("ingested_at", pa.array([now] * docs.num_rows, schema.TABLES["documents"].field("ingested_at").type))

    by_id = {r["doc_id"]: r for r in accepted.select(
        ["doc_id", "title", "byline", "published_at", "text", "word_count", "clean_sha256"]).to_pylist()}

    def article_row(article_id: str, doc_id: str) -> dict:
        r = by_id[doc_id]
        return {"article_id": article_id, "canonical_doc_id": doc_id, "title": r["title"], "byline": r["byline"],
                "published_at": r["published_at"], "text": r["text"], "word_count": r["word_count"],
                "clean_sha256": r["clean_sha256"], "first_drop_id": drop_id, "updated_drop_id": drop_id}

    articles = [article_row(a, d) for a, d in result.new_articles.items()]
    updates = [{k: v for k, v in article_row(s.article_id, s.new_doc_id).items() if k != "first_drop_id"}
               for s in result.switches]
    relation_updates = [{"doc_id": s.old_doc_id, "relation": schema.CONTAINED, "similarity": s.similarity,
                         "containment": s.containment, "matched_doc_id": s.new_doc_id} for s in result.switches]

    spans = []
    for doc_id, doc_spans in zip(processed.column("doc_id").to_pylist(), processed.column("spans").to_pylist()):
        spans.extend({"doc_id": doc_id, "drop_id": drop_id, **s} for s in doc_spans or ())

    # exact duplicates add nothing to the index: their text is already there
    exact_dups = set(pc.filter(result.provenance["doc_id"],
                               pc.equal(result.provenance["relation"], schema.EXACT_DUPLICATE)).to_pylist())
    indexed = [i for i, d in enumerate(acc_ids) if d not in exact_dups]
    sig_rows = accepted.take(pa.array(indexed, pa.int64())).select(["doc_id", "n_shingles", "minhash"])
    sig_rows = sig_rows.append_column("article_id", pa.array([article_of[d] for d in sig_rows["doc_id"].to_pylist()],
                                                             pa.string()))
    band_rows = dedup.band_table([acc_ids[i] for i in indexed], band_matrix[indexed])

    relations = result.provenance.column("relation").to_pylist()
    counts = {
        "n_files": n_files,
        "n_seen_before": len(known),
        "n_documents": processed.num_rows,
        "n_accepted": accepted.num_rows,
        "n_rejected": processed.num_rows - accepted.num_rows,
        "n_new_articles": len(result.new_articles),
        "n_exact_duplicates": relations.count(schema.EXACT_DUPLICATE),
        "n_near_duplicates": relations.count(schema.NEAR_DUPLICATE),
        "n_contained": relations.count(schema.CONTAINED),
        "n_canonical_switches": len(result.switches),
        "n_spans_removed": len(spans),
    }
    tables = {
        "documents": docs,
        "provenance": result.provenance,
        "articles": schema.table("articles", articles),
        "removed_spans": schema.table("removed_spans", spans),
        "signatures": sig_rows,
        "lsh_bands": band_rows,
        "canonical_switches": schema.table("canonical_switches", [
            {"article_id": s.article_id, "drop_id": drop_id, "old_doc_id": s.old_doc_id,
             "new_doc_id": s.new_doc_id} for s in result.switches]),
    }
    update_schema = pa.schema([f for f in schema.TABLES["articles"] if f.name != "first_drop_id"])
    return DropPlan(drop_id, tables, pa.Table.from_pylist(updates, schema=update_schema),
                    pa.Table.from_pylist(relation_updates, schema=pa.schema(
                        [schema.TABLES["provenance"].field(n) for n in
                         ("doc_id", "relation", "similarity", "containment", "matched_doc_id")])),
                    counts)


def drop_row(plan: DropPlan, label: str | None, inputs: list[str], started_at: datetime,
             finished_at: datetime, params: dedup.DedupParams, version: str) -> pa.Table:
    return schema.table("drops", [{
        "drop_id": plan.drop_id, "label": label, "started_at": started_at, "finished_at": finished_at,
        "inputs": json.dumps(inputs), **plan.counts,
        "elapsed_s": round((finished_at - started_at).total_seconds(), 3),
        "parameters": json.dumps(params.to_dict()), "newsfold_version": version,
    }])
