"""What keeping every accepted document's clean text (documents.clean_text) costs on disk.

Generates the synthetic corpus (bench/corpus.py), ingests it into a fresh warehouse and
reads the Parquet footers: the compressed bytes of the clean_text column against the
whole warehouse and against articles.text (the canonical copies' text, kept before).

    python bench/clean_text_size.py --docs 2000 --workdir /tmp/ct
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def column_bytes(files: list[Path], column: str) -> tuple[int, int]:
    """(compressed, uncompressed) bytes of a column over Parquet files."""
    comp = raw = 0
    for f in files:
        meta = pq.ParquetFile(f).metadata
        for g in range(meta.num_row_groups):
            for c in range(meta.num_columns):
                col = meta.row_group(g).column(c)
                if col.path_in_schema == column:
                    comp += col.total_compressed_size
                    raw += col.total_uncompressed_size
    return comp, raw


def corpus_documents(corpus: Path) -> Path:
    """The folder of the corpus's documents. Not the corpus folder: its labels.csv, read as CSV
    records, added one rejected document (no_text_field) per label to the measured warehouse."""
    return corpus / "docs"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default="/tmp/newsfold-clean-text")
    args = ap.parse_args()
    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run([sys.executable, str(REPO / "bench" / "corpus.py"), str(work / "corpus"), "--docs",
                    str(args.docs), "--seed", str(args.seed)], check=True, capture_output=True)
    from flows.ingest import ingest_flow

    summary = ingest_flow(paths=[str(corpus_documents(work / "corpus"))], warehouse=str(work / "wh"))
    data = work / "wh" / "data" / "main"
    total = sum(f.stat().st_size for f in data.rglob("*.parquet"))
    docs = sorted((data / "documents").glob("*.parquet"))
    arts = sorted((data / "articles").glob("*.parquet"))
    ct, ct_raw = column_bytes(docs, "clean_text")
    at, _ = column_bytes(arts, "text")
    print(f"{summary['n_accepted']} accepted documents, {summary['n_new_articles']} articles")
    print(f"warehouse Parquet          {total / 2**20:8.2f} MiB")
    print(f"documents.clean_text       {ct / 2**20:8.2f} MiB compressed ({ct_raw / 2**20:.2f} MiB uncompressed), "
          f"{100 * ct / total:.1f} % of the warehouse, {100 * ct / (total - ct):.1f} % more than without it")
    print(f"articles.text (canonicals) {at / 2**20:8.2f} MiB compressed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
