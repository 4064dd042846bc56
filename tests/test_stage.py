"""The stage contract: each stage returns its batch with stats that add up, isolation per
document, and the flow's summary is the sum of the batches' stats."""
import shutil

import pytest

from conftest import SEED
from pipeline import clean, dedup, drop, repeats, sources
from pipeline.config import IngestConfig
from pipeline.stage import (ChromeStage, CleanStage, FingerprintStage, PipelineStats, RepeatsStage, StageStats,
                            run_stages)

P = dedup.DedupParams()


def seed_docs():
    return [sources.read_document(p) for p in SEED.values()]


def all_stages():
    return [ChromeStage(), CleanStage(), RepeatsStage(), FingerprintStage(P)]


def test_each_stage_returns_the_batch_with_stats_that_add_up():
    docs = seed_docs()
    stats = PipelineStats()
    out = run_stages(docs, all_stages(), stats)
    assert out is docs and list(stats) == ["chrome", "clean", "repeats", "fingerprint"]
    for name, s in stats.items():
        assert s.documents_in == s.documents_out + sum(s.rejected.values()), name
        assert s.seconds >= 0.0
    # each stage's output is the next one's input
    names = list(stats)
    for a, b in zip(names, names[1:]):
        assert stats[a].documents_out == stats[b].documents_in
    assert stats["chrome"].documents_in == len(docs)
    # the spans the stages report are the spans the documents carry, by reason
    by_reason: dict[str, int] = {}
    for d in docs:
        for r in d.removed:
            by_reason[r.reason] = by_reason.get(r.reason, 0) + 1
    assert sum(stats.values(), StageStats()).spans_removed == by_reason and by_reason
    assert sum(stats["repeats"].spans_removed.values()) == sum(r.stage == "repeats" for d in docs for r in d.removed)
    # the fingerprint stage leaves each accepted document its signature
    assert all(d.minhash is not None and d.n_shingles > 0 for d in docs if d.accepted)


def test_stats_add_per_stage_and_survive_a_receipt():
    a = PipelineStats({"clean": StageStats(3, 2, {"too_short": 1}, {"nav": 4}, 1.5)})
    b = PipelineStats({"clean": StageStats(2, 2, {}, {"nav": 1, "share": 2}, 0.5),
                       "repeats": StageStats(2, 2, {}, {"repeat": 1}, 0.25)})
    total = a + b
    assert total["clean"] == StageStats(5, 4, {"too_short": 1}, {"nav": 5, "share": 2}, 2.0)
    assert total["repeats"] == b["repeats"] and list(total) == ["clean", "repeats"]
    assert total.seconds() == {"clean": 2.0, "repeats": 0.25}
    assert PipelineStats.from_dict(total.to_dict()) == total
    assert a["clean"].seconds == 1.5  # adding does not change its terms


def test_a_document_a_stage_fails_on_is_rejected_alone_and_counted(monkeypatch):
    docs = seed_docs()
    bad = docs[1].doc_id
    real = clean.clean_document

    def fragile(doc, min_words=clean.MIN_ARTICLE_WORDS):
        if doc.doc_id == bad:
            raise ValueError("boom")
        return real(doc, min_words)

    monkeypatch.setattr(clean, "clean_document", fragile)
    out, stats = CleanStage()(docs)
    assert [d.reject_reason for d in out if d.doc_id == bad] == [drop.INTERNAL_ERROR]
    assert "clean: ValueError: boom" in out[1].error
    assert sum(d.accepted for d in out) == len(docs) - 1
    assert stats.rejected == {drop.INTERNAL_ERROR: 1} and stats.documents_out == len(docs) - 1


def test_process_batch_reports_the_stages_seconds():
    timings: dict[str, float] = {}
    drop.process_batch(list(SEED.values()), IngestConfig(dedup=P), timings=timings)
    assert list(timings) == ["read", "chrome", "clean", "repeats", "fingerprint", "rows"]


@pytest.mark.usefixtures("prefect_harness")
def test_the_flows_summary_is_the_sum_of_the_batches_stats(tmp_path, monkeypatch):
    import flows.ingest as ingest

    inbox = tmp_path / "in"
    inbox.mkdir()
    for p in SEED.values():
        shutil.copy(p, inbox / p.name)
    receipts = []
    real = ingest.stage_batch

    def recording(*args, **kwargs):
        receipt = real(*args, **kwargs)
        receipts.append(PipelineStats.from_dict(receipt["stats"]))
        return receipt

    monkeypatch.setattr(ingest, "stage_batch", recording)
    summary = ingest.ingest_flow([str(inbox)], warehouse=str(tmp_path / "wh"),
                                config=IngestConfig().with_values(batch_size=2, workers=1))
    assert len(receipts) == 3  # five files, two per batch
    total = sum(receipts, PipelineStats())
    assert PipelineStats.from_dict(summary["process_stats"]) == total
    assert summary["process_cpu_s"] == {k: round(v, 2) for k, v in total.seconds().items()}
    assert total["read"].documents_in == summary["n_documents"] == len(SEED)
    assert sum(sum(s.spans_removed.values()) for s in total.values()) == summary["n_spans_removed"]


def test_fingerprint_of_paragraphs_folded_one_by_one_is_that_of_the_text():
    # FingerprintStage folds a paragraph at a time (and reuses the repeats stage's folds):
    # fold must keep no context across the "\n\n" between paragraphs
    import random

    from pipeline.model import Doc, Unit
    from pipeline.text import fold

    rnd = random.Random(11)
    alphabet = ("aZ ß.Σς\u0301\u0308ﬁ①ǅİıſK“”—\u00ad\u200b\ufeff\u1d2cꭰᏸ𝚺東ข\ud800\n" + "".join(map(chr, range(0x80, 0x100))))
    docs = []
    for k in range(400):
        paras = ["".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 12))) for _ in range(rnd.randrange(1, 5))]
        docs.append(Doc(f"d{k}", "p", "s", "h", 0, units=[Unit(0, 0, p) for p in paras]))
    stage = FingerprintStage(P)
    for d in docs:
        assert stage._folded_text(d) == fold(d.text), repr(d.text)
    folded: dict[str, str] = {}
    for d in docs:
        for u in d.units:
            repeats.paragraph_key(u.text, folded)
    stage = FingerprintStage(P, folded)
    assert all(stage._folded_text(d) == fold(d.text) for d in docs)
    texts = [d.text for d in docs]
    by_folds = dedup.fingerprint(texts, P, folded_texts=[stage._folded_text(d) for d in docs])
    for a, b in zip(by_folds, dedup.fingerprint(texts, P)):
        assert (a == b).all()
