"""How much of the chrome and clean stages' CPU a compiler could take away, at most.

    python bench/compiled_bound.py CORPUS_DIR [--docs 4000] [--runs 2] [--rate 250]

Issue #14 asks for the chrome and clean stages at half their CPU per document, and asks
whether a compiled extension would get there. A compiler (mypyc, Cython, a hand-written
extension of the same logic) removes the interpreter's work: the bytecode of our functions.
It does not make numpy, the `re` and RE2 engines, str methods or the allocator faster; those
already run in C. So this runs bench/stage_cost.py under `py-spy record --native`, counts each
sample of a stage by the frame it was in (a Python frame: bytecode, with the interpreter's own
C for it, attribute look-ups and calls included, which py-spy shows as that frame; a native
frame: the library it belongs to), and prints each stage's shares and what would be left if
every bytecode sample were gone. ftfy's own Python counts as bytecode (compilable, if not by us).

Needs py-spy (the bench extra) and permission to trace a child process (root, or ptrace_scope 0).
The shares are samples, so two runs are pooled by default; the stage costs are process CPU
(bench/stage_cost.py), which sampling does not inflate: py-spy pauses the process, and a
paused process uses no CPU.
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGES = {"chrome": "ChromeStage.run", "clean": "CleanStage.run"}  # frames that hold each stage
NATIVE = re.compile(r"\(([^()]*\.so[^()]*)\)$")  # a native frame names its shared object


def kind_of(leaf: str) -> str:
    """What the sampled frame was doing: bytecode of a Python function, or C in some library."""
    native = NATIVE.search(leaf)
    if native is None:
        return "Python bytecode"
    library, function = native.group(1), leaf.split(" (")[0]
    if "multiarray" in library or "numpy" in library:
        return "numpy"
    if "re2" in library:
        return "RE2"
    if "libpython" in library:  # _sre is built into the interpreter
        if "sre" in function.lower():
            return "re engine"
        if function.startswith("gc_"):
            return "garbage collector"
        return "str methods" if function.startswith("unicode") else "other interpreter C"
    if library.startswith("libc."):
        return "libc (memcpy, malloc)"
    return "other native"


def sample(corpus: Path, docs: int, rate: int, out: Path) -> dict:
    """One py-spy run over bench/stage_cost.py; returns stage_cost's JSON result."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    proc = subprocess.run([py_spy, "record", "--native", "-r", str(rate), "-f", "raw", "-o", str(out), "--",
                           sys.executable, str(REPO / "bench" / "stage_cost.py"), str(corpus), "--docs", str(docs)],
                          check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"py-spy failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    # py-spy writes its own lines to stdout too; stage_cost's result is the one JSON line
    return json.loads(next(line for line in reversed(proc.stdout.splitlines()) if line.startswith("{")))


def shares(raw_files: list[Path]) -> dict[str, collections.Counter]:
    """Samples of each stage by kind, pooled over the runs' raw py-spy outputs."""
    counts = {stage: collections.Counter() for stage in STAGES}
    for raw in raw_files:
        for line in raw.read_text().splitlines():
            stack, n = line.rsplit(" ", 1)
            for stage, frame in STAGES.items():
                if frame in stack:
                    counts[stage][kind_of(stack.rsplit(";", 1)[-1])] += int(n)
    return counts


def report(counts: dict[str, collections.Counter], ms_per_doc: dict[str, float]) -> None:
    left_total = 0.0
    for stage, by_kind in counts.items():
        total = sum(by_kind.values()) or 1
        bytecode = by_kind["Python bytecode"] / total
        left = ms_per_doc[stage] * (1 - bytecode)
        left_total += left
        print(f"{stage}: {ms_per_doc[stage]:.3f} CPU ms/doc, {total} samples; "
              f"with no bytecode left: {left:.3f} ms/doc")
        for kind, n in by_kind.most_common():
            print(f"  {100 * n / total:5.1f} %  {kind}")
    both = sum(ms_per_doc[s] for s in STAGES)
    print(f"chrome + clean: {both:.3f} CPU ms/doc; with no bytecode left: {left_total:.3f} "
          f"({left_total / both:.2f} of now)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--docs", type=int, default=4000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--rate", type=int, default=250, help="samples a second")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        raws = [Path(tmp) / f"run{k}.txt" for k in range(args.runs)]
        results = [sample(args.corpus, args.docs, args.rate, raw) for raw in raws]
        counts = shares(raws)
    ms_per_doc = {stage: statistics.median(r["ms_per_doc"][stage] for r in results) for stage in STAGES}
    print(f"{args.corpus}: {args.docs} documents, {args.runs} runs of bench/stage_cost.py under py-spy --native "
          f"(stage costs: medians)")
    report(counts, ms_per_doc)


if __name__ == "__main__":
    main()
