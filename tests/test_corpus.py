"""Tests for bench/corpus.py, the labelled news corpus generator (kept small: < 10 s)."""

import csv
import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path

import ftfy
import pytest

_PATH = Path(__file__).resolve().parents[1] / "bench" / "corpus.py"
# bench/ is not a package: load the module by path.  It must be in sys.modules before
# exec so that dataclasses can resolve the module's annotations.
_spec = importlib.util.spec_from_file_location("newsfold_bench_corpus", _PATH)
corpus = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = corpus
_spec.loader.exec_module(corpus)

N = 700     # enough for every kind to appear several times with the default shares


def shingles(text):
    w = re.findall(r"\w+", text.lower())
    return {tuple(w[i:i + 5]) for i in range(len(w) - 4)}


def jaccard(a, b):
    a, b = shingles(a), shingles(b)
    return len(a & b) / len(a | b)


@pytest.fixture(scope="module")
def records():
    return list(corpus.iter_records(N, seed=7))


@pytest.fixture(scope="module")
def by_id(records):
    return {d.doc_id: d for d in records}


def test_every_kind_appears(records):
    counts = Counter(d.kind for d in records)
    assert set(counts) == set(corpus.KINDS)
    assert 0.3 < counts["original"] / N < 0.5


def test_deterministic():
    a = [(d.doc_id, d.text, d.cluster_id, d.kind) for d in corpus.iter_records(80, seed=3)]
    b = list(corpus.iter_documents(80, seed=3, copy_share=0.6))
    assert a == [(d.doc_id, d.text, d.cluster_id, d.kind) for d in corpus.iter_records(80, seed=3)]
    assert a != [(d.doc_id, d.text, d.cluster_id, d.kind) for d in corpus.iter_records(80, seed=4)]
    assert b == list(corpus.iter_documents(80, seed=3, copy_share=0.6))


def test_iter_documents_copy_share():
    docs = list(corpus.iter_documents(300, seed=1, copy_share=0.0))
    assert {k for _, _, _, k in docs} == {"original"}
    assert len({c for _, _, c, _ in docs}) == 300
    kinds = Counter(k for _, _, _, k in corpus.iter_documents(300, seed=1, copy_share=0.5))
    assert 0.35 < kinds["original"] / 300 < 0.65


def test_labels_are_consistent(records, by_id):
    cluster_of_original = {}
    for d in records:
        if d.kind == "original":
            assert d.source_id == ""
            assert d.cluster_id not in cluster_of_original.values()
            cluster_of_original[d.doc_id] = d.cluster_id
    for d in records:
        if d.kind in corpus.COPY_KINDS:
            assert by_id[d.source_id].kind == "original"
            assert d.cluster_id == cluster_of_original[d.source_id]
        elif d.kind in corpus.HARD_NEGATIVE_KINDS:
            # Hard negatives are clusters of their own.
            assert sum(x.cluster_id == d.cluster_id for x in records) == 1
            if d.kind != "hn_shared_footer":
                assert d.source_id in by_id
    assert len({d.doc_id for d in records}) == N


