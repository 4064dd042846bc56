"""Cost of ingesting a small new drop into a big warehouse, against a full rebuild.

    python bench/incremental.py --articles 100000 --drop-share 0.01

Generates a labelled synthetic corpus (bench/corpus.py), ingests all but the
last `drop-share` of it as the existing warehouse, then times:
  incremental  the new drop into that warehouse (matched against everything in it)
  rebuild      everything, old and new, into a fresh warehouse
and prints the ratio incremental / rebuild (the target: a small fraction), and
checks that both warehouses agree on which new documents are copies of what.
Run by hand; numbers depend on the machine and its load.

At a million documents the rebuild alone takes the better part of an hour, so
the warehouse of an earlier full run can be reused instead:

    python bench/incremental.py --existing /tmp/w/warehouse --full-seconds 1200 --articles 1000000

ingests a new drop of `drop-share` x `articles` documents (generated with seed+1,
so new stories) into that warehouse (in place), and prints its
time against the given full-run seconds.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def load_corpus_module():
    spec = importlib.util.spec_from_file_location("newsfold_bench_corpus", REPO / "bench" / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def write_corpus(workdir: Path, n: int, drop_share: float, seed: int) -> tuple[Path, Path]:
    corpus = load_corpus_module()
    base, new = workdir / "base", workdir / "new"
    base.mkdir(parents=True)
    new.mkdir()
    n_new = max(1, int(n * drop_share))
    for k, (doc_id, text, _cluster, _kind) in enumerate(corpus.iter_documents(n, seed=seed)):
        folder = new if k >= n - n_new else base
        (folder / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    return base, new


def timed_ingest(paths: list[Path], warehouse: Path) -> tuple[float, dict]:
    from flows.ingest import ingest_flow

    t0 = time.perf_counter()
    summary = ingest_flow(paths=[str(p) for p in paths], warehouse=str(warehouse))
    return time.perf_counter() - t0, summary


def cluster_mates(warehouse: Path, folder: Path) -> dict[str, frozenset[str]]:
    """source file name -> names of the files in the same article, for the documents of `folder`.

    Relations may legitimately differ (which copy is canonical depends on what
    was there first); who is grouped with whom should not.
    """
    from pipeline.warehouse import Warehouse

    with Warehouse(warehouse, read_only=True) as wh:
        rows = wh.sql("""
            WITH named AS (SELECT regexp_extract(d.source_path, '[^/]+$') AS name, d.source_path, p.article_id
                           FROM documents d JOIN provenance p USING (doc_id))
            SELECT n.name, list(m.name ORDER BY m.name) FROM named n JOIN named m USING (article_id)
            WHERE n.source_path LIKE ? GROUP BY n.name""", [f"{folder}/%"]).fetchall()
    return {name: frozenset(mates) for name, mates in rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=100_000, help="documents in the whole corpus")
    ap.add_argument("--drop-share", type=float, default=0.01, help="share of the corpus in the new drop")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, help="where to put corpus and warehouses (default: a temp dir)")
    ap.add_argument("--existing", type=Path, help="reuse this warehouse (of a full run) instead of building one; "
                                                  "the new drop is added to it")
    ap.add_argument("--full-seconds", type=float, help="with --existing: seconds the full run took")
    args = ap.parse_args()
    if args.existing:
        return reuse_existing(args)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="newsfold-incr-"))
    t0 = time.perf_counter()
    base, new = write_corpus(workdir / "corpus", args.articles, args.drop_share, args.seed)
    print(f"corpus: {args.articles} documents written in {time.perf_counter() - t0:.1f} s -> {workdir}")

    existing = workdir / "wh_incremental"
    t_base, s_base = timed_ingest([base], existing)
    print(f"existing warehouse: {s_base['n_files']} documents, {s_base['n_new_articles']} articles "
          f"in {t_base:.1f} s")
    t_incr, s_incr = timed_ingest([new], existing)
    t_full, s_full = timed_ingest([base, new], workdir / "wh_rebuild")

    incr = cluster_mates(existing, new)
    full = cluster_mates(workdir / "wh_rebuild", new)
    agree = sum(incr[k] == full.get(k) for k in incr) / max(1, len(incr))
    print(f"\nnew drop: {s_incr['n_files']} documents ({args.drop_share:.1%}), "
          f"{s_incr['n_new_articles']} new articles, "
          f"{s_incr['n_exact_duplicates'] + s_incr['n_near_duplicates'] + s_incr['n_contained']} copies of "
          f"earlier articles")
    print(f"{'run':<14}{'seconds':>10}{'docs/s':>10}")
    print(f"{'incremental':<14}{t_incr:>10.2f}{s_incr['n_files'] / t_incr:>10.0f}")
    print(f"{'full rebuild':<14}{t_full:>10.2f}{s_full['n_files'] / t_full:>10.0f}")
    print(f"\nincremental / rebuild = {t_incr / t_full:.4f}   (new documents grouped as in the rebuild: {agree:.1%})")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


def reuse_existing(args) -> None:
    corpus = load_corpus_module()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="newsfold-incr-"))
    new = workdir / "new"
    new.mkdir(parents=True, exist_ok=True)
    n_new = max(1, int(args.articles * args.drop_share))
    for doc_id, text, _cluster, _kind in corpus.iter_documents(n_new, seed=args.seed + 1):
        (new / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    t_incr, s_incr = timed_ingest([new], args.existing)
    print(f"new drop: {s_incr['n_files']} documents into {args.existing}: {t_incr:.2f} s "
          f"({s_incr['n_files'] / t_incr:.0f} docs/s; stages {s_incr.get('stage_s')})")
    if args.full_seconds:
        print(f"incremental / full run = {t_incr:.1f} / {args.full_seconds:.1f} = {t_incr / args.full_seconds:.4f}")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
