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


def test_optional_title_and_event_columns(tmp_path):
    # the real sets' converter (bench/real_folding.py) writes a title and an event per document
    (tmp_path / "labels.csv").write_text("path,cluster_id,kind,source_path,title,event\n"
                                         "a.txt,1,original,,Storm hits coast,e1\n"
                                         "b.txt,1,copy,a.txt,Storm hits the coast,e1\n"
                                         "c.txt,2,original,,Minister resigns,e2\n")
    _, labels = evaluate.read_labels(tmp_path)
    assert [lb.event for lb in labels] == ["e1", "e1", "e2"] and labels[1].title == "Storm hits the coast"
    r = evaluate.evaluate(labels, Prediction(cluster={"a.txt": "A", "b.txt": "B", "c.txt": "A"}))
    assert r["cross_event_merges"] == {"articles": 1, "pairs": 1}
    assert r["worst_missed"][0]["source_title"] == "Storm hits coast"
    assert {d["title"] for d in r["worst_false_merges"][0]["docs"]} == {"Storm hits coast", "Minister resigns"}
    report = evaluate.format_report({"newsfold": r})
    assert "merges across events" in report and '"Minister resigns"' in report
    # without an event column there is no such score
    assert evaluate.evaluate(labels[:0] + [Label("x", "1", "original", "")], Prediction(cluster={})
                             )["cross_event_merges"] is None


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


def _bench(name: str):
    """A bench/ module loaded by path (bench/ is not a package)."""
    import importlib.util
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(root / "bench")]
    spec = importlib.util.spec_from_file_location(f"newsfold_bench_{name}", root / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_real_sets_converter_flattens_pages_and_groups_copies(tmp_path):
    real = _bench("real_folding")
    html = (b"<html><head><title>T</title><style>p{}</style></head><body><nav><a>Home</a> <a>World</a></nav>"
            b"<h1>Storm hits coast</h1><script>var x=1;</script><p>First <b>bold</b> line.</p><p>Second.</p>"
            b"<footer>(c) Site</footer></body></html>")
    assert real.flatten_html(html) == "Home World\nStorm hits coast\nFirst bold line.\nSecond.\n(c) Site\n"
    root = real._components(list("abcde"), [("b", "a"), ("c", "b"), ("e", "d")])
    assert root == {"a": "a", "b": "a", "c": "a", "d": "d", "e": "d"}
    # the converter's output is what `newsfold eval` reads
    folder = real._write(tmp_path / "set", [
        {"path": "x/a.txt", "text": "A\n", "cluster_id": "x/a.txt", "kind": "original", "source_path": "",
         "title": "A", "event": "1"},
        {"path": "y/b.txt", "text": "B\n", "cluster_id": "x/a.txt", "kind": "copy", "source_path": "x/a.txt",
         "title": "B", "event": "1"}])
    base, labels = evaluate.read_labels(folder)
    assert (base / labels[1].path).read_text() == "B\n" and labels[1].source == "x/a.txt"


def test_the_benches_flatten_the_decoded_page_as_a_browser_shows_it():
    extraction = _bench("extraction")
    # a page that declares gb2312 but reaches the flattener decoded (as newsfold decodes files):
    # lxml given the UTF-8 bytes re-decoded them by the meta charset and lost the text
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"/></head>'
            '<body><h1>人工智能迈上新台阶</h1><p>DeepMind的新电脑已可利用记忆自学。</p></body></html>')
    assert extraction.flatten_html(page) == "人工智能迈上新台阶\nDeepMind的新电脑已可利用记忆自学。"
    # without a meta charset lxml read bytes as Latin-1: curly quotes became mojibake
    assert extraction.flatten_html("<p>New Zealand’s “whale” whisperers</p>") == "New Zealand’s “whale” whisperers"
    # an element's text keeps its leading space ("Tracker was", not "Trackerwas")
    assert extraction.flatten_html("<p><b>The Tracker</b><span> was created</span> by us.</p>") == \
        "The Tracker was created by us."
    # real_folding flattens with the same flattener, from the file's bytes
    real = _bench("real_folding")
    assert real.flatten_html("<p>Zoë’s <i> café</i></p>".encode("utf-8")) == "Zoë’s café\n"
