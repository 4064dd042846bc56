"""Throughput of newsfold against plain MinHash + LSH baselines, and end to end.

    python bench/throughput.py --docs 100000

One run, one synthetic corpus (bench/corpus.py `iter_documents`: scraped-news
pages of ~400-1,500 words with site chrome, 30 % copies and hard negatives),
written to disk as files. Then:

1. baselines on the first --baseline-docs texts (default: all), one core:
   datasketch MinHash(num_perm 128, word 5-grams) with `update_batch` + MinHashLSH
   at threshold 0.8 (the reference), the same with per-shingle `update` on a
   --per-shingle-docs sample, and rensa RMinHash + RMinHashLSH;
2. newsfold's signature + LSH stage (pipeline/signatures.py) on the same texts
   and parameters (9 bands x 13 rows), on one core and on --workers processes;
3. newsfold end to end: `ingest_flow` over the files (read -> clean -> repeats
   -> fingerprint in parallel batches -> plan -> one warehouse commit) into a
   fresh warehouse, in a subprocess so its memory is measured on its own.

0. the small-drop ratio (unless --small-drop 0): a 5-file drop of new generated
   articles ingested into an existing warehouse through the CLI (`newsfold ingest`,
   a subprocess, as a user runs it), against `newsfold sql "SELECT 1"` on the same
   warehouse, interleaved, --small-drop repetitions, medians; once with a temporary
   Prefect server per ingest and once reusing `newsfold prefect-server start`. Both
   use a Prefect home of their own under the work dir (never ~/.prefect) and a port
   where no server runs. `--small-drop-only` runs just this.

Stages 1 and 2 see the texts the way the matcher does (NFKC, case-folded,
word characters only, joined by single spaces), so the baselines' whitespace
split and newsfold's tokeniser give the same shingles and pair agreement is
meaningful. Stage 3 reads the raw files.

With --one-file jsonl|warc the end-to-end corpus is one big file instead of many
small ones (a crawler's export, a web archive): it is cut into parts that the
workers read as streams, so peak RSS must not grow with the file's size (compare
two --docs). Stages 1-2 are skipped then.

Printed: docs/s of each, the ratios 2/1 and 3/1, peak RSS (the end-to-end
figure is the whole process tree: flow, worker processes, Prefect's local
server), time per stage, pair agreement between 1 and 2, and the CPU that
other processes used meanwhile (the machine may be shared). Run by hand.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import baselines  # noqa: E402
import minhash_speed  # noqa: E402
from incremental import load_corpus_module  # noqa: E402
from pipeline import signatures  # noqa: E402

NUM_PERM, SHINGLE, THRESHOLD = 128, 5, 0.8
FILES_PER_FOLDER = 10_000  # keeps directories small at a million files


def write_corpus(folder: Path, n: int, seed: int, keep: int) -> list[str]:
    """Write n documents as files; return the first `keep` texts (for the in-memory baselines).

    A corpus this function completed before (same n and seed) is reused: writing a
    million files takes ~10 minutes.
    """
    corpus = load_corpus_module()
    return _write_files(folder / f".complete-{n}-{seed}", keep,
                        ((doc_id, text) for doc_id, text, _cluster, _kind in corpus.iter_documents(n, seed=seed)))


def _write_files(marker: Path, keep: int, named_texts: Iterable[tuple[str, str]]) -> list[str]:
    """Write (name, text) pairs as NAME.txt in folders of FILES_PER_FOLDER beside `marker`,
    which is touched when all are written (a folder with its marker is reused as it is);
    return the first `keep` texts."""
    folder = marker.parent
    if marker.exists():
        return [f.read_text(encoding="utf-8") for f in sorted(folder.glob("*/*.txt"))[:keep]]
    shutil.rmtree(folder, ignore_errors=True)
    kept = []
    for k, (name, text) in enumerate(named_texts):
        sub = folder / f"{k // FILES_PER_FOLDER:04d}"
        if k % FILES_PER_FOLDER == 0:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{name}.txt").write_text(text, encoding="utf-8")
        if k < keep:
            kept.append(text)
    marker.touch()
    return kept


def write_one_file(folder: Path, n: int, seed: int, fmt: str) -> Path:
    """The corpus as one JSONL file or one gzipped WARC of HTML responses (reused when complete)."""
    path = folder / f"corpus-{n}-{seed}.{'jsonl' if fmt == 'jsonl' else 'warc.gz'}"
    marker = folder / f".complete-{path.name}"
    if marker.exists():
        return path
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    corpus = load_corpus_module()
    docs = corpus.iter_documents(n, seed=seed)
    if fmt == "jsonl":
        with open(path, "w", encoding="utf-8") as fh:
            for doc_id, text, _cluster, _kind in docs:
                fh.write(json.dumps({"id": doc_id, "text": text, "url": f"https://bench.example/{doc_id}"}) + "\n")
    else:
        import html
        import io

        from warcio.statusandheaders import StatusAndHeaders
        from warcio.warcwriter import WARCWriter

        with open(path, "wb") as fh:
            writer = WARCWriter(fh, gzip=True)
            for doc_id, text, _cluster, _kind in docs:
                body = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n") if p.strip())
                page = f"<html><head><title>{doc_id}</title></head><body><article>{body}</article></body></html>"
                http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
                writer.write_record(writer.create_warc_record(f"https://bench.example/{doc_id}", "response",
                                                              payload=io.BytesIO(page.encode()), http_headers=http))
    marker.touch()
    return path


REAL = Path(__file__).resolve().parents[2] / "shared" / "real"
REAL_HTML_SETS = ("trafilatura_eval_news", "readability_testpages", "newspaper_tests")


def real_texts(real: Path) -> list[tuple[str, str]]:
    """The real pages as text files would carry them: every HTML page of the three page sets
    flattened to its visible text (one line per block, chrome included; as many scrapers
    keep pages), and every article of the giveme5w1h and tgcontest sets (title, blank line,
    text). (name, text) pairs, in a fixed order."""
    import csv
    import gzip

    from real_folding import flatten_html

    out = []
    for name in REAL_HTML_SETS:
        for page in sorted((real / name / "pages").glob("*.html.gz")):
            text = flatten_html(gzip.decompress(page.read_bytes()))
            if text.strip():
                out.append((f"{name}-{page.name[:-len('.html.gz')]}", text))
    csv.field_size_limit(2 ** 30)
    with open(real / "giveme5w1h_news_cluster" / "articles.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.append((f"giveme-{row['id'][:16]}", f"{row['title']}\n\n{row['text']}\n"))
    seen = set()
    with open(real / "tgcontest_toloka_pairs" / "pairs.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for side in ("first", "second"):
                key = (row[f"{side}_url"], row[f"{side}_text"])
                if key not in seen:
                    seen.add(key)
                    out.append((f"toloka-{row['pair_id']}-{side}", f"{row[f'{side}_title']}\n\n{row[f'{side}_text']}\n"))
    return out


def write_real_mix(folder: Path, n: int, real: Path, keep: int) -> list[str]:
    """n files cycling through the real pages (real_texts) under new names, written like
    write_corpus (folders of FILES_PER_FOLDER, reused when complete); the first `keep` texts."""
    def named_texts() -> Iterator[tuple[str, str]]:  # read only when the folder is not complete
        pages = real_texts(real)
        for k in range(n):
            name, text = pages[k % len(pages)]
            yield f"{k:07d}-{name}", text

    return _write_files(folder / f".complete-real-{n}", keep, named_texts())


def stage_costs(corpus: Path, docs: int, checkouts: dict[str, Path], reps: int) -> dict[str, dict]:
    """bench/stage_cost.py in a subprocess per checkout (this one's script, that checkout's
    code), alternating, `reps` times each: label -> median ms/doc per stage."""
    runs: dict[str, list[dict]] = {label: [] for label in checkouts}
    script = Path(__file__).resolve().parent / "stage_cost.py"
    for _ in range(reps):
        for label, repo in checkouts.items():
            proc = subprocess.run([sys.executable, str(script), str(corpus), "--docs", str(docs), "--repo", str(repo)],
                                  capture_output=True, text=True, check=True)
            runs[label].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    out = {}
    for label, results in runs.items():
        stages = sorted({k for r in results for k in r["ms_per_doc"]}, key=list(results[0]["ms_per_doc"]).index)
        out[label] = {"repo": str(checkouts[label]), "docs": results[0]["docs"], "reps": reps,
                      "ms_per_doc": {k: _median([r["ms_per_doc"].get(k, 0.0) for r in results]) for k in stages},
                      "cpu_ms_per_doc": _median([r["cpu_ms_per_doc"] for r in results]),
                      "runs_cpu_ms_per_doc": [round(r["cpu_ms_per_doc"], 3) for r in results]}
    return out


def print_stage_costs(costs: dict[str, dict]) -> None:
    labels = list(costs)
    stages = list(costs[labels[0]]["ms_per_doc"])
    print(f"\nbatch stages, ms of CPU per document (median of {costs[labels[0]]['reps']} alternating runs of "
          f"{costs[labels[0]]['docs']} documents, one process; 'chrome' includes cutting pages into paragraphs)")
    head = " | ".join(f"{label} ms/doc" for label in labels)
    ratio = len(labels) == 2
    print(f"| stage | {head} |" + (" new / before |" if ratio else ""))
    print("|---|" + "---:|" * len(labels) + ("---:|" if ratio else ""))
    for stage in stages + ["total (process CPU)"]:
        vals = [costs[lb]["cpu_ms_per_doc"] if stage.startswith("total") else costs[lb]["ms_per_doc"].get(stage, 0.0)
                for lb in labels]
        cells = " | ".join(f"{v:.3f}" for v in vals)
        print(f"| {stage} | {cells} |" + (f" **{vals[0] / vals[1]:.2f}** |" if ratio and vals[1] else ""))
    for label in labels:
        print(f"  {label}: {costs[label]['repo']} (process CPU ms/doc per run: {costs[label]['runs_cpu_ms_per_doc']})")


def _exact_jaccard(texts: list[str], i: int, j: int) -> float:
    a, b = baselines.shingle_strings(texts[i], SHINGLE), baselines.shingle_strings(texts[j], SHINGLE)
    return len(a & b) / len(a | b) if a or b else 1.0


def matcher_words(text: str) -> str:
    return " ".join(signatures.words(text))


def load_now() -> str:
    one, five, _ = os.getloadavg()
    return f"load avg {one:.2f} (1 min) / {five:.2f} (5 min) on {os.cpu_count()} cores"


def _own_cpu_s() -> float:
    """CPU seconds of this process and its finished children."""
    return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def peak_rss_self_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class TreeRSS:
    """Samples the summed RSS of a process and all its descendants; keeps the peak."""

    def __init__(self, pid: int, every_s: float = 0.2):
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self.peak_main = 0
        self.peak_child = 0  # the largest single descendant (a batch worker)
        self.cpu_by_process: dict[int, tuple[str, float]] = {}  # pid -> (role, CPU s at its last sample)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)
        self._thread.start()

    def _run(self, every_s: float) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                main = self.proc.memory_info().rss
                total = main
                self._note_cpu(self.proc)
                for child in self.proc.children(recursive=True):
                    try:
                        rss = child.memory_info().rss
                        total += rss
                        self.peak_child = max(self.peak_child, rss)
                        self._note_cpu(child)
                    except psutil.Error:
                        pass
            except psutil.Error:
                break
            self.peak = max(self.peak, total)
            self.peak_main = max(self.peak_main, main)
            self._stop.wait(every_s)

    def _note_cpu(self, proc) -> None:
        """Where the ingest's CPU goes, by process (up to one sampling step short at each end)."""
        cpu = proc.cpu_times()
        if proc.pid not in self.cpu_by_process:
            line = " ".join(proc.cmdline())
            role = ("flow" if proc.pid == self.proc.pid else "Prefect server" if "prefect.server" in line
                    else "worker" if "spawn_main" in line else "other")
            self.cpu_by_process[proc.pid] = (role, 0.0)
        self.cpu_by_process[proc.pid] = (self.cpu_by_process[proc.pid][0], cpu.user + cpu.system)

    def cpu_by_role(self) -> dict[str, list[float]]:
        roles: dict[str, list[float]] = {}
        for role, cpu in self.cpu_by_process.values():
            roles.setdefault(role, []).append(round(cpu, 1))
        return roles

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


