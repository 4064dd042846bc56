"""Folding on real pages: newsfold next to plain datasketch, on labelled sets nobody here wrote.

    python bench/real_folding.py                      # all sets, default parameters
    python bench/real_folding.py --sets news_cluster  # one set
    python bench/real_folding.py --write-labels DIR   # convert the sets to `newsfold eval` input
    python bench/real_folding.py --sweep [--no-chrome]  # a grid of parameters, pure pipeline

The data is /work/shared/real (see its README; `--real DIR` elsewhere). Each set is written
as text files plus a `labels.csv` (path, cluster_id, kind, source_path, title, event) that
`newsfold eval` reads, then ingested with the real flow into a throwaway warehouse and scored
next to the plain baseline (datasketch MinHash of the raw file's word 5-grams, MinHashLSH at
0.8, connected components) by pipeline/evaluate.py.

The sets
- news_cluster (giveme5w1h_news_cluster): 419 news-please records from 111 outlets, one text
  file per record (`title`, blank line, `text`), one folder per outlet. Copy truth: the
  hand-checked pairs of bench/real_labels/giveme5w1h_copy_pairs.csv (the mechanically derived
  near-copy pairs, each read and decided, with a comment); connected copy pairs are one
  article, every other record its own. `event` = the human event label: an article holding
  two events is the one mistake that must never happen.
- toloka_pairs (tgcontest_toloka_pairs): 250 crowd-labelled en/ru pairs. Copy truth: the
  hand-checked bench/real_labels/tgcontest_copy_pairs.csv. A same-story pair that is not a
  copy (an independent write-up of the event) is a hard negative `hn_same_story`; a pair of
  different stories is `hn_different_story`.
- same_site (the HTML sets: newspaper_tests, readability_testpages, trafilatura_eval_news):
  every page flattened to its visible text (`flatten_html`: script and style dropped, text
  nodes kept, a newline per block element: navigation, related headlines, footers and all),
  all in one folder, as a scraper that keeps only visible text delivers them. No two pages
  are the same article; pages of one site share their chrome (`event` = the site, so a merge
  of two pages of one site shows as a merge "across events" too). Every merge is false.
- site_drop: the issue's same-site drop, assembled from real text (`build_site_drop`): 70
  flattened pages wearing one site's real header and footer, a sliding block of 40 real
  headlines and real article bodies of different events; 8 hand-checked wire copies appear as
  two pages each. `--sweep --no-chrome` scores it with the chrome stage off: the case where
  cleaning misses a site's boilerplate and the folding must not be fooled by it.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import extraction  # noqa: E402  (bench/extraction.py: the flattener)
from pipeline import sources  # noqa: E402

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"
LABELS = Path(__file__).resolve().parent / "real_labels"
SETS = ("news_cluster", "toloka_pairs", "same_site", "site_drop")
HTML_SETS = ("newspaper_tests", "readability_testpages", "trafilatura_eval_news")
FIELDS = ["path", "cluster_id", "kind", "source_path", "title", "event"]

# --- flattened visible text ------------------------------------------------------------

def flatten_html(data: bytes) -> str:
    """A page's visible text the way many scrapers keep it: script/style dropped, every text
    node kept, one line per block element (navigation, tickers and footers included). The
    bytes are decoded as newsfold decodes a file, then flattened by bench/extraction.py's
    flattener (the one flattener of the benches)."""
    text = extraction.flatten_html(sources.decode(data)[0])
    return text + "\n" if text else ""


# --- building the sets -----------------------------------------------------------------

def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "x"


def _components(nodes: list[str], pairs: list[tuple[str, str]]) -> dict[str, str]:
    """node -> the first node (in `nodes` order) of its connected component."""
    parent = {n: n for n in nodes}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    rank = {n: k for k, n in enumerate(nodes)}
    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            if rank[ra] > rank[rb]:
                ra, rb = rb, ra
            parent[rb] = ra
    return {n: find(n) for n in nodes}


def _write(out: Path, docs: list[dict]) -> Path:
    """docs: path, text, cluster_id, kind, source_path, title, event -> files + labels.csv."""
    out.mkdir(parents=True, exist_ok=True)
    for d in docs:
        f = out / d["path"]
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(d["text"], encoding="utf-8")
    with open(out / "labels.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(docs)
    return out


def build_news_cluster(real: Path, out: Path) -> Path:
    with open(real / "giveme5w1h_news_cluster" / "articles.csv", newline="", encoding="utf-8") as f:
        arts = list(csv.DictReader(f))
    with open(LABELS / "giveme5w1h_copy_pairs.csv", newline="", encoding="utf-8") as f:
        copies = [(r["id_a"], r["id_b"]) for r in csv.DictReader(f) if r["copy"] == "1"]
    path = {a["id"]: f"{_safe(a['source_domain'] or 'unknown')}/{a['id'][:16]}.txt" for a in arts}
    root = _components([a["id"] for a in arts], copies)
    docs = []
    for a in arts:
        r = root[a["id"]]
        docs.append({"path": path[a["id"]], "text": f"{a['title']}\n\n{a['text']}\n", "cluster_id": path[r],
                     "kind": "original" if r == a["id"] else "copy", "source_path": "" if r == a["id"] else path[r],
                     "title": f"{a['title']} [{a['source_domain']}]", "event": a["cluster_id"]})
    return _write(out, docs)


def build_toloka_pairs(real: Path, out: Path) -> Path:
    with open(real / "tgcontest_toloka_pairs" / "pairs.csv", newline="", encoding="utf-8") as f:
        pairs = list(csv.DictReader(f))
    with open(LABELS / "tgcontest_copy_pairs.csv", newline="", encoding="utf-8") as f:
        is_copy = {r["pair_id"]: r["copy"] == "1" for r in csv.DictReader(f)}
    # a page can sit in several pairs: one file per distinct (url, text)
    key_path: dict[tuple[str, str], str] = {}
    texts: dict[str, tuple[str, str]] = {}
    first_of: dict[str, str] = {}
    for r in pairs:
        for side in ("first", "second"):
            k = (r[f"{side}_url"], r[f"{side}_text"])
            if k not in key_path:
                key_path[k] = f"{r['lang']}/{_safe(r['pair_id'])}_{side}.txt"
                texts[key_path[k]] = (r[f"{side}_title"], r[f"{side}_text"])
    nodes = list(texts)
    edges, negatives = [], {}
    for r in pairs:
        a, b = key_path[(r["first_url"], r["first_text"])], key_path[(r["second_url"], r["second_text"])]
        if a == b:
            continue
        if is_copy[r["pair_id"]]:
            edges.append((a, b))
        else:
            negatives[b] = ("hn_same_story" if r["same_story"] == "1" else "hn_different_story", a)
    root = _components(nodes, edges)
    docs = []
    for p in nodes:
        title, text = texts[p]
        kind, source = ("original", "") if root[p] == p else ("copy", root[p])
        if kind == "original" and p in negatives:
            kind, source = negatives[p]
        docs.append({"path": p, "text": f"{title}\n\n{text}\n", "cluster_id": root[p], "kind": kind,
                     "source_path": source, "title": title, "event": ""})
    return _write(out, docs)


def _site(url: str | None) -> str:
    host = urlparse(url).netloc.lower() if url else ""
    host = host.removeprefix("www.")
    parts = host.split(".")
    # registered domain, roughly: the last two labels (three for co.uk-style suffixes)
    keep = 3 if len(parts) > 2 and parts[-2] in ("co", "com", "org", "net", "ac", "gov") else 2
    return ".".join(parts[-keep:]) or "unknown"


def build_same_site(real: Path, out: Path) -> Path:
    docs, seen = [], set()
    for name in HTML_SETS:
        for meta_path in sorted((real / name / "pages").glob("*.json")):
            if meta_path.name.endswith(".expected.json"):
                continue
            page = meta_path.with_suffix(".html.gz")
            if not page.is_file():
                continue
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            text = flatten_html(gzip.decompress(page.read_bytes()))
            if len(text.split()) < 20 or text in seen:
                continue
            seen.add(text)
            path = f"{name}_{_safe(meta_path.stem)}.txt"
            title = meta.get("title") or text.split("\n", 1)[0]
            docs.append({"path": path, "text": text, "cluster_id": path, "kind": "original", "source_path": "",
                         "title": f"{title} [{_site(meta.get('url'))}]", "event": _site(meta.get("url"))})
    return _write(out, docs)


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"“‘']?[A-Z])")
SITE_PAGE = ("newspaper_tests", "usnews.com1")  # the site whose real chrome the site drop wears


def build_site_drop(real: Path, out: Path, n_pages: int = 70, n_copy_pairs: int = 8, seed: int = 0,
                    pool_size: int = 60) -> Path:
    """The issue's realistic same-site drop, assembled from real text: pages of one site, flattened
    (one block per line), each wearing that site's real header and footer (usnews.com1, split around
    its reference body), a block of 40 "latest" headlines sliding down a list of 60 real news-please
    titles, and a real article body of 4-10 sentences (news-please records of different events).
    `n_copy_pairs` hand-checked wire copies appear as two pages each (each outlet's own version),
    which must fold; every other pair of pages must stay apart. All in one folder."""
    import random

    rng = random.Random(seed)
    name, page = SITE_PAGE
    meta = json.loads((real / name / "pages" / f"{page}.json").read_text(encoding="utf-8"))
    lines = flatten_html(gzip.decompress((real / name / "pages" / f"{page}.html.gz").read_bytes())).splitlines()
    body = [ln for ln in meta["text"].splitlines() if ln.strip()]
    first = next(k for k, ln in enumerate(lines) if body[0][:40] in ln)
    last = max(k for k, ln in enumerate(lines) if body[-1][:40] in ln)
    # the page's header and the site's closing links (not its 1,200 lines of archive lists: with them
    # every page would be 90 % the same; the issue's pages shared half their text)
    header, footer = lines[:first], lines[last + 1:][:12] + lines[-60:]

    with open(real / "giveme5w1h_news_cluster" / "articles.csv", newline="", encoding="utf-8") as f:
        arts = [a for a in csv.DictReader(f) if len(a["text"].split()) >= 120]
    with open(LABELS / "giveme5w1h_copy_pairs.csv", newline="", encoding="utf-8") as f:
        copy_pairs = [(r["id_a"], r["id_b"]) for r in csv.DictReader(f) if r["copy"] == "1"]
    by_id = {a["id"]: a for a in arts}
    pool = [a["title"] for a in rng.sample(arts, pool_size)]  # the site's headlines, newest first
    pairs, used_events = [], set()
    for a, b in rng.sample(copy_pairs, len(copy_pairs)):
        if a in by_id and b in by_id and by_id[a]["cluster_id"] not in used_events and len(pairs) < n_copy_pairs:
            pairs.append((by_id[a], by_id[b]))
            used_events.add(by_id[a]["cluster_id"])
    singles = []
    for a in rng.sample(arts, len(arts)):
        if a["cluster_id"] not in used_events and len(singles) < n_pages - 2 * len(pairs):
            singles.append(a)
            used_events.add(a["cluster_id"])

    def page_text(a: dict, whole: bool = False) -> str:
        sentences = _SENTENCE.split(a["text"].strip())
        if not whole:  # each outlet's version of a copy stays whole: trimmed apart, two leads may not overlap
            sentences = sentences[:rng.randint(4, 10)]
        paras = [" ".join(sentences[k:k + 2]) for k in range(0, len(sentences), 2)]
        # the site's "latest headlines" block as the crawler met it: a window sliding down the
        # list as the site published (neighbouring pages share most of it, in the same order)
        start = rng.randrange(len(pool) - 40)
        related = pool[start:start + 40]
        return "\n".join(header + [a["title"]] + paras + ["Related stories"] + related + footer) + "\n"

    docs = []
    for a, b in pairs:
        pa_ = f"site/{a['id'][:16]}.txt"
        docs.append({"path": pa_, "text": page_text(a, whole=True), "cluster_id": pa_, "kind": "original", "source_path": "",
                     "title": f"{a['title']} [{a['source_domain']}]", "event": a["cluster_id"]})
        pb = f"site/{b['id'][:16]}.txt"
        docs.append({"path": pb, "text": page_text(b, whole=True), "cluster_id": pa_, "kind": "copy", "source_path": pa_,
                     "title": f"{b['title']} [{b['source_domain']}]", "event": b["cluster_id"]})
    for a in singles:
        p = f"site/{a['id'][:16]}.txt"
        docs.append({"path": p, "text": page_text(a), "cluster_id": p, "kind": "original", "source_path": "",
                     "title": f"{a['title']} [{a['source_domain']}]", "event": a["cluster_id"]})
    return _write(out, docs)


BUILDERS = {"news_cluster": build_news_cluster, "toloka_pairs": build_toloka_pairs, "same_site": build_same_site,
            "site_drop": build_site_drop}


def write_labels(real: Path, out: Path, sets=SETS) -> dict[str, Path]:
    return {s: BUILDERS[s](real, out / s) for s in sets}


# --- running and reporting -------------------------------------------------------------

def summary_table(results: dict[str, dict[str, dict]]) -> str:
    """One line per set and system: the numbers the issue's targets are about."""
    head = (f"{'set':14}{'system':10}{'docs':>6}{'copy pairs':>11}{'precision':>10}{'recall':>8}{'F1':>7}"
            f"{'ARI':>7}{'false merges':>13}{'across events':>14}{'hard neg. merged':>17}")
    lines = [head]
    for name, res in results.items():
        for system, r in res.items():
            ev = r.get("cross_event_merges")
            lines.append(f"{name:14}{system:10}{r['n_docs']:>6}{r['true_pairs']:>11}{r['precision']:>10.3f}"
                         f"{r['recall']:>8.3f}{r['f1']:>7.3f}{r['ari']:>7.3f}{r['n_false_merge_clusters']:>13}"
                         f"{(str(ev['articles']) if ev else '-'):>14}{r['n_hard_negative_merges']:>17}")
    return "\n".join(lines)


def sweep(real: Path = REAL, grid: list[dict] | None = None, sets=SETS, no_chrome: bool = False) -> None:
    """The pure pipeline (process_batch, dedup.assign on an empty warehouse, as bench/sweep.py)
    over a grid of DedupParams overrides: each set is cleaned and fingerprinted once.

    no_chrome: an ablation with the cross-document chrome stage switched off -- what the folding
    must survive when cleaning misses a site's headline lists and footers (a site with too few
    pages in the drop, chrome that changes from page to page)."""
    import tempfile
    from dataclasses import replace

    import sweep as generated_sweep

    from pipeline import evaluate
    from pipeline.dedup import DedupParams

    grid = grid or [{"common_df": 0}, {"common_df": 3}, {"common_df": 4}, {"common_df": 5}, {"common_df": 8},
                    {"common_df": 5, "containment_threshold": 0.7}, {"common_df": 5, "jaccard_threshold": 0.4}]
    base = DedupParams()
    if no_chrome:
        from pipeline import chrome

        chrome.strip_batch = lambda docs, known=None: {}
    with tempfile.TemporaryDirectory(prefix="newsfold-real-") as tmp:
        for name in sets:
            folder = BUILDERS[name](real, Path(tmp) / name)
            root, labels = evaluate.read_labels(folder)
            processed = generated_sweep.process(root, labels, base)
            print(f"\n=== {name}: {len(labels)} documents")
            for over in grid:
                r = evaluate.evaluate(labels, generated_sweep.predict(root, processed, replace(base, **over)))
                ev = r["cross_event_merges"]
                print(f"  {str(over):50} P {r['precision']:.3f} R {r['recall']:.3f} F1 {r['f1']:.3f} "
                      f"false-merge articles {r['n_false_merge_clusters']}, across events "
                      f"{ev['articles'] if ev else '-'}, hard negatives merged {r['n_hard_negative_merges']}, "
                      f"copies missed {r['n_missed_copies']}")


def run(real: Path = REAL, params=None, sets=SETS, worst: int = 8, quiet: bool = False,
        workdir: Path | None = None) -> dict[str, dict[str, dict]]:
    """Build, ingest and score each set; print the report; return {set: {system: scores}}."""
    import tempfile

    from flows.cli import _quiet_prefect
    from flows.evaluate import evaluate_labelled
    from pipeline.config import IngestConfig
    from pipeline.dedup import DedupParams
    from pipeline.evaluate import format_report

    params = params or DedupParams()
    _quiet_prefect()
    # the temporary Prefect server may start slowly on a loaded machine
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    results: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="newsfold-real-") as tmp:
        base = Path(workdir or tmp)
        for name in sets:
            t0 = time.perf_counter()
            folder = BUILDERS[name](real, base / name)
            results[name] = evaluate_labelled(folder, IngestConfig(dedup=params), worst=worst)
            if not quiet:
                print(f"\n=== real set: {name} ({time.perf_counter() - t0:.1f} s)")
                print(format_report(results[name]))
    if not quiet:
        print("\n=== real sets, summary (copy pairs = hand-checked true copy pairs)")
        print(summary_table(results))
    return results


def main(argv: list[str] | None = None) -> int:
    from flows.cli import _add_dedup_options, dedup_params

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--real", type=Path, default=REAL, help="the shared real-data folder (default: %(default)s)")
    ap.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    ap.add_argument("--write-labels", type=Path, metavar="DIR",
                    help="only write each set as files + labels.csv under DIR/<set> (for `newsfold eval`)")
    ap.add_argument("--worst", type=int, default=8)
    ap.add_argument("--sweep", action="store_true", help="score a grid of parameters with the pure pipeline")
    ap.add_argument("--no-chrome", action="store_true", help="with --sweep: the chrome stage switched off (ablation)")
    _add_dedup_options(ap)
    a = ap.parse_args(argv)
    if not a.real.is_dir():
        print(f"error: no real data at {a.real} (use --real DIR)", file=sys.stderr)
        return 2
    if a.write_labels:
        for name, folder in write_labels(a.real, a.write_labels, a.sets).items():
            print(f"{name}: {folder / 'labels.csv'}   (newsfold eval {folder})")
        return 0
    if a.sweep:
        sweep(a.real, sets=a.sets, no_chrome=a.no_chrome)
        return 0
    run(a.real, dedup_params(a), a.sets, a.worst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
