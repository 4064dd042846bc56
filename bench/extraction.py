"""Body extraction on real pages, side by side in one run: newsfold on the HTML, newsfold on
the page flattened to visible text (one block per line, and all on one line), trafilatura on
the HTML (the reference to beat) and the raw flattened text, scored against the truth of
/work/shared/real (see its README).

    python bench/extraction.py                    # the tables
    python bench/extraction.py --pages 15         # plus the 15 worst pages of each newsfold run
    python bench/extraction.py --real DIR --sets readability_testpages

Scores: bag-of-words precision / recall / F1 of the lowercase word tokens of the extracted
text against the reference text (readability_testpages: Readability.js's reviewed output;
newspaper_tests: newspaper3k's, approximate), per page, then the mean over pages; for
trafilatura_eval_news (no reference text, human snippets) the share of pages where every
must-contain snippet is present and no must-not-contain snippet is.

newsfold runs the way `newsfold ingest` does: `pipeline.drop.process_batch` over the files
of a set, so the chrome stage sees all pages of a source together ("drop"); and once per
page, alone, as a drop of one file from a site never seen before ("one page").

`extraction_report(real_dir)` returns the printed tables (bench/quality.py calls it);
`flatten_html(html, one_line=False)` is the flattener.
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import dedup, drop, sources  # noqa: E402
from pipeline.config import IngestConfig  # noqa: E402

DEFAULT_REAL = Path(__file__).resolve().parents[2] / "shared" / "real"
TEXT_SETS = ("readability_testpages", "newspaper_tests")   # reference text
SNIPPET_SETS = ("trafilatura_eval_news",)                  # must / must-not snippets
SETS = TEXT_SETS + SNIPPET_SETS

# Elements whose text a browser never shows.
_INVISIBLE = {"script", "style", "noscript", "template", "head", "title", "meta", "link", "svg", "iframe",
              "object", "embed", "canvas", "select", "option"}
# Elements that start a new line of visible text.
_BLOCK = {"address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd", "details",
          "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
          "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav",
          "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
          "ul", "button", "label", "input", "textarea"}
_WORD = re.compile(r"\w+")


def flatten_html(html: str, one_line: bool = False) -> str:
    """A page's visible text as a scraper that drops the tags keeps it: script, style,
    noscript, template (and the head) dropped, text nodes kept in document order, a new
    line at every block element (one_line: all of it on one line, blocks joined by a space)."""
    import lxml.html
    from lxml import etree

    try:
        # the decoded text, not its UTF-8 bytes: lxml would decode bytes by the page's
        # <meta charset> (gb2312, ...) again, and a browser shows the decoded text
        root = lxml.html.document_fromstring(html)
    except ValueError:  # a str with an XML encoding declaration: give lxml the bytes
        try:
            root = lxml.html.document_fromstring(html.encode("utf-8", "replace"))
        except (etree.ParserError, ValueError):
            return ""
    except etree.ParserError:
        return ""
    parts: list[str] = []
    skip = 0

    def tag_of(el) -> str:
        return el.tag.lower() if isinstance(el.tag, str) else ""

    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = tag_of(el)
        if event == "start":
            if tag in _INVISIBLE or not isinstance(el.tag, str):  # comments, processing instructions
                skip += 1
            elif not skip:
                if tag in _BLOCK:
                    parts.append("\n")
                if el.text:  # "<b>Tracker</b><i> was</i>": the space before "was" is the text's own
                    parts.append((" " if el.text[:1].isspace() else "") + " ".join(el.text.split())
                                 + (" " if el.text[-1:].isspace() else ""))
        else:
            if tag in _INVISIBLE or not isinstance(el.tag, str):
                skip -= 1
            elif not skip and tag in _BLOCK:
                parts.append("\n")
            if not skip and el.tail:  # a text node's own line breaks are spaces to a browser
                parts.append((" " if el.tail[:1].isspace() else "") + " ".join(el.tail.split())
                             + (" " if el.tail[-1:].isspace() else ""))
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return (" " if one_line else "\n").join(line for line in lines if line)


def words(text: str) -> Counter:
    return Counter(_WORD.findall(text.lower()))


def bag_of_words(predicted: str, truth: str) -> tuple[float, float, float]:
    """Precision, recall, F1 of the predicted text's lowercase word tokens (with
    multiplicity) against the truth's."""
    p, t = words(predicted), words(truth)
    common = sum((p & t).values())
    precision = common / sum(p.values()) if p else 0.0
    recall = common / sum(t.values()) if t else 0.0
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return precision, recall, f1


