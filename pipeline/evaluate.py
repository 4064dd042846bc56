"""Dedup quality against a labelled corpus: pairwise and cluster scores per copy kind.

Pure: it takes labels and a prediction (which document went into which
article) and returns numbers; running the ingest that produces the prediction
is the caller's job (`flows/evaluate.py`, `bench/quality.py`).

Labels: a CSV `labels.csv` with header `path,cluster_id,kind,source_path`, as
`bench/corpus.py` writes it (see the README). `path` and `source_path` are
relative to the CSV's folder; documents with the same `cluster_id` are copies
of one article; `kind` is `original`, a copy kind, or a hard negative
(`hn_*`, its own cluster: it must not be folded with its source). Optional
columns: `title` (shown in the lists of false merges and misses) and `event`
(a coarser truth, e.g. the news event: an article holding documents of two
events is a merge across events, the one mistake that must never happen).
`bench/real_folding.py --write-labels DIR` converts the real labelled sets to
this format.

Scores
- Pairwise precision / recall / F1 over all document pairs: a pair is positive
  when both documents carry the same cluster_id, predicted positive when both
  landed in the same article. Counted from the contingency table, not by
  enumerating pairs.
- Adjusted Rand index (Hubert & Arabie) from the same contingency table.
- Per kind: a copy is *found* when it shares an article with its source (the
  `original` it was made from); recall of a kind is found / copies. A document
  is *falsely merged* when its article also holds a document of another
  cluster; for hard negatives that is the number that must be 0.
- Self-repeated bodies (kind `repeated`) are *collapsed* when the text kept
  after cleaning repeats almost none of its word 8-grams.
A document the pipeline rejected is a singleton of its own.

The plain baseline (`baseline_clusters`) is what one would write first:
datasketch MinHash of the raw text's word 5-grams, MinHashLSH at threshold 0.8,
no cleaning and no verification, clusters = connected components of the LSH
candidate pairs.
"""
from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from math import comb
from pathlib import Path

import numpy as np

ORIGINAL = "original"
HARD_NEGATIVE_PREFIX = "hn_"
REPEATED = "repeated"
# A text whose word 8-grams repeat more than this share of the time still carries a
# repeated block: one body twice gives ~0.5, ordinary prose well under 0.02.
REPEAT_SHARE_MAX = 0.1


@dataclass(frozen=True)
class Label:
    path: str          # relative to the labels file's folder
    cluster: str
    kind: str
    source: str        # path of the document it was made from ("" for none)
    title: str = ""    # for the reports
    event: str = ""    # coarser truth: documents of different events must never share an article


@dataclass
class Prediction:
    """What a deduplicator did with the labelled documents (keyed by label path)."""

    cluster: dict[str, str | None]                        # path -> article / cluster id; None = rejected
    detail: dict[str, dict] = field(default_factory=dict)  # path -> relation, similarity, reason, ...
    kept_text: dict[str, str] = field(default_factory=dict)  # path -> text after cleaning
    signatures: dict[str, tuple[int, np.ndarray]] = field(default_factory=dict)  # path -> (n_shingles, minhash)


def read_labels(path: str | Path) -> tuple[Path, list[Label]]:
    """(folder the paths are relative to, labels) from a labels.csv or a folder holding one."""
    p = Path(path)
    csv_path = p / "labels.csv" if p.is_dir() else p
    if not csv_path.is_file():
        raise FileNotFoundError(f"no labels file: {csv_path}")
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"path", "cluster_id", "kind"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{csv_path}: missing column(s) {', '.join(sorted(missing))} "
                             "(expected path,cluster_id,kind,source_path)")
        labels = [Label(r["path"], r["cluster_id"], r["kind"], r.get("source_path") or "", r.get("title") or "",
                        r.get("event") or "") for r in reader]
    seen = Counter(lb.path for lb in labels)
    dup = [p for p, n in seen.items() if n > 1]
    if dup:
        raise ValueError(f"{csv_path}: path listed twice: {dup[0]}")
    return csv_path.parent, labels


