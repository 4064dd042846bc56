"""Evaluate dedup quality: ingest a labelled corpus with the real ingest flow into a
throwaway warehouse, read back what it decided, and score it (pipeline/evaluate.py)
next to the plain datasketch baseline on the same files.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from pipeline import evaluate, sources
from pipeline.config import IngestConfig
from pipeline.dedup import sig_from_bytes
from pipeline.warehouse import Warehouse


def _read_prediction(warehouse: Path, files: dict[str, str], want_text: set[str]) -> evaluate.Prediction:
    """The warehouse's decisions keyed by label path (`files`: label path -> absolute
    path). `want_text`: label paths whose kept text (raw text minus removed spans) the
    repeat check needs."""
    key_of = {f: p for p, f in files.items()}
    with Warehouse(warehouse, read_only=True) as wh:
        docs = wh.sql("""
            SELECT d.doc_id, d.source_path, d.status, d.reject_reason, p.article_id, p.relation,
                   p.similarity, p.containment, s.n_shingles, s.minhash
            FROM documents d LEFT JOIN provenance p USING (doc_id) LEFT JOIN signatures s USING (doc_id)""").fetchall()
        spans = wh.sql("SELECT doc_id, start, \"end\" FROM removed_spans").fetchall()
    pred = evaluate.Prediction(cluster={})
    path_of_doc = {}
    for doc_id, src, status, reason, art, relation, sim, cont, n_sh, sig in docs:
        key = key_of.get(src)
        if key is None:
            continue
        path_of_doc[doc_id] = key
        pred.cluster[key] = art
        pred.detail[key] = ({"relation": relation, "similarity": sim, "containment": cont} if art
                            else {"rejected": reason or status})
        if sig is not None:
            pred.signatures[key] = (n_sh, sig_from_bytes(sig))
    removed: dict[str, list[tuple[int, int]]] = {}
    for doc_id, start, end in spans:
        removed.setdefault(doc_id, []).append((start, end))
    for doc_id, key in path_of_doc.items():
        if key in want_text and pred.cluster.get(key):
            raw = sources.read_document(Path(files[key])).raw_text
            pred.kept_text[key] = evaluate.kept_text(raw, removed.get(doc_id, []))
    return pred


def evaluate_labelled(labelled: str | Path, config: IngestConfig = IngestConfig(),
                      warehouse: str | Path | None = None, baseline: bool = True, worst: int = 5) -> dict[str, dict]:
    """{"newsfold": scores, "baseline": scores} for a labels.csv (or a folder holding one).

    The corpus is ingested as one drop into `warehouse` (kept for inspection) or into
    a temporary folder that is removed afterwards.
    """
    from flows.ingest import ingest_flow

    root, labels = evaluate.read_labels(labelled)
    files = {lb.path: str((root / lb.path).resolve()) for lb in labels}
    absent = [p for p, f in files.items() if not Path(f).is_file()]
    if absent:
        raise FileNotFoundError(f"labelled document not found: {root / absent[0]}"
                                + (f" (and {len(absent) - 1} more)" if len(absent) > 1 else ""))
    want_text = {lb.path for lb in labels if lb.kind == evaluate.REPEATED}
    with tempfile.TemporaryDirectory(prefix="newsfold-eval-") as tmp:
        wh = Path(warehouse) if warehouse else Path(tmp) / "warehouse"
        ingest_flow(paths=list(files.values()), warehouse=str(wh), label="eval", config=config)
        pred = _read_prediction(wh, files, want_text)
    results = {"newsfold": evaluate.evaluate(labels, pred, worst)}
    if baseline:
        texts = {p: sources.decode(Path(f).read_bytes())[0] for p, f in files.items()}
        results["baseline"] = evaluate.evaluate(
            labels, evaluate.Prediction(cluster=evaluate.baseline_clusters(texts)), worst)
    return results
