"""Stored signatures as datasketch LeanMinHash objects: same estimate, usable in MinHashLSH."""
import numpy as np
import pytest
from datasketch import MinHashLSH

from conftest import SEED
from pipeline import dedup
from pipeline.signatures import estimate_jaccard, text_signatures, to_lean_minhash


def test_datasketch_jaccard_agrees_with_newsfolds_estimate():
    base = SEED["001"].read_text(encoding="utf-8").split()
    texts = [" ".join(base), " ".join(base[: len(base) * 2 // 3]), " ".join(base[40:] + base[:40]),
             SEED["003"].read_text(encoding="utf-8")]
    sigs = text_signatures(texts, k=5, num_perm=128, seed=1)
    blobs = [dedup.sig_to_bytes(s) for s in sigs]
    lean = [to_lean_minhash(b, seed=1, num_perm=128) for b in blobs]
    for i in range(len(texts)):
        for j in range(len(texts)):
            ours = float(estimate_jaccard(dedup.sig_from_bytes(blobs[i]), dedup.sig_from_bytes(blobs[j])))
            assert lean[i].jaccard(lean[j]) == pytest.approx(ours, abs=1e-12)
    assert 0.3 < lean[0].jaccard(lean[1]) < 1.0 and lean[0].jaccard(lean[3]) < 0.1

    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    for k, m in enumerate(lean):
        lsh.insert(f"doc{k}", m)
    assert set(lsh.query(lean[0])) >= {"doc0", "doc1", "doc2"} and "doc3" not in lsh.query(lean[0])


def test_wrong_length_or_seed_is_refused():
    blob = np.arange(64, dtype="<u4").tobytes()
    with pytest.raises(ValueError, match="num_perm=128"):
        to_lean_minhash(blob, num_perm=128)
    with pytest.raises(ValueError, match="seeds"):
        to_lean_minhash(blob, seed=1).jaccard(to_lean_minhash(blob, seed=2))