# --- scores ----------------------------------------------------------------------------

def _pair_sum(counts) -> int:
    return sum(comb(int(n), 2) for n in counts)


def pair_scores(truth: list, pred: list) -> dict[str, float]:
    """Pairwise precision, recall, F1 and adjusted Rand index of two labelings of the same items."""
    n = len(truth)
    cells = Counter(zip(truth, pred))
    tp = _pair_sum(cells.values())
    same_truth = _pair_sum(Counter(truth).values())
    same_pred = _pair_sum(Counter(pred).values())
    precision = tp / same_pred if same_pred else 1.0
    recall = tp / same_truth if same_truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    total = comb(n, 2)
    expected = same_truth * same_pred / total if total else 0.0
    top = (same_truth + same_pred) / 2
    ari = (tp - expected) / (top - expected) if top != expected else 1.0
    return {"precision": precision, "recall": recall, "f1": f1, "ari": ari,
            "true_pairs": same_truth, "predicted_pairs": same_pred, "correct_pairs": tp}


def repeat_share(text: str, k: int = 8) -> float:
    """Share of the text's word k-grams that already occurred earlier in it."""
    words = text.casefold().split()
    grams = [tuple(words[i:i + k]) for i in range(len(words) - k + 1)]
    return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


def kept_text(raw: str, spans: list[tuple[int, int]]) -> str:
    """The raw text with the removed spans (raw offsets) cut out."""
    out, pos = [], 0
    for start, end in sorted(spans):
        if start > pos:
            out.append(raw[pos:start])
        pos = max(pos, end)
    out.append(raw[pos:])
    return "\n".join(out)


def _estimate(a: tuple[int, np.ndarray], b: tuple[int, np.ndarray]) -> tuple[float, float]:
    """(estimated Jaccard, share of a's shingles in b) from MinHash signatures: containment from
    the minima, as dedup.compare (in the permutations where a's minimum is the smaller, the share
    where the two are equal)."""
    (_, sa), (_, sb) = a, b
    if len(sa) != len(sb):
        return float("nan"), float("nan")
    equal = sa == sb
    a_first = int(np.count_nonzero(sa <= sb))
    return float(np.mean(equal)), (int(np.count_nonzero(equal)) / a_first if a_first else 0.0)


def evaluate(labels: list[Label], pred: Prediction, worst: int = 5) -> dict:
    """All scores of one prediction; see the module docstring for the definitions."""
    paths = [lb.path for lb in labels]
    by_path = {lb.path: lb for lb in labels}
    # rejected or unknown documents are singletons
    clusters = {p: (pred.cluster.get(p) or f"__single__{p}") for p in paths}
    scores = pair_scores([by_path[p].cluster for p in paths], [clusters[p] for p in paths])

    members: dict[str, list[str]] = defaultdict(list)
    for p in paths:
        members[clusters[p]].append(p)
    # per predicted cluster: how many documents of each true cluster
    mix = {c: Counter(by_path[p].cluster for p in ps) for c, ps in members.items()}
    kinds, missed = _kind_scores(labels, by_path, clusters, mix, pred)
    merges = _false_merges(mix, members, by_path, pred)

    repeated = [lb.path for lb in labels if lb.kind == REPEATED]
    collapsed = None
    if repeated and pred.kept_text:
        collapsed = sum(1 for p in repeated if p in pred.kept_text
                        and repeat_share(pred.kept_text[p]) <= REPEAT_SHARE_MAX)
    hn_merges = sum(v["false_merges"] for k, v in kinds.items() if k.startswith(HARD_NEGATIVE_PREFIX))
    return {
        **scores,
        "n_docs": len(paths),
        "n_true_clusters": len(set(by_path[p].cluster for p in paths)),
        "n_predicted_clusters": len(members),
        "n_false_merge_clusters": len(merges),
        "n_missed_copies": len(missed),
        "n_hard_negative_merges": hn_merges,
        "cross_event_merges": _cross_event_merges(labels, by_path, members),
        "repeated": {"n": len(repeated), "collapsed": collapsed},
        "kinds": kinds,
        "worst_false_merges": merges[:worst],
        "worst_missed": missed[:worst],
    }


