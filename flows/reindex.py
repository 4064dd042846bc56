"""Re-fingerprint a warehouse into a new one with other index parameters (`newsfold reindex`).

A warehouse's signatures and LSH band index are made with one shingle size, num_perm,
bands x rows, seed and lead bands (config.INDEX_KEYS); an ingest with other ones is
refused (flows/ingest.py, check_index_parameters). To change them, the warehouse's
documents are re-run into a new warehouse: drop by drop, in the order they were
committed, each document the old warehouse holds -- its clean text, metadata, removed
spans, and the chrome its drop learnt -- is staged as a batch would stage it, with
signatures and bands computed with the new parameters, and the drop is planned and
committed as an ingest commits it (commit_task). Nothing is read from the source files
or cleaned again, so the documents stay exactly as they were; only the folding into
articles follows the new parameters.
"""
# No `from __future__ import annotations`: Prefect validates the flow's parameters by their annotations.
import json
import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from prefect import flow

from pipeline import dedup
from pipeline.text import word_count
from pipeline.config import IngestConfig
from pipeline.plan import PROCESSED, chrome_path
from pipeline.warehouse import Warehouse, WarehouseError, writer_lock

from .ingest import STAGING, commit_task

_DOCUMENTS = """
    SELECT d.* EXCLUDE (drop_id, ingested_at, clean_text), d.clean_text AS text,
           (d.title IS NOT NULL)::TINYINT + (d.byline IS NOT NULL)::TINYINT
               + (d.published_at IS NOT NULL)::TINYINT AS n_metadata,
           coalesce(s.spans, []) AS spans
    FROM documents d LEFT JOIN (
        SELECT doc_id, list({'stage': stage, 'reason': reason, 'start': "start", 'end': "end", 'text': text,
                             'repeat_of_start': repeat_of_start, 'repeat_of_end': repeat_of_end}
                            ORDER BY "start", "end") AS spans
        FROM removed_spans WHERE drop_id = ? GROUP BY doc_id) s USING (doc_id)
    WHERE d.drop_id = ? ORDER BY d.doc_id"""


def staged_rows(batch: pa.RecordBatch, config: IngestConfig) -> pa.Table:
    """A batch of a drop's documents as staging rows (plan.PROCESSED), fingerprinted anew."""
    rows = pa.Table.from_batches([batch]).to_pylist()
    accepted = [r for r in rows if r["text"] is not None]
    if accepted:
        sizes, sigs, bands = dedup.fingerprint([r["text"] for r in accepted], config.dedup)
        for k, r in enumerate(accepted):
            r.update(n_shingles=int(sizes[k]), minhash=dedup.sig_to_bytes(sigs[k]), bands=bands[k],
                     word_count=sum(word_count(p) for p in r["text"].split("\n\n")))
    for r in rows:
        r["n_spans"] = len(r["spans"])
    return pa.Table.from_pylist(rows, schema=PROCESSED)


def stage_drop(old: Warehouse, drop_id: int, out_dir: Path, config: IngestConfig) -> list[str]:
    """Write one drop of the old warehouse as staging files (and its learnt chrome beside the first)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    reader = old.sql(_DOCUMENTS, [drop_id, drop_id]).to_arrow_reader(config.execution.batch_size)
    files = []
    for k, batch in enumerate(reader):
        path = out_dir / f"drop-{drop_id:06d}-{k:06d}.parquet"
        pq.write_table(staged_rows(batch, config), path)
        files.append(str(path))
    if not files:
        files.append(str(out_dir / f"drop-{drop_id:06d}-000000.parquet"))
        pq.write_table(PROCESSED.empty_table(), files[0])
    chrome = old.sql("SELECT source_name, key FROM chrome_keys WHERE drop_id = ?", [drop_id]).arrow().read_all()
    if chrome.num_rows:
        pq.write_table(chrome.cast(pa.schema([("source_name", pa.string()), ("key", pa.uint64())])),
                       chrome_path(files[0]))
    return files


@flow(name="newsfold-reindex", log_prints=False)
def reindex_flow(warehouse: str, into: str, config: IngestConfig = IngestConfig()) -> list[dict]:
    """Re-run every drop of `warehouse` into the new warehouse `into` with `config`'s dedup
    parameters; returns the new drops' summaries."""
    if not (Path(warehouse) / "catalog.sqlite").exists():
        raise WarehouseError(f"no warehouse at {warehouse}")
    if (Path(into) / "catalog.sqlite").exists():
        raise WarehouseError(f"{into} already holds a warehouse; reindex needs a new folder")
    if Path(into).resolve() == Path(warehouse).resolve():
        raise WarehouseError("reindex needs a new folder for --into, not the warehouse itself")
    summaries = []
    run_dir = Path(into) / STAGING / uuid.uuid4().hex
    with Warehouse(warehouse, read_only=True) as old, writer_lock(into, config.execution.wait_s):
        drops = old.sql("SELECT drop_id, label, inputs, started_at, n_files FROM drops ORDER BY drop_id").fetchall()
        try:
            for drop_id, label, inputs, started_at, n_files in drops:
                staging = stage_drop(old, drop_id, run_dir / str(drop_id), config)
                summaries.append(commit_task(staging, into, config, label, json.loads(inputs or "[]"), started_at,
                                             n_files))
                shutil.rmtree(run_dir / str(drop_id), ignore_errors=True)
        finally:
            shutil.rmtree(Path(into) / STAGING, ignore_errors=True)
    return summaries