def _squash(text: str) -> str:
    return " ".join(text.split())


def snippets_pass(predicted: str, must: list[str], must_not: list[str]) -> bool:
    text = _squash(predicted)
    return all(_squash(s) in text for s in must) and not any(_squash(s) in text for s in must_not)


@dataclass
class Page:
    set: str
    id: str
    html: str
    truth: str | None
    must: list[str] = field(default_factory=list)
    must_not: list[str] = field(default_factory=list)
    title: str | None = None


def load_pages(real: Path, sets=SETS) -> list[Page]:
    pages = []
    for name in sets:
        for meta_path in sorted((real / name / "pages").glob("*.json")):
            html_path = meta_path.with_suffix(".html.gz")
            if not html_path.exists():
                continue
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            html, _ = sources.decode(gzip.decompress(html_path.read_bytes()))
            pages.append(Page(name, meta["id"], html, meta.get("text"), meta.get("must_contain") or [],
                              meta.get("must_not_contain") or [], meta.get("title")))
    return pages


def _newsfold(files: dict[str, str], suffix: str, one_page: bool, tmp: Path) -> dict[str, tuple[str, str]]:
    """Clean text and title per key, newsfold run as the ingest does (process_batch over the files).
    Keys are "<set>/<id>"; a set is one folder (one source for text files, as a scraper's
    drop folder). one_page: every file in a folder of its own, processed alone."""
    params = dedup.DedupParams()
    paths: dict[str, Path] = {}
    for i, (key, text) in enumerate(files.items()):
        folder = tmp / (f"p{i}" if one_page else key.split("/")[0])
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{i:05d}{suffix}"
        path.write_text(text, encoding="utf-8")
        paths[key] = path
    by_path = {str(p): k for k, p in paths.items()}
    out: dict[str, tuple[str, str]] = {}
    batches = [[p] for p in paths.values()] if one_page else [
        [p for k, p in paths.items() if k.startswith(s + "/")] for s in {k.split("/")[0] for k in paths}]
    for batch in batches:
        table = drop.process_batch(batch, IngestConfig(dedup=params))
        for path, text, title in zip(table.column("source_path").to_pylist(), table.column("text").to_pylist(),
                                     table.column("title").to_pylist()):
            out[by_path[path]] = (text or "", title or "")
    return out


def _trafilatura(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html) or ""


SYSTEMS = ("newsfold html, drop", "newsfold html, one page", "trafilatura html",
           "newsfold lines, drop", "newsfold lines, one page", "raw lines",
           "newsfold one line, drop", "newsfold one line, one page", "raw one line")


def evaluate(real: Path = DEFAULT_REAL, sets=SETS) -> tuple[list[Page], dict[str, dict[str, str]]]:
    """The pages and, per system, the text it extracted per page ("<set>/<id>"); newsfold's
    titles under "<system> title"."""
    pages = load_pages(real, sets)
    html = {f"{p.set}/{p.id}": p.html for p in pages}
    lines = {k: flatten_html(h) for k, h in html.items()}
    one_line = {k: flatten_html(h, one_line=True) for k, h in html.items()}
    out: dict[str, dict[str, str]] = {"trafilatura html": {k: _trafilatura(h) for k, h in html.items()},
                                      "raw lines": lines, "raw one line": one_line}
    for label, files, suffix in (("html", html, ".html"), ("lines", lines, ".txt"),
                                 ("one line", one_line, ".txt")):
        for mode, one_page in (("drop", False), ("one page", True)):
            with tempfile.TemporaryDirectory(prefix="newsfold-extraction-") as tmp:
                got = _newsfold(files, suffix, one_page, Path(tmp))
            out[f"newsfold {label}, {mode}"] = {k: text for k, (text, _) in got.items()}
            out[f"newsfold {label}, {mode} title"] = {k: title for k, (_, title) in got.items()}
    return pages, out


def title_match(predicted: str, truth: str) -> bool:
    """The same title, ignoring case and spacing, or one holding the other (a site name
    after the headline, a kicker before it)."""
    a, b = _squash(predicted).casefold(), _squash(truth).casefold()
    return bool(a and b) and (a in b or b in a)