def _kind_scores(labels: list[Label], by_path: dict[str, Label], clusters: dict[str, str],
                 mix: dict[str, Counter], pred: Prediction) -> tuple[dict[str, dict], list[dict]]:
    """Per kind: documents, copies, copies found with their source, false merges; and the
    missed copies, highest estimated Jaccard with their source first."""
    kinds: dict[str, dict] = {}
    missed = []
    for lb in labels:
        k = kinds.setdefault(lb.kind, {"n": 0, "copies": 0, "found": 0, "false_merges": 0})
        k["n"] += 1
        c = clusters[lb.path]
        if len(mix[c]) > 1:
            k["false_merges"] += 1
        if lb.kind != ORIGINAL and not lb.kind.startswith(HARD_NEGATIVE_PREFIX) and lb.source in by_path:
            k["copies"] += 1
            if clusters[lb.source] == c:
                k["found"] += 1
            else:
                j, cont = (_estimate(pred.signatures[lb.path], pred.signatures[lb.source])
                           if lb.path in pred.signatures and lb.source in pred.signatures else (None, None))
                missed.append({"path": lb.path, "kind": lb.kind, "source": lb.source, "jaccard": j,
                               "containment": cont, **pred.detail.get(lb.path, {}),
                               **({"title": lb.title, "source_title": by_path[lb.source].title} if lb.title else {})})
    for k in kinds.values():
        k["recall"] = k["found"] / k["copies"] if k["copies"] else None
    missed.sort(key=lambda m: (-(m["jaccard"] or 0.0), m["path"]))
    return kinds, missed


def _false_merges(mix: dict[str, Counter], members: dict[str, list[str]], by_path: dict[str, Label],
                  pred: Prediction) -> list[dict]:
    """Predicted clusters holding more than one true cluster, worst (most wrong pairs) first."""
    merges = []
    for c, counts in mix.items():
        if len(counts) < 2:
            continue
        wrong = _pair_sum([sum(counts.values())]) - _pair_sum(counts.values())
        docs = [{"path": p, "kind": by_path[p].kind, "cluster": by_path[p].cluster,
                 **pred.detail.get(p, {}), **({"title": by_path[p].title} if by_path[p].title else {})}
                for p in members[c]]
        merges.append({"article": c, "wrong_pairs": wrong, "clusters": len(counts), "docs": docs})
    merges.sort(key=lambda m: (-m["wrong_pairs"], m["article"]))
    return merges


def _cross_event_merges(labels: list[Label], by_path: dict[str, Label],
                        members: dict[str, list[str]]) -> dict | None:
    """Predicted articles holding documents of more than one event, and the wrong pairs in
    them; None when the labels name no events."""
    if not any(lb.event for lb in labels):
        return None
    mixed = [Counter(by_path[p].event for p in ps) for ps in members.values()]
    mixed = [m for m in mixed if len(m) > 1]
    return {"articles": len(mixed),
            "pairs": sum(_pair_sum([sum(m.values())]) - _pair_sum(m.values()) for m in mixed)}


# --- the plain baseline ----------------------------------------------------------------

