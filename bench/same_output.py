"""Does a change keep newsfold's output the same? Compare two checkouts row by row.

    python bench/same_output.py --before CHECKOUT [--corpus DIR] [--docs N] [--real DIR]

Runs `pipeline.drop.process_batch` of this checkout and of CHECKOUT (e.g. `git worktree add
/tmp/before HEAD~1`) over the same documents, each in a subprocess with its own code, and
compares a hash of every staged column of every document (status, reason, title, byline,
date, clean text, removed spans, word count, MinHash signature, band hashes, ...; not the
paths and ids, which name temporary files). The documents: the seeds, the test fixtures,
the first N files of CORPUS (e.g. a folder bench/corpus.py wrote) and the real pages of
../shared/real as HTML, flattened a line per block and flattened onto one line (the forms
bench/extraction.py scores). A refactoring must print "identical"; a change of behaviour
lists the documents it changed, to read.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
BATCH = 500
FORMS = ("html", "lines.txt", "line.txt")  # the real pages' three forms
SKIP = ("doc_id", "source_path", "source_uri", "url")  # name temporary files, not content


def _inputs(work: Path, corpus: Path | None, n: int, real: Path) -> list[tuple[str, Path]]:
    """(key, file) of every document to compare; the real pages are written into work."""
    files = [(f"seeds/{p.name}", p) for p in sorted((HERE / "seeds").glob("*.txt"))]
    files += [(f"fixtures/{p.relative_to(HERE / 'tests' / 'fixtures')}", p)
              for p in sorted((HERE / "tests" / "fixtures").rglob("*")) if p.is_file() and p.suffix in (".txt", ".html")]
    if corpus is not None:
        files += [(f"corpus/{p.name}", p) for p in sorted(p for p in corpus.rglob("*") if p.is_file())[:n]]
    if real.is_dir():
        sys.path.insert(0, str(HERE / "bench"))
        from extraction import flatten_html, load_pages

        for page in load_pages(real):
            texts = (page.html, flatten_html(page.html), flatten_html(page.html, one_line=True))
            for form, text in zip(FORMS, texts):
                path = work / page.set / f"{page.id}.{form}"  # one folder per set: one source, as a drop
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                files.append((f"real/{page.set}/{page.id}.{form}", path))
    return files


def dump(repo: Path, listing: Path) -> dict[str, str]:
    """Hash per key of process_batch's rows, with the code of `repo` (run in a subprocess)."""
    sys.path.insert(0, str(repo))
    from pipeline import drop
    from pipeline.config import IngestConfig

    pairs = json.loads(listing.read_text())
    key_of = {path: key for key, path in pairs}
    paths = [path for _, path in pairs]
    out: dict[str, str] = {}
    for i in range(0, len(paths), BATCH):
        table = drop.process_batch(paths[i:i + BATCH], IngestConfig())
        for row in table.to_pylist():
            key = key_of[row["source_path"]]
            row = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in row.items() if k not in SKIP}
            out[key] = hashlib.sha256(json.dumps(row, default=str, sort_keys=True).encode()).hexdigest()
    return out


def _run(repo: Path, listing: Path) -> dict[str, str]:
    done = subprocess.run([sys.executable, __file__, "--dump", str(repo), "--listing", str(listing)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, help="the checkout to compare this one with")
    ap.add_argument("--corpus", type=Path, help="a folder of documents (e.g. written by bench/corpus.py)")
    ap.add_argument("--docs", type=int, default=3000, help="files of --corpus to use (default: %(default)s)")
    ap.add_argument("--real", type=Path, default=HERE.parent / "shared" / "real",
                    help="the shared real-data folder (default: %(default)s; skipped if missing)")
    ap.add_argument("--show", type=int, default=20, help="changed documents to list (default: %(default)s)")
    ap.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--listing", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.dump:
        print(json.dumps(dump(args.dump, args.listing)))
        return 0
    if args.before is None:
        ap.error("--before CHECKOUT is required")
    with tempfile.TemporaryDirectory(prefix="newsfold-same-output-") as tmp:
        files = _inputs(Path(tmp), args.corpus, args.docs, args.real)
        listing = Path(tmp) / "listing.json"
        listing.write_text(json.dumps([(key, str(path)) for key, path in files]))
        before, after = _run(args.before.resolve(), listing), _run(HERE, listing)
    changed = sorted(k for k in after if before.get(k) != after[k])
    groups: dict[str, int] = {}
    for key in changed:
        form = next((f for f in FORMS if key.endswith("." + f)), "")
        group = key.split("/")[0] + (f" {form}" if key.startswith("real/") else "")
        groups[group] = groups.get(group, 0) + 1
    print(f"{len(after)} documents compared ({args.before} against this checkout)")
    if not changed:
        print("identical: every staged column of every document")
        return 0
    print(f"{len(changed)} changed: " + ", ".join(f"{g} {n}" for g, n in sorted(groups.items())))
    for key in changed[:args.show]:
        print("  " + key)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
