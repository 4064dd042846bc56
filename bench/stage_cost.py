"""CPU per document of each batch stage (read, chrome, clean, repeats, fingerprint, rows).

    python bench/stage_cost.py CORPUS_DIR [--docs N] [--repo CHECKOUT] [--json OUT]

Runs `pipeline.drop.process_batch` of the checkout `--repo` (default: this one) over the
first N files of CORPUS_DIR in batches of 500, in this one process, and prints the seconds
per stage as milliseconds per document (the stage timings process_batch itself keeps).
bench/throughput.py runs it in a subprocess once for this checkout and once for a baseline
checkout (`--stages-before`), alternating, so that the ratio new/old of each stage is measured
in one run on the same files under the same load. Stage times are CPU seconds of the process. Written to run against older checkouts
too: it uses only process_batch(paths, settings, timings=...), where settings is the
checkout's IngestConfig() (pipeline/config.py) or, in checkouts older than it, dedup.DedupParams().
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import types
from pathlib import Path

BATCH = 500


def corpus_files(folder: Path, n: int) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    return files[:n]


def measure(repo: Path, folder: Path, n: int) -> dict:
    sys.path.insert(0, str(repo))
    import importlib

    from pipeline import dedup, drop

    files = corpus_files(folder, n)
    try:
        params = importlib.import_module("pipeline.config").IngestConfig()
    except ImportError:  # a checkout from before one config: process_batch(paths, DedupParams)
        params = dedup.DedupParams()
    for f in files:  # the files in the OS cache, whichever checkout runs first
        f.read_bytes()
    drop.process_batch(files[:50], params)  # warm-up: lazy imports and caches, as a worker has them
    # Stage times as CPU seconds of this process, not wall: the machine is shared, and a
    # busy neighbour would inflate whichever stage it overlapped. process_batch's clock
    # is time.perf_counter of drop (and, since the stage contract, of pipeline/stage.py);
    # this points it at process_time.
    cpu_clock = types.SimpleNamespace(perf_counter=time.process_time)
    drop.time = cpu_clock
    try:
        importlib.import_module("pipeline.stage").time = cpu_clock
    except ImportError:
        pass
    timings: dict[str, float] = {}
    cpu0, t0 = time.process_time(), time.perf_counter()
    for i in range(0, len(files), BATCH):
        drop.process_batch(files[i:i + BATCH], params, timings=timings)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    return {"repo": str(repo), "docs": len(files), "ms_per_doc": {k: 1000 * v / len(files) for k, v in timings.items()},
            "cpu_ms_per_doc": 1000 * cpu / len(files), "wall_ms_per_doc": 1000 * wall / len(files)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--docs", type=int, default=4000)
    ap.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    result = measure(args.repo.resolve(), args.corpus, args.docs)
    out = json.dumps(result)
    if args.json:
        args.json.write_text(out)
    print(out)


if __name__ == "__main__":
    main()