def score(pages: list[Page], texts: dict[str, dict[str, str]]) -> dict[str, dict[str, dict]]:
    """set -> system -> {"p", "r", "f1" (means), "pass" (snippet pass rate), "title" (share of
    pages with the right title, newsfold only), "pages": {id: f1 or pass}}."""
    result: dict[str, dict[str, dict]] = {}
    for s in sorted({p.set for p in pages}, key=SETS.index):
        here = [p for p in pages if p.set == s]
        result[s] = {}
        for system in SYSTEMS:
            got = texts[system]
            row: dict = {"pages": {}}
            if here[0].truth is not None:
                prf = [bag_of_words(got[f"{p.set}/{p.id}"], p.truth) for p in here]
                row.update(p=statistics.mean(x[0] for x in prf), r=statistics.mean(x[1] for x in prf),
                           f1=statistics.mean(x[2] for x in prf))
                row["pages"] = {p.id: x[2] for p, x in zip(here, prf)}
            else:
                passed = [snippets_pass(got[f"{p.set}/{p.id}"], p.must, p.must_not) for p in here]
                row["must"] = statistics.mean(all(_squash(m) in _squash(got[f"{p.set}/{p.id}"]) for m in p.must)
                                              for p in here)
                row["must_not"] = statistics.mean(not any(_squash(m) in _squash(got[f"{p.set}/{p.id}"])
                                                          for m in p.must_not) for p in here)
                row["pass"] = statistics.mean(passed)
                row["pages"] = {p.id: float(x) for p, x in zip(here, passed)}
            titles = texts.get(f"{system} title")
            with_title = [p for p in here if p.title]
            if titles is not None and with_title:
                row["title"] = statistics.mean(title_match(titles[f"{p.set}/{p.id}"], p.title) for p in with_title)
            result[s][system] = row
    return result


def _title(row: dict) -> str:
    return f"{row['title']:.3f}" if "title" in row else "–"


def format_tables(scores: dict[str, dict[str, dict]], pages: list[Page] | None = None,
                  texts: dict[str, dict[str, str]] | None = None, worst: int = 0) -> str:
    lines = []
    for s, rows in scores.items():
        n = len(next(iter(rows.values()))["pages"])
        lines.append(f"\n{s} ({n} pages)")
        if "f1" in next(iter(rows.values())):
            lines.append(f"| {'system':<28} | precision | recall | F1 | title right |")
            lines.append("|---|---:|---:|---:|---:|")
            for system, row in rows.items():
                lines.append(f"| {system:<28} | {row['p']:.3f} | {row['r']:.3f} | {row['f1']:.3f} | {_title(row)} |")
        else:
            lines.append(f"| {'system':<28} | snippets passed | all must-contain | no must-not-contain | title right |")
            lines.append("|---|---:|---:|---:|---:|")
            for system, row in rows.items():
                lines.append(f"| {system:<28} | {row['pass']:.3f} | {row['must']:.3f} | {row['must_not']:.3f} "
                             f"| {_title(row)} |")
    if worst:
        for s, rows in scores.items():
            for system in ("newsfold html, drop", "newsfold lines, one page", "newsfold one line, one page"):
                ref = rows["trafilatura html"]["pages"]
                ranked = sorted(rows[system]["pages"].items(), key=lambda kv: kv[1] - ref[kv[0]])[:worst]
                lines.append(f"\nworst pages, {s}, {system} (score; trafilatura's):")
                lines.extend(f"  {pid:<40} {v:.3f}  {ref[pid]:.3f}" for pid, v in ranked)
    return "\n".join(lines)


def extraction_report(real: Path = DEFAULT_REAL, sets=SETS, worst: int = 0) -> str:
    """The body-extraction tables of all sets, as printed by main()."""
    pages, texts = evaluate(real, sets)
    return format_tables(score(pages, texts), pages, texts, worst)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--real", type=Path, default=DEFAULT_REAL, help="the real-data folder (default: %(default)s)")
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    ap.add_argument("--pages", type=int, default=0, metavar="N", help="list the N worst pages per newsfold run")
    ap.add_argument("--dump", type=Path, metavar="DIR", help="write every system's text per page here")
    a = ap.parse_args(argv)
    if not a.real.is_dir():
        print(f"error: no real-data folder at {a.real} (use --real DIR)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    pages, texts = evaluate(a.real, tuple(a.sets))
    if a.dump:
        for system, got in texts.items():
            for key, text in got.items():
                path = a.dump / key / (system.replace(" ", "_").replace(",", "") + ".txt")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        for p in pages:
            if p.truth is not None:
                (a.dump / p.set / p.id / "truth.txt").write_text(p.truth, encoding="utf-8")
    print(f"body extraction on real pages ({len(pages)} pages, {time.perf_counter() - t0:.0f} s)")
    print(format_tables(score(pages, texts), pages, texts, a.pages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
