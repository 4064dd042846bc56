"""Dedup quality, newsfold next to the plain datasketch baseline (the same evaluation as
`newsfold eval`): first on the real labelled sets (bench/real_folding.py, when the shared
real data is there) together with body extraction on real pages (bench/extraction.py),
then on the labelled corpus of bench/corpus.py.

    python bench/quality.py                 # real sets, then 2,000 generated documents, seed 0
    python bench/quality.py --no-real       # the generated corpus only
    python bench/quality.py --docs 4000 --seed 3 --shingle-size 4
    python bench/quality.py --sweep         # re-run the parameter sweep behind the defaults
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus  # noqa: E402
import extraction  # noqa: E402
import real_folding  # noqa: E402

from flows.cli import _add_dedup_options, _quiet_prefect, dedup_params  # noqa: E402
from pipeline.evaluate import format_report  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--corpus", metavar="DIR", help="write the corpus here and keep it (default: a temporary folder)")
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--worst", type=int, default=5)
    ap.add_argument("--sweep", action="store_true", help="run the parameter sweep instead of one evaluation")
    ap.add_argument("--real", type=Path, default=real_folding.REAL,
                    help="the shared real-data folder (default: %(default)s)")
    ap.add_argument("--no-real", action="store_true", help="skip the real sets")
    _add_dedup_options(ap)
    a = ap.parse_args(argv)
    if not a.sweep and not a.no_real:
        if a.real.is_dir():
            print(f"=== real pages ({a.real})")
            real_folding.run(a.real, dedup_params(a), worst=a.worst)
            print("\n=== body text on real pages (bench/extraction.py)")
            print(extraction.extraction_report(a.real))
            print("\n=== generated corpus")
        else:
            print(f"(no real data at {a.real}: real tables skipped; --real DIR)")
    with tempfile.TemporaryDirectory(prefix="newsfold-quality-") as tmp:
        out = Path(a.corpus or Path(tmp) / "corpus")
        t0 = time.perf_counter()
        corpus.generate_corpus(out, a.docs, a.seed)
        print(f"corpus: {a.docs} documents, seed {a.seed}, in {out} ({time.perf_counter() - t0:.1f} s)")
        if a.sweep:
            import sweep

            return sweep.run(out, batch_size=a.batch_size)
        _quiet_prefect()
        from flows.evaluate import evaluate_labelled
        from pipeline.config import IngestConfig

        t0 = time.perf_counter()
        results = evaluate_labelled(out, IngestConfig(dedup=dedup_params(a)).with_values(batch_size=a.batch_size),
                                    worst=a.worst)
        print(f"evaluated in {time.perf_counter() - t0:.1f} s on {os.cpu_count()} cores; "
              f"parameters: {dedup_params(a).to_dict()}\n")
        print(format_report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