_E2E = """
import json, os, sys, time
sys.path.insert(0, {repo!r})
t0 = time.perf_counter()
from flows.prefect_api import prefect_api
with prefect_api() as api:  # as `newsfold ingest` does: reuse a running server or start one early
    from flows.ingest import ingest_flow
    from pipeline.config import IngestConfig
    config = IngestConfig().with_values(batch_size={batch_size}, workers={workers})
    with api.active():
        summary = ingest_flow(paths=[{corpus!r}], warehouse={warehouse!r}, config=config)
    summary["prefect_api"] = api.kind
summary["wall_in_process_s"] = time.perf_counter() - t0
import resource
main, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
summary["cpu_s"] = {{"main": round(main.ru_utime + main.ru_stime, 1), "children": round(kids.ru_utime + kids.ru_stime, 1)}}
print("SUMMARY " + json.dumps(summary, default=str), flush=True)
"""


def end_to_end(corpus: Path, warehouse: Path, batch_size: int, workers: int) -> tuple[dict, float, TreeRSS, float]:
    env = {**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    code = _E2E.format(repo=str(REPO), corpus=str(corpus), warehouse=str(warehouse), batch_size=batch_size,
                       workers=workers)
    before = minhash_speed._cpu_seconds()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    rss = TreeRSS(proc.pid)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    rss.stop()
    after = minhash_speed._cpu_seconds()
    if proc.returncode != 0:
        sys.exit(f"end-to-end ingest failed ({proc.returncode}):\n{err[-4000:]}")
    summary = json.loads(next(line for line in out.splitlines() if line.startswith("SUMMARY "))[8:])
    other = None
    if before and after:
        # CPU of processes other than this benchmark's tree (children are waited for: included in own)
        other = max(0.0, (after[0] - before[0]) - (after[1] - before[1])) / wall
    return summary, wall, rss, other


def with_bytecode(env: dict, workdir: Path) -> dict:
    """The environment for a measured newsfold process: with compiled bytecode, as an installed
    newsfold has (pip compiles it). PYTHONDONTWRITEBYTECODE (set in some shells and sandboxes)
    would have every run compile flows/ and pipeline/ from source again (~0.1-0.3 CPU s); the
    bytecode goes to the work folder (PYTHONPYCACHEPREFIX), not into the checkouts."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(workdir).resolve() / "pycache")
    return env


def _cli(*args: str, env: dict, checkout: Path = REPO, check: bool = True
         ) -> tuple[float, subprocess.CompletedProcess]:
    t0, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=checkout, env=env, capture_output=True,
                          text=True)
    wall, cpu1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of the command and the processes it waited for (a temporary Prefect server; not a reused one)
    proc.cpu_s = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    if check and proc.returncode != 0:
        sys.exit(f"`newsfold {' '.join(args)}` failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, proc


def _median(values: list[float]) -> float:
    v = sorted(values)
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2


def small_drop(workdir: Path, reps: int, files_per_drop: int = 5, seed: int = 7, before: Path | None = None) -> dict:
    """Wall time of `newsfold ingest` of a small drop vs `newsfold sql "SELECT 1"`, as subprocesses.

    before: another checkout of newsfold (e.g. `git worktree add /tmp/before <commit>`), measured
    the same way first with its own behaviour, for a before/after in one run."""
    from flows.prefect_api import _free_port

    root = workdir / "small-drop"
    shutil.rmtree(root, ignore_errors=True)
    warehouse = root / "warehouse"
    env = with_bytecode({k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}, workdir)
    env.update({"PREFECT_HOME": str(root / "prefect-home"), "PREFECT_PROFILES_PATH": str(root / "profiles.toml"),
                "PREFECT_SERVER_API_PORT": str(_free_port()), "PYTHONPATH": str(REPO)})
    for checkout in filter(None, (REPO, before)):  # their modules compiled before timing, like an installed copy's
        subprocess.run([sys.executable, "-m", "compileall", "-q", "flows", "pipeline"], cwd=checkout, env=env,
                       check=True)
    corpus = load_corpus_module()
    docs = list(corpus.iter_documents(files_per_drop * (3 * reps + 1) + 20, seed=seed))
    drops = []
    for k in range(0, len(docs) - 20, files_per_drop):
        folder = root / "drops" / f"{len(drops):03d}"
        folder.mkdir(parents=True)
        for doc_id, text, _cluster, _kind in docs[k:k + files_per_drop]:
            (folder / f"{doc_id}.txt").write_text(text, encoding="utf-8")
        drops.append(folder)
    first = root / "drops" / "first"
    first.mkdir()
    for doc_id, text, _cluster, _kind in docs[-20:]:
        (first / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    # the first ingest creates the warehouse and Prefect's database (migrations): not measured
    setup_s, _ = _cli("ingest", str(first), "-w", str(warehouse), env=env)
    _cli("sql", "SELECT 1", "-w", str(warehouse), env=env)  # warm the file cache
    result = {"files_per_drop": files_per_drop, "reps": reps, "first_ingest_s": setup_s, "modes": {},
              "before": str(before) if before else None}
    drops_left = iter(drops)
    for mode in ("before", "temporary", "reused"):
        if mode == "before" and not before:
            continue
        checkout = before if mode == "before" else REPO
        if mode == "reused":
            _cli("prefect-server", "start", env=env)
        try:
            ingest_s, sql_s, notes, failed, ingest_cpu, sql_cpu = [], [], set(), [], [], []
            for _ in range(reps):
                wall, proc = _cli("ingest", str(next(drops_left)), "-w", str(warehouse), env=env, checkout=checkout,
                                  check=mode != "before")
                if proc.returncode != 0:  # e.g. Prefect's own temporary server missing its 20 s limit
                    failed.append((wall, (proc.stderr.strip().splitlines() or ["?"])[-1][:200]))
                    continue
                ingest_s.append(wall)
                ingest_cpu.append(proc.cpu_s)
                notes.update(line for line in proc.stderr.splitlines() if "Prefect server" in line)
                wall, proc = _cli("sql", "SELECT 1", "-w", str(warehouse), env=env, checkout=checkout)
                sql_s.append(wall)
                sql_cpu.append(proc.cpu_s)
        finally:
            if mode == "reused":
                _cli("prefect-server", "stop", env=env)
        ingest_median = _median(ingest_s) if ingest_s else float("nan")
        result["modes"][mode] = {"ingest_s": ingest_s, "sql_s": sql_s, "ingest_median_s": ingest_median,
                                 "sql_median_s": _median(sql_s), "ratio": ingest_median / _median(sql_s),
                                 "prefect": sorted(notes), "failed": failed,
                                 "ingest_cpu_median_s": _median(ingest_cpu) if ingest_cpu else float("nan"),
                                 "sql_cpu_median_s": _median(sql_cpu)}
    result["version_s"] = _median([_cli("--version", env=env)[0] for _ in range(reps)])
    return result


def print_small_drop(r: dict) -> None:
    print(f"\nsmall drop: {r['files_per_drop']} new files into an existing warehouse via `newsfold ingest`, vs "
          f"`newsfold sql \"SELECT 1\"` on it; subprocesses, {r['reps']} repetitions each, medians "
          f"(first ingest, creating warehouse and Prefect database: {r['first_ingest_s']:.1f} s)")
    print("| Prefect API | ingest s (median) | sql s (median) | ingest / sql | ingest runs (s) | sql runs (s) | "
          "CPU s ingest / sql (medians) |")
    print("|---|---:|---:|---:|---|---|---|")
    for mode, m in r["modes"].items():
        runs = lambda xs: ", ".join(f"{x:.1f}" for x in xs)  # noqa: E731
        label = {"before": f"before ({r.get('before')}): that checkout's own way",
                 "temporary": "temporary server per ingest", "reused": "reused (`newsfold prefect-server start`)"}
        failed = f" ({len(m['failed'])} of {r['reps']} ingests failed)" if m["failed"] else ""
        print(f"| {label[mode]}{failed} | {m['ingest_median_s']:.2f} | {m['sql_median_s']:.2f} | "
              f"**{m['ratio']:.1f}** | {runs(m['ingest_s'])} | {runs(m['sql_s'])} | "
              f"{m['ingest_cpu_median_s']:.1f} / {m['sql_cpu_median_s']:.2f} |")
    for mode, m in r["modes"].items():
        for wall, line in m["failed"]:
            print(f"  {mode}: an ingest failed after {wall:.1f} s: {line}")
    print(f"`newsfold --version`: {r['version_s']:.2f} s (median). CPU s: the command and the processes it waited "
          "for (a temporary server counts, a reused one does not)")


def timed(run, texts):
    """run(texts) and the CPUs other processes used meanwhile."""
    result, other = minhash_speed.timed_best(run, texts, 1)
    return result, other


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20_000, help="documents in the corpus (end to end)")
    ap.add_argument("--baseline-docs", type=int, help="documents for stages 1-2 (default: all; they hold texts "
                                                      "in memory, so cap them for a million-document run)")
    ap.add_argument("--per-shingle-docs", type=int, default=1000, help="sample for per-shingle datasketch")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-baselines", action="store_true", help="only the end-to-end run")
    ap.add_argument("--baseline-rate", type=float,
                    help="with --skip-baselines: update_batch docs/s measured earlier, for the 3/1 ratio")
    ap.add_argument("--workdir", type=Path, help="corpus and warehouse go here (default: a temp dir, removed)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--one-file", choices=["jsonl", "warc"],
                    help="end to end only, on the corpus written as one big JSONL or WARC file")
    ap.add_argument("--small-drop", type=int, default=5, metavar="REPS",
                    help="repetitions of the small-drop measurement (0 skips it; default: %(default)s)")
    ap.add_argument("--small-drop-only", action="store_true", help="only the small-drop measurement")
    ap.add_argument("--small-drop-before", type=Path, metavar="CHECKOUT",
                    help="also measure the small drop with this other checkout of newsfold (before/after)")
    ap.add_argument("--real-mix", type=int, metavar="N",
                    help="the corpus is N files cycling through the real pages of --real (flattened HTML pages "
                         "and articles as text, under new names) instead of generated articles")
    ap.add_argument("--real", type=Path, default=REAL, help="the shared real data (default: %(default)s)")
    ap.add_argument("--stages", type=int, default=4000, metavar="DOCS",
                    help="documents for the per-stage cost table (0 skips it; default: %(default)s)")
    ap.add_argument("--stages-before", type=Path, metavar="CHECKOUT",
                    help="also measure the per-stage cost with this other checkout's code, alternating (new/old)")
    ap.add_argument("--stages-reps", type=int, default=3, help="alternating runs per checkout (default: %(default)s)")
    ap.add_argument("--stages-only", action="store_true", help="only the corpus and the per-stage cost table")
    args = ap.parse_args(argv)
    if args.real_mix:
        args.docs = args.real_mix
    if args.one_file:
        args.skip_baselines = True

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="newsfold-throughput-"))
    if args.small_drop:
        print(f"newsfold small drop  {datetime.now():%Y-%m-%d %H:%M}  {os.cpu_count()} cores  ({load_now()})",
              flush=True)
        cpu_before = minhash_speed._cpu_seconds()
        t0 = time.perf_counter()
        sd = small_drop(workdir, args.small_drop, before=args.small_drop_before)
        cpu_after = minhash_speed._cpu_seconds()
        if cpu_before and cpu_after:
            sd["other_cpus"] = max(0.0, (cpu_after[0] - cpu_before[0]) - (cpu_after[1] - cpu_before[1])) / (
                time.perf_counter() - t0)
        print_small_drop(sd)
        if "other_cpus" in sd:
            print(f"(other processes used {sd['other_cpus']:.2f} CPUs meanwhile; {load_now()})")
        if args.small_drop_only:
            if args.json:
                args.json.write_text(json.dumps({"small_drop": sd}, indent=2, default=str))
            if not args.workdir:
                shutil.rmtree(workdir, ignore_errors=True)
            return
    corpus_dir, warehouse = workdir / "corpus", workdir / "warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)
    n_base = 0 if args.skip_baselines else min(args.docs, args.baseline_docs or args.docs)
    print(f"newsfold throughput  {datetime.now():%Y-%m-%d %H:%M}  {platform.python_version()}  "
          f"{os.cpu_count()} cores  ({load_now()})")
    t0 = time.perf_counter()
    if args.one_file:
        corpus_dir = write_one_file(workdir / f"one-{args.one_file}", args.docs, args.seed, args.one_file)
        raw = []
        print(f"corpus: {args.docs} documents in one file of {corpus_dir.stat().st_size / 2 ** 20:.0f} MiB, ready in "
              f"{time.perf_counter() - t0:.0f} s -> {corpus_dir}", flush=True)
    else:
        if args.real_mix:
            corpus_dir = workdir / "real-mix"
            raw = write_real_mix(corpus_dir, args.docs, args.real, max(n_base, 1))[:n_base]
        else:
            raw = write_corpus(corpus_dir, args.docs, args.seed, n_base)
        print(f"corpus: {args.docs} {'real-mix ' if args.real_mix else ''}documents ready in "
              f"{time.perf_counter() - t0:.0f} s -> {corpus_dir}", flush=True)

    rows: list[dict] = []
    results: dict = {"date": f"{datetime.now():%Y-%m-%d}", "docs": args.docs, "baseline_docs": n_base,
                     "workers": args.workers, "load_before": os.getloadavg(), "real_mix": bool(args.real_mix)}
    if args.stages and not args.one_file:
        checkouts = {"new": REPO}
        if args.stages_before:
            checkouts["before"] = args.stages_before.resolve()
        costs = stage_costs(corpus_dir, min(args.stages, args.docs), checkouts, args.stages_reps)
        results["stage_costs"] = costs
        print_stage_costs(costs)
        if args.stages_only:
            if args.json:
                args.json.write_text(json.dumps(results, indent=2, default=str))
            return

    if args.small_drop:
        results["small_drop"] = sd
    base_rate = args.baseline_rate
    base_cpu_ms = None
    if n_base:
        texts = [matcher_words(t) for t in raw]
        del raw
        n_words = sum(t.count(" ") + 1 for t in texts)
        print(f"stages 1-2 on {len(texts)} texts, {n_words / len(texts):.0f} words/doc", flush=True)
        bands, rows_per_band = signatures.bands_rows_for_threshold(THRESHOLD, NUM_PERM)
        sample = texts[:args.per_shingle_docs]
        methods = [
            ("1 datasketch update_batch", baselines.datasketch_update_batch, texts),
            ("1 datasketch per-shingle update", baselines.datasketch_per_shingle_update, sample),
            (f"1 rensa RMinHash({bands * rows_per_band}) + LSH", baselines.rensa_minhash, texts),
            ("2 newsfold signatures + LSH, 1 core",
             lambda t: minhash_speed.newsfold_single(t, bands, rows_per_band), texts),
            (f"2 newsfold signatures + LSH, {args.workers} procs",
             lambda t: minhash_speed.newsfold_parallel(t, bands, rows_per_band, args.workers), texts),
        ]
        pair_sets = {}
        for name, run, docs in methods:
            run(docs[:100])  # warm-up: imports, caches
            cpu0 = _own_cpu_s()
            result, other = timed(run, docs)
            cpu_ms = 1000 * (_own_cpu_s() - cpu0) / len(docs)
            rate = len(docs) / result.seconds
            if name == "1 datasketch update_batch":
                base_rate = rate
            if len(docs) == len(texts):
                pair_sets[name] = result.pairs
            stages = ", ".join(f"{k} {v:.1f}" for k, v in result.stages.items())
            rows.append({"method": name, "docs": len(docs), "seconds": result.seconds, "docs_per_s": rate,
                         "other_cpus": other, "stages": stages, "peak_rss_mib": peak_rss_self_mib(),
                         "cpu_ms_per_doc": cpu_ms})
            if name == "1 datasketch update_batch":
                base_cpu_ms = cpu_ms
            print(f"  {name}: {result.seconds:.1f} s", flush=True)
        ref = pair_sets["1 datasketch update_batch"]
        # Two correct MinHash implementations with different hash functions find a pair of
        # Jaccard J independently with probability p(J) = 1-(1-J^r)^b, so near the threshold
        # they disagree by design. Exact shingle Jaccard of every pair any method found tells
        # the pairs apart: above 0.9 (p >= 0.93) every correct method must find nearly all.
        union = set(ref).union(*pair_sets.values())
        exact = {pair: _exact_jaccard(texts, *pair) for pair in union}
        high = {pair for pair, j in exact.items() if j >= 0.9}
        results["agreement"] = {}
        for name, pairs in pair_sets.items():
            jac, rec = minhash_speed.agreement(pairs, ref)
            hj, _ = minhash_speed.agreement(pairs & high, ref & high)
            results["agreement"][name] = {"pairs": len(pairs), "jaccard": jac, "recall": rec,
                                          "jaccard_pairs_j_ge_0.9": hj,
                                          "recall_of_j_ge_0.9": len(pairs & high) / max(1, len(high))}
        results["pairs_j_ge_0.9"] = len(high)
        del texts

    print(f"end to end: {args.docs} files, {args.workers} worker processes, batch {args.batch_size} "
          f"({load_now()})", flush=True)
    summary, wall, rss, other = end_to_end(corpus_dir, warehouse, args.batch_size, args.workers)
    flow_s = summary["elapsed_s"]
    stage_s = summary.get("stage_s", {})
    e2e_cpu_ms = (1000 * (summary["cpu_s"]["main"] + summary["cpu_s"]["children"]) / summary["n_files"]
                  if "cpu_s" in summary else None)
    rows.append({"method": f"3 newsfold end to end, {args.workers} procs", "docs": summary["n_files"],
                 "seconds": flow_s, "docs_per_s": summary["n_files"] / flow_s, "other_cpus": other,
                 "stages": ", ".join(f"{k} {v:.1f}" for k, v in stage_s.items()),
                 "peak_rss_mib": rss.peak / 2 ** 20, "cpu_ms_per_doc": None})
    rows.append({"method": "3 ... incl. interpreter + Prefect start", "docs": summary["n_files"],
                 "seconds": wall, "docs_per_s": summary["n_files"] / wall, "other_cpus": None, "stages": "",
                 "peak_rss_mib": rss.peak / 2 ** 20, "cpu_ms_per_doc": e2e_cpu_ms})
    results["end_to_end"] = {"summary": summary, "wall_s": wall, "peak_rss_tree_mib": rss.peak / 2 ** 20,
                             "peak_rss_main_mib": rss.peak_main / 2 ** 20,
                             "peak_rss_largest_child_mib": rss.peak_child / 2 ** 20,
                             "cpu_s_by_process": rss.cpu_by_role()}

    print(f"\n| stage | docs | seconds | docs/s | × update_batch | peak RSS MiB | other CPUs | CPU ms/doc | "
          f"time per stage (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        ratio = f"{r['docs_per_s'] / base_rate:.2f}" if base_rate else ""
        other = "" if r["other_cpus"] is None else f"{r['other_cpus']:.2f}"
        cpu = "" if r.get("cpu_ms_per_doc") is None else f"{r['cpu_ms_per_doc']:.2f}"
        print(f"| {r['method']} | {r['docs']} | {r['seconds']:.1f} | {r['docs_per_s']:.0f} | {ratio} | "
              f"{r['peak_rss_mib']:.0f} | {other} | {cpu} | {r['stages']} |")
    if base_cpu_ms and e2e_cpu_ms:
        # On a loaded machine the wall-clock ratio mostly measures the neighbours; CPU per
        # document does not. update_batch runs on one core, newsfold on --workers: on an idle
        # machine the end-to-end ratio is at most workers x this one.
        results["cpu_ratio"] = base_cpu_ms / e2e_cpu_ms
        print(f"CPU per document: update_batch {base_cpu_ms:.2f} ms (one core), newsfold end to end {e2e_cpu_ms:.2f} "
              f"ms (all its processes: interpreter, Prefect and its temporary server, workers, plan, commit); "
              f"update_batch / newsfold = {base_cpu_ms / e2e_cpu_ms:.2f} (x {args.workers} cores = "
              f"{args.workers * base_cpu_ms / e2e_cpu_ms:.2f}, the end-to-end ratio's ceiling on an idle machine)")
    print("(peak RSS: stages 1-2 are this process, cumulative; end to end is the ingest's whole process tree. "
          "other CPUs: CPU used by other processes on the machine during the run)")
    if "agreement" in results:
        print(f"\npair agreement with datasketch update_batch (Jaccard of the candidate-pair sets); "
              f"{results['pairs_j_ge_0.9']} of the pairs have exact shingle Jaccard >= 0.9")
        print(f"  {'method':44s} {'pairs':>7s} {'all pairs':>10s} {'pairs J>=0.9':>13s} {'recall J>=0.9':>14s}")
        for name, a in results["agreement"].items():
            print(f"  {name:44s} {a['pairs']:7d} {a['jaccard']:10.4f} {a['jaccard_pairs_j_ge_0.9']:13.4f} "
                  f"{a['recall_of_j_ge_0.9']:14.4f}")
    e2e = summary
    print(f"\nend to end: {e2e['n_accepted']} accepted, {e2e['n_new_articles']} articles, "
          f"{e2e['n_exact_duplicates'] + e2e['n_near_duplicates'] + e2e['n_contained']} copies folded; "
          f"peak RSS of the ingest's main process {rss.peak_main / 2 ** 20:.0f} MiB, of its largest child process "
          f"{rss.peak_child / 2 ** 20:.0f} MiB")
    if "process_cpu_s" in e2e:
        print("  seconds summed over batches: " + ", ".join(f"{k} {v:.1f}" for k, v in e2e["process_cpu_s"].items()))
    if "cpu_s" in e2e:
        print(f"  CPU seconds: ingest main process {e2e['cpu_s']['main']}, its child processes "
              f"{e2e['cpu_s']['children']} (worker processes; Prefect's temporary server)")
    print("  CPU seconds by process (sampled): " + "; ".join(
        f"{role} {' + '.join(map(str, cpus))}" for role, cpus in rss.cpu_by_role().items()))
    print(f"after: {load_now()}")
    results["rows"] = rows
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
