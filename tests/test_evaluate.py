"""The evaluation harness: exact scores on hand-checked cases, and `newsfold eval` end to end."""
import csv
import json

import pytest

from flows.cli import main
from pipeline import evaluate
from pipeline.evaluate import Label, Prediction


@pytest.mark.parametrize("truth, pred, ari", [
    # reference values from scikit-learn's adjusted_rand_score documentation
    ([0, 0, 1, 1], [1, 1, 0, 0], 1.0),
    ([0, 0, 1, 2], [0, 0, 1, 1], 0.5714285714285714),
    ([0, 0, 1, 1], [0, 1, 0, 1], -0.5),
])
def test_adjusted_rand_index(truth, pred, ari):
    assert evaluate.pair_scores(truth, pred)["ari"] == pytest.approx(ari)


def test_pairwise_precision_recall():
    # truth: {a,b,c} {d}; pred: {a,b} {c,d} -> 3 true pairs, 2 predicted, 1 correct
    s = evaluate.pair_scores(list("xxxy"), list("PPQQ"))
    assert (s["true_pairs"], s["predicted_pairs"], s["correct_pairs"]) == (3, 2, 1)
    assert s["precision"] == pytest.approx(0.5) and s["recall"] == pytest.approx(1 / 3)


def test_evaluate_counts_found_missed_and_false_merges():
    labels = [Label("o1", "1", "original", ""), Label("c1", "1", "exact", "o1"), Label("t1", "1", "teaser", "o1"),
              Label("o2", "2", "original", ""), Label("u2", "3", "hn_shared_quotes", "o2"), Label("r", "4", "original", "")]
    pred = Prediction(cluster={"o1": "A", "c1": "A", "t1": "T", "o2": "B", "u2": "B", "r": None})
    r = evaluate.evaluate(labels, pred)
    assert r["kinds"]["exact"]["recall"] == 1.0 and r["kinds"]["teaser"]["recall"] == 0.0
    assert r["kinds"]["hn_shared_quotes"]["false_merges"] == 1 and r["n_hard_negative_merges"] == 1
    assert r["n_missed_copies"] == 1 and r["worst_missed"][0]["path"] == "t1"
    assert r["worst_false_merges"][0]["article"] == "B"
    assert r["n_predicted_clusters"] == 4          # A, T, B and the rejected one alone


def test_repeat_check_reads_kept_text():
    body = " ".join(f"word{i}" for i in range(200))
    raw = f"Title\n{body}\n{body}\n"
    assert evaluate.repeat_share(raw) > 0.4
    second = raw.index(body, len("Title\n") + 1)
    assert evaluate.repeat_share(evaluate.kept_text(raw, [(second, second + len(body))])) == 0.0


def test_baseline_clusters_raw_near_copies_only():
    a = " ".join(f"alpha{i}" for i in range(300))
    b = " ".join(f"beta{i}" for i in range(300))
    c = evaluate.baseline_clusters({"a": a, "a2": a + " tail", "b": b})
    assert c["a"] == c["a2"] != c["b"]


def test_read_labels_rejects_a_bad_header(tmp_path):
    (tmp_path / "labels.csv").write_text("file,cluster\nx,1\n")
    with pytest.raises(ValueError, match="missing column"):
        evaluate.read_labels(tmp_path)


@pytest.mark.usefixtures("prefect_harness")
def test_cli_eval_on_a_small_corpus(tmp_path, capsys):
    from test_corpus import corpus

    out = corpus.generate_corpus(tmp_path / "c", 80, seed=5)
    assert main(["eval", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    with open(out / "labels.csv") as f:
        n = sum(1 for _ in csv.DictReader(f))
    assert res["newsfold"]["n_docs"] == n == res["baseline"]["n_docs"]
    assert res["newsfold"]["kinds"]["exact"]["recall"] == 1.0
    assert res["newsfold"]["f1"] > res["baseline"]["f1"]
    assert main(["eval", str(out), "--no-baseline"]) == 0
    text = capsys.readouterr().out
    assert "pairwise precision" in text and "baseline" not in text