def test_generate_corpus_files_and_csv(tmp_path):
    out = corpus.generate_corpus(tmp_path / "drop", n_docs=120, seed=2,
                                 kinds={"original": 0.5, "exact": 0.25, "update": 0.25})
    with open(out / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["path", "cluster_id", "kind", "source_path"]
    assert len(rows) == 120
    assert sorted(p.name for p in (out / "docs").iterdir()) == sorted(Path(r["path"]).name for r in rows)
    by_path = {r["path"]: r for r in rows}
    assert {r["kind"] for r in rows} == {"original", "exact", "update"}
    for r in rows:
        text = (out / r["path"]).read_bytes()
        if r["kind"] == "exact":
            assert text == (out / r["source_path"]).read_bytes()
            assert r["cluster_id"] == by_path[r["source_path"]]["cluster_id"]
        elif r["kind"] == "update":  # a longer version of the same article is a copy of it
            assert r["cluster_id"] == by_path[r["source_path"]]["cluster_id"]
            assert len(text) > 1.5 * len((out / r["source_path"]).read_bytes())
        else:
            assert r["source_path"] == ""


def test_kinds_argument_validation(tmp_path):
    with pytest.raises(ValueError):
        corpus.generate_corpus(tmp_path, n_docs=1, kinds={"nonsense": 1.0})


def test_base_articles_are_distinct(records):
    sets = [shingles(d.body) for d in records if d.kind == "original"][:60]
    worst = max(len(a & b) / len(a | b) for i, a in enumerate(sets) for b in sets[i + 1:])
    assert worst < 0.1


def test_article_lengths(records):
    lengths = [len(d.body.split()) for d in records if d.kind == "original"]
    assert min(lengths) >= 400 and max(lengths) <= 1600
    short = [len(d.body.split()) for d in records if d.kind == "hn_shared_footer"]
    assert short and 150 <= min(short) and max(short) <= 350


def test_hard_negatives_sharing_quotes_stay_apart(records, by_id):
    pairs = [(d, by_id[d.source_id]) for d in records if d.kind == "hn_shared_quotes"]
    assert pairs
    for d, src in pairs:
        j = jaccard(d.body, src.body)
        assert 0.05 < j < 0.3
        assert "“" in d.body                      # it really quotes the source verbatim
        assert any(p in src.body for p in d.body.split("\n\n") if "“" in p)


def test_edited_copies_stay_close(records, by_id):
    pairs = [(d, by_id[d.source_id]) for d in records if d.kind == "edited"]
    assert pairs
    for d, src in pairs:
        assert d.body != src.body
        assert jaccard(d.body, src.body) > 0.5


def test_update_contains_original(records, by_id):
    for d in (d for d in records if d.kind == "update"):
        src = by_id[d.source_id]
        assert d.body.startswith(src.body)
        assert 1.7 < len(d.body) / len(src.body) < 2.6


def test_shared_footer_chrome_is_long(records):
    docs = [d for d in records if d.kind == "hn_shared_footer" and d.source_id]
    assert docs
    for d in docs:
        assert len(d.text.split()) > 2 * len(d.body.split())


def test_copy_surfaces(records, by_id):
    for d in records:
        src = by_id.get(d.source_id)
        if d.kind == "exact":
            assert d.text == src.text
        elif d.kind == "syndicated":
            assert d.text != src.text and d.body == src.body
        elif d.kind == "unicode":
            assert "\u00a0" in d.text and "“" not in d.text
            assert max(len(line) for line in d.text.splitlines()) <= 80 + 30
        elif d.kind == "repeated":
            assert d.text.count(src.body[:200]) == 2
        elif d.kind == "reordered":
            assert sorted(d.body.split("\n\n")) == sorted(src.body.split("\n\n"))
            assert d.body != src.body
        elif d.kind == "teaser":
            assert len(d.body) < 0.6 * len(src.body)
        elif d.kind == "ocr":
            assert re.search(r"[a-z]-\n[a-z]|[a-z]- [a-z]", d.text)


def test_mojibake_is_repaired_by_ftfy(records):
    docs = [d for d in records if d.kind == "flattened_mojibake"]
    assert docs
    for d in docs:
        assert "\n" not in d.text.strip()
        assert "â€" in d.text or "Ã" in d.text
        fixed = " ".join(ftfy.fix_text(d.text).split())
        assert "â€" not in fixed
        assert ftfy.fix_text(" ".join(d.body.split())) in fixed


def test_mojibake_function():
    s = "Zoë’s café costs €5 — “fine”"
    bad = corpus.mojibake(s)
    assert bad != s and "â€" in bad
    assert ftfy.fix_text(bad) == ftfy.fix_text(s)


def test_cli(tmp_path):
    assert corpus.main([str(tmp_path / "cli"), "--docs", "15", "--seed", "1"]) == 0
    assert len(list((tmp_path / "cli" / "docs").iterdir())) == 15


def test_clean_text_size_ingests_the_documents_not_the_labels(tmp_path):
    # bench/clean_text_size.py ingested the corpus folder: labels.csv became 2,000 rejected records
    from pipeline import sources

    spec = importlib.util.spec_from_file_location("newsfold_bench_clean_text_size", _PATH.with_name("clean_text_size.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    corpus.generate_corpus(tmp_path / "corpus", 12, 0)
    found = sources.discover([bench.corpus_documents(tmp_path / "corpus")])
    assert len(found) == 12 and all(p.suffix == ".txt" for p in found)
