"""Peak memory of planning and committing a big drop, without running its batches.

    python bench/plan_memory.py --docs 1000000            # the million, ~10 minutes
    python bench/plan_memory.py --docs 200000 --phases    # plus RSS after each planning phase

At a million documents the ingest's peak is not in the workers (they hold one batch) but in
the flow process, after the batches: `plan.plan_drop` reads the small columns of every
staging file and clusters them, then `Warehouse.commit_drop` inserts the staging files into
the lake. Measuring that through a full ingest costs an hour of both cores (the batches), so
this writes staging files of the same schema straight away: synthetic signatures (stories
with random minima; a share of them copied with some minima changed, so clustering, story
families and the minima counts have work) whose band hashes are computed as the batches
compute them, a text of the generated articles' length, a couple of removed spans. Then it
plans and commits exactly as the flow's commit task does, in this process, sampling its RSS
every 20 ms, and prints the peak of each step.

What it leaves out: the Prefect server's process (~200-300 MiB, constant) and the flow's own
start-up state. The numbers are the flow process's planning/commit peak; bench/throughput.py
measures the whole tree through a real ingest.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import dedup, plan, schema, signatures  # noqa: E402
from pipeline.config import IngestConfig  # noqa: E402
from pipeline.warehouse import Warehouse  # noqa: E402

BATCH = 500
TEXT_CHARS = 2400   # about a 400-word generated article


class PeakSampler:
    """The RSS of this process every 20 ms; `mark(name)` starts a new step, whose peak it keeps."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.step, self.peaks = "start", {"start": 0}
        self.seconds: dict[str, float] = {}
        self.starts: dict[str, int] = {}
        self._since = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self.proc.memory_info().rss
            self.peaks[self.step] = max(self.peaks.get(self.step, 0), rss)
            time.sleep(0.02)

    def mark(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[self.step] = self.seconds.get(self.step, 0.0) + now - self._since
        self.step, self._since = step, now
        rss = self.proc.memory_info().rss
        self.starts.setdefault(step, rss)
        self.peaks[step] = max(self.peaks.get(step, 0), rss)

    def stop(self) -> dict[str, float]:
        self.mark("end")
        self._stop.set()
        self._thread.join()
        return {k: v / 2 ** 20 for k, v in self.peaks.items()}


def synthetic_batch(start: int, n: int, params: dedup.DedupParams, rng: np.random.Generator,
                    stories: np.ndarray, copy_share: float) -> pa.Table:
    """n staging rows (plan.PROCESSED): a `copy_share` of them copies of earlier stories."""
    k = params.num_perm
    sigs = rng.integers(0, 2 ** 32, size=(n, k), dtype=np.uint32)
    is_copy = rng.random(n) < copy_share
    if start and is_copy.any():  # a copy: an earlier story's minima with ~15 % changed
        src = stories[rng.integers(0, min(start, len(stories)), size=int(is_copy.sum()))]
        keep = rng.random(src.shape) > 0.15
        sigs[is_copy] = np.where(keep, src, sigs[is_copy])
    stories[start:start + n] = sigs
    bands = signatures.lsh_band_hashes(sigs, params.bands, params.rows)
    if params.lead_bands:
        width = params.lead_windows * params.lead_bands * params.lead_rows
        lead_sigs = sigs[:, np.arange(width) % k]  # copies share their lead too
        lead = signatures.lsh_band_hashes(lead_sigs.reshape(n * params.lead_windows, -1),
                                          params.lead_bands, params.lead_rows)
        bands = np.hstack([bands, lead.reshape(n, -1)])
    ids = [f"{i:064x}" for i in range(start, start + n)]
    word = "newsfold "
    rows = []
    for i, doc_id in enumerate(ids):
        text = f"Story {start + i}. " + word * (TEXT_CHARS // len(word))
        rows.append({
            "doc_id": doc_id, "source_path": f"corpus/site{(start + i) % 20}/{start + i}.txt",
            "source_name": f"site{(start + i) % 20}", "format": "text", "content_sha256": doc_id,
            "size_bytes": TEXT_CHARS + 300, "encoding": "utf-8", "status": schema.ACCEPTED,
            "title": f"Headline of story {start + i}", "byline": "By A Reporter", "raw_chars": TEXT_CHARS + 300,
            "clean_chars": len(text), "clean_sha256": dedup.clean_sha256(text), "text": text, "word_count": 400,
            "n_metadata": 2, "minhash": dedup.sig_to_bytes(sigs[i]), "bands": bands[i].tolist(),
            "spans": [{"stage": "clean", "reason": "share_line", "start": 0, "end": 20, "text": "Share on Facebook",
                       "repeat_of_start": None, "repeat_of_end": None}],
            "n_spans": 1, "source_uri": f"corpus/site{(start + i) % 20}/{start + i}.txt",
            "n_shingles": 380, "canonical_url": None,
        })
    return pa.Table.from_pylist(rows, schema=plan.PROCESSED)


def watch_phases(sampler: PeakSampler) -> None:
    """Mark each planning phase (plan_drop's helpers) as its own step of the sampler."""
    def wrapped(module, name):
        inner = getattr(module, name)

        def call(*args, **kwargs):
            sampler.mark(f"plan:{name}")
            try:
                return inner(*args, **kwargs)
            finally:
                sampler.mark("plan")
        setattr(module, name, call)
    for name in ("read_plan_columns", "_look_up", "_minima_df", "_staged"):
        wrapped(plan, name)
    for name in ("drop_minima", "assign"):
        wrapped(plan.dedup, name)


def write_staging(folder: Path, n_docs: int, params: dedup.DedupParams, copy_share: float, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    stories = np.empty((n_docs, params.num_perm), dtype=np.uint32)
    files = []
    for b, start in enumerate(range(0, n_docs, BATCH)):
        path = folder / f"batch-{b}.parquet"
        pq.write_table(synthetic_batch(start, min(BATCH, n_docs - start), params, rng, stories, copy_share), path)
        files.append(str(path))
    return files


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=200_000)
    ap.add_argument("--copies", type=float, default=0.3, help="share of documents that copy an earlier story")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--phases", action="store_true", help="also the peak of each planning phase")
    ap.add_argument("--workdir", type=Path, help="staging files and warehouse go here (default: a temp dir, removed)")
    args = ap.parse_args(argv)
    config = IngestConfig()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="plan-memory-"))
    staging_dir = work / "staging"
    staging_dir.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        files = write_staging(staging_dir, args.docs, config.dedup, args.copies, args.seed)
        print(f"staging: {args.docs:,} synthetic documents in {len(files)} files, {time.perf_counter() - t0:.0f} s")
        sampler = PeakSampler()
        if args.phases:
            watch_phases(sampler)
        timings = {}
        with Warehouse(str(work / "warehouse")) as wh:
            drop_id = wh.next_drop_id()
            sampler.mark("plan")
            t0 = time.perf_counter()
            drop_plan = plan.plan_drop(files, wh, config.dedup, drop_id, info=plan.DropInfo(
                parameters=config.to_dict()), now=datetime.now(timezone.utc))
            timings["plan"] = time.perf_counter() - t0
            sampler.mark("commit")
            t0 = time.perf_counter()
            wh.commit_drop(drop_id, drop_plan.tables, relation_updates=drop_plan.relation_updates,
                           staged=drop_plan.staged)
            timings["commit"] = time.perf_counter() - t0
        peaks = sampler.stop()
        print(f"counts: {drop_plan.counts}")
        for step, peak in peaks.items():
            if step != "end":
                took = timings.get(step, sampler.seconds.get(step, 0.0))
                start = sampler.starts.get(step, 0) / 2 ** 20
                print(f"{step:22s} {took:7.1f} s   RSS at start {start:8,.0f} MiB, peak {peak:8,.0f} MiB")
        print(f"process peak RSS (getrusage) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