def baseline_clusters(texts: dict[str, str], threshold: float = 0.8, num_perm: int = 128,
                      k: int = 5) -> dict[str, str]:
    """datasketch MinHash + MinHashLSH on raw text; connected components of LSH pairs."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    template = MinHash(num_perm=num_perm)  # copying reuses the permutations (much faster)
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for key, text in texts.items():
        words = text.lower().split()
        shingles = {" ".join(words[i:i + k]) for i in range(max(1, len(words) - k + 1))}
        m = template.copy()
        m.update_batch([s.encode() for s in shingles])
        parent[key] = key
        for other in lsh.query(m):
            a, b = find(key), find(other)
            if a != b:
                parent[a] = b
        lsh.insert(key, m)
    return {key: find(key) for key in texts}


# --- report ----------------------------------------------------------------------------

def _f(x, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def format_report(results: dict[str, dict], targets: bool = True) -> str:
    """Side-by-side text report of several evaluated systems ({name: evaluate() result})."""
    names = list(results)
    first = results[names[0]]
    w = max(12, *(len(n) + 2 for n in names))
    lines = [f"{first['n_docs']} documents, {first['n_true_clusters']} true clusters", ""]
    head = f"{'':28}" + "".join(f"{n:>{w}}" for n in names)
    lines.append(head)
    for key, label in (("precision", "pairwise precision"), ("recall", "pairwise recall"), ("f1", "pairwise F1"),
                       ("ari", "adjusted Rand index"), ("n_predicted_clusters", "predicted clusters"),
                       ("n_false_merge_clusters", "clusters with false merges"),
                       ("n_missed_copies", "copies missed"), ("n_hard_negative_merges", "hard negatives merged")):
        vals = [results[n][key] for n in names]
        lines.append(f"{label:28}" + "".join(f"{(_f(v) if isinstance(v, float) else str(v)):>{w}}" for v in vals))
    if first.get("cross_event_merges") is not None:
        cells = [f"{results[n]['cross_event_merges']['articles']} ({results[n]['cross_event_merges']['pairs']} pairs)"
                 for n in names]
        lines.append(f"{'merges across events':28}" + "".join(f"{c:>{max(w, len(c) + 2)}}" for c in cells))
    rep = [results[n]["repeated"] for n in names]
    if rep[0]["n"]:
        cells = ["-" if r["collapsed"] is None else f"{r['collapsed']}/{r['n']}" for r in rep]
        lines.append(f"{'repeated bodies collapsed':28}" + "".join(f"{c:>{w}}" for c in cells))
    lines += ["", "per kind (copies: recall = share found with their source; all: documents falsely merged)"]
    lines.append(f"{'kind':22}{'n':>6}" + "".join(f"{n + ' recall':>{w + 8}}{'merged':>8}" for n in names))
    order = sorted(first["kinds"], key=lambda k: (k.startswith(HARD_NEGATIVE_PREFIX), k != ORIGINAL, k))
    for kind in order:
        row = f"{kind:22}{first['kinds'][kind]['n']:>6}"
        for n in names:
            k = results[n]["kinds"].get(kind, {})
            row += f"{_f(k.get('recall')):>{w + 8}}{k.get('false_merges', 0):>8}"
        lines.append(row)
    for n in names:
        r = results[n]
        if r["worst_false_merges"]:
            lines += ["", f"{n}: worst false merges"]
            for m in r["worst_false_merges"]:
                lines.append(f"  article {m['article']}: {m['clusters']} clusters, {m['wrong_pairs']} wrong pairs")
                for d in m["docs"][:6]:
                    extra = ", ".join(f"{k}={_f(v, 2) if isinstance(v, float) else v}" for k, v in d.items()
                                      if k not in ("path", "kind", "cluster", "title") and v is not None)
                    lines.append(f"    {d['path']}  {d['kind']} (cluster {d['cluster']}) {extra}")
                    if d.get("title"):
                        lines.append(f"        \"{d['title'][:100]}\"")
        if r["worst_missed"]:
            lines += ["", f"{n}: worst missed copies (highest estimated Jaccard with their source first)"]
            for m in r["worst_missed"]:
                extra = ", ".join(f"{k}={_f(v, 2) if isinstance(v, float) else v}" for k, v in m.items()
                                  if k not in ("path", "kind", "source", "title", "source_title") and v is not None)
                lines.append(f"  {m['path']}  {m['kind']} of {m['source']}  {extra}")
                if m.get("title"):
                    lines.append(f"      \"{m['title'][:100]}\"\n   of \"{m['source_title'][:100]}\"")
    return "\n".join(lines)
