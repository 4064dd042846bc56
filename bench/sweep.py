"""Parameter sweep behind newsfold's dedup defaults (run via `bench/quality.py --sweep`).

Runs the pure pipeline directly (pipeline.drop.process_batch per batch, then
pipeline.dedup.assign over the drop, as the ingest flow does on an empty
warehouse) instead of the Prefect flow, so one configuration costs a clustering
pass, not a full ingest: documents are cleaned and fingerprinted once per
fingerprint configuration (shingle size, permutations, bands, lead bands) and
clustered once per threshold pair. Scores come from pipeline/evaluate.py, the
same code `newsfold eval` uses.
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from pipeline import dedup, evaluate, schema
from pipeline.config import IngestConfig
from pipeline.drop import process_batch


def process(root: Path, labels: list[evaluate.Label], params: dedup.DedupParams, batch_size: int = 500) -> pa.Table:
    files = sorted(str((root / lb.path).resolve()) for lb in labels)
    return pa.concat_tables([process_batch(files[i:i + batch_size], IngestConfig(dedup=params))
                             for i in range(0, len(files), batch_size)])


def predict(root: Path, processed: pa.Table, params: dedup.DedupParams) -> evaluate.Prediction:
    accepted = processed.filter(pc.equal(processed["status"], schema.ACCEPTED))
    result = dedup.assign(accepted, params, drop_id=1)
    key = {str(Path(p)): str(Path(p).relative_to(root.resolve())) for p in processed["source_path"].to_pylist()}
    pred = evaluate.Prediction(cluster={k: None for k in key.values()})
    by_doc = {r["doc_id"]: r for r in accepted.select(["doc_id", "source_path", "n_shingles", "minhash", "text"])
              .to_pylist()}
    for r in result.provenance.to_pylist():
        d = by_doc[r["doc_id"]]
        k = key[d["source_path"]]
        pred.cluster[k] = r["article_id"]
        pred.detail[k] = {"relation": r["relation"], "similarity": r["similarity"],
                          "containment": r["containment"]}
        pred.signatures[k] = (d["n_shingles"], dedup.sig_from_bytes(d["minhash"]))
        pred.kept_text[k] = d["text"]
    return pred


# The grid: fingerprint settings x verification thresholds. Each row is one curve point.
FINGERPRINTS = [
    dict(shingle_size=k, num_perm=128, bands=b, rows=128 // b) for k in (3, 4, 5, 7) for b in (32,)
] + [dict(shingle_size=5, num_perm=128, bands=b, rows=128 // b) for b in (16, 64)] + [
    dict(shingle_size=5, num_perm=64, bands=16, rows=4), dict(shingle_size=5, num_perm=256, bands=64, rows=4),
    dict(shingle_size=5, num_perm=128, bands=32, rows=4, lead_bands=0),
]
THRESHOLDS = [(j, c) for j in (0.4, 0.5, 0.6) for c in (0.7, 0.8, 0.9)]
# Common content (DedupParams.common_df) and lead windows, at the default fingerprint and thresholds.
EXTRAS = [dict(common_df=0), dict(common_df=3), dict(common_df=8), dict(lead_windows=1)]


def _scores(r: dict) -> str:
    kinds = {k: v["recall"] for k, v in r["kinds"].items() if v["recall"] is not None}
    worst = min(kinds, key=kinds.get)
    return (f"{r['precision']:>6.3f} {r['recall']:>6.3f} {r['f1']:>6.3f} {r['ari']:>6.3f} "
            f"{f'{worst} {kinds[worst]:.3f}':>20} {r['n_hard_negative_merges']:>9}")


def run(root: Path, batch_size: int = 500, fingerprints=None, thresholds=None, extras=None, out=print) -> int:
    root = Path(root)
    _, labels = evaluate.read_labels(root)
    base = dedup.DedupParams()
    out(f"{'shingle':>7} {'perm':>5} {'bands':>9} {'lead':>4} {'J':>5} {'C':>5} "
        f"{'prec':>6} {'recall':>6} {'F1':>6} {'ARI':>6} {'min kind recall':>20} {'hn merged':>9} {'s':>5}")
    default_processed = None
    for fp in fingerprints or FINGERPRINTS:
        params = replace(base, **fp)
        t0 = time.perf_counter()
        processed = process(root, labels, params, batch_size)
        if params == base:
            default_processed = processed
        t_proc = time.perf_counter() - t0
        for j, c in thresholds or THRESHOLDS:
            p = replace(params, jaccard_threshold=j, containment_threshold=c)
            t1 = time.perf_counter()
            r = evaluate.evaluate(labels, predict(root, processed, p))
            out(f"{p.shingle_size:>7} {p.num_perm:>5} {f'{p.bands}x{p.rows}':>9} {p.lead_bands:>4} {j:>5.2f} {c:>5.2f} "
                f"{_scores(r)} {t_proc + time.perf_counter() - t1:>5.1f}")
            t_proc = 0.0
    if default_processed is None:
        default_processed = process(root, labels, base, batch_size)
    out(f"\ncommon content and lead windows, default fingerprint and thresholds\n{'setting':>20} "
        f"{'prec':>6} {'recall':>6} {'F1':>6} {'ARI':>6} {'min kind recall':>20} {'hn merged':>9}")
    for over in extras or EXTRAS:
        p = replace(base, **over)
        processed = default_processed if "lead_windows" not in over else process(root, labels, p, batch_size)
        label = ", ".join(f"{k}={v}" for k, v in over.items())
        out(f"{label:>20} {_scores(evaluate.evaluate(labels, predict(root, processed, p)))}")
    return 0
