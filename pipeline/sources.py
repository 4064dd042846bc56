"""Read stage: turn input paths into `Doc` records with raw text or a reject reason.

Every file we are given becomes exactly one record, whatever is wrong with it:
an ingest pipeline sees binary files, empty files and odd encodings as normal
input, and the user must be able to find out what happened to each one.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from .model import Doc

TEXT_SUFFIXES = {".txt", ".text", ".md", ""}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

# Reject reasons of this stage (the clean stage adds "no_article_text").
EMPTY = "empty_file"
BINARY = "binary_file"
TOO_LARGE = "too_large"
UNSUPPORTED = "unsupported_format"
UNREADABLE = "unreadable"
HTML_NO_TEXT = "html_without_text"


def discover(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Expand files and folders (recursively) into a sorted list of files.

    Hidden files and folders (".git", ".DS_Store") are skipped; a path that
    does not exist raises FileNotFoundError so the CLI can say so plainly.
    """
    found: set[Path] = set()
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"no such file or folder: {p}")
        if p.is_file():
            found.add(p.resolve())
            continue
        # Resolve the folder once, not every file: os.walk does not enter symlinked
        # folders, so only a file that is itself a symlink needs resolve() (a
        # million resolve() calls took 50 s).
        for root, dirs, files in os.walk(p.resolve()):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for f in files:
                if not f.startswith("."):
                    path = os.path.join(root, f)
                    found.add(Path(path).resolve() if os.path.islink(path) else Path(path))
    return sorted(found)


def doc_id_for(path: str, content_sha256: str) -> str:
    """A document is one file's content at one path: the same bytes at the same
    path are the same document (re-ingesting it is a no-op), the same bytes at
    another path are another document (an exact duplicate)."""
    return hashlib.sha256(f"{path}\n{content_sha256}".encode()).hexdigest()[:24]


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def looks_binary(data: bytes) -> bool:
    if data.startswith(_UTF16_BOMS):
        return False  # UTF-16 text is full of NUL bytes; decode() reads it by its BOM
    head = data[:8192]
    if b"\x00" in head:
        return True
    # bytes.translate deletes the control bytes in C; the length difference counts them
    control = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return control > 0.1 * len(head)


def decode(data: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8, falling back to cp1252 and finally latin-1.

    latin-1 never fails, so a non-binary file always yields text; the encoding
    actually used is recorded in `documents.encoding`. Mojibake (UTF-8 that was
    once decoded as cp1252) is repaired later, in the clean stage.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1"), "latin-1"


def _giant_digest(spath: str, stat: os.stat_result) -> str:
    # Giant files are not read; they are identified by path, size and mtime.
    return hashlib.sha256(f"{spath}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()


def identify(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str | None:
    """The doc_id `read_document` would give this file, without decoding it (None if unreadable).

    Lets a flow skip files the warehouse already holds before doing any work on them.
    """
    spath = str(path)
    try:
        stat = path.stat()
        if stat.st_size > max_bytes:
            return doc_id_for(spath, _giant_digest(spath, stat))
        return doc_id_for(spath, hashlib.sha256(path.read_bytes()).hexdigest())
    except OSError:
        return None


def source_names(paths: Iterable[str | Path]) -> set[str] | None:
    """The sources the files can belong to, known before reading them: their folders'
    names (see read_document); None when an HTML page is among them, whose source is the
    site name trafilatura finds in the page."""
    names = set()
    for p in map(Path, paths):
        if p.suffix.lower() in HTML_SUFFIXES:
            return None
        names.add(p.parent.name)
    return names


def read_document(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Doc:
    spath = str(path)
    source_name = path.parent.name
    try:
        stat = path.stat()
        if stat.st_size > max_bytes:
            digest = _giant_digest(spath, stat)
            return Doc(doc_id_for(spath, digest), spath, source_name, digest, stat.st_size, reject_reason=TOO_LARGE)
        data = path.read_bytes()
    except OSError as exc:
        digest = hashlib.sha256(spath.encode()).hexdigest()
        return Doc(doc_id_for(spath, digest), spath, source_name, digest, 0,
                   reject_reason=f"{UNREADABLE}: {exc.strerror or exc}")

    digest = hashlib.sha256(data).hexdigest()
    doc = Doc(doc_id_for(spath, digest), spath, source_name, digest, len(data))
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        doc.reject_reason = UNSUPPORTED
    elif not data.strip():
        doc.reject_reason = EMPTY
    elif looks_binary(data):
        doc.reject_reason = BINARY
    else:
        text, doc.encoding = decode(data)
        if suffix in HTML_SUFFIXES:
            _extract_html(doc, text)
        else:
            doc.raw_text = text
    return doc


def _extract_html(doc: Doc, html: str) -> None:
    """HTML goes through trafilatura, which removes page chrome by DOM structure.

    The extracted text becomes the document's raw text (offsets in
    removed_spans refer to it), and trafilatura's metadata seeds title, byline,
    date and source name.
    """
    import trafilatura  # imported lazily: it is slow to import and only HTML needs it

    doc.fmt = "html"
    result = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False,
                                         favor_precision=True)
    if result is None or not (result.text or "").strip():
        doc.reject_reason = HTML_NO_TEXT
        return
    doc.raw_text = result.text
    doc.title = result.title or None
    doc.byline = result.author or None
    doc.canonical_url = result.url or None  # <link rel=canonical> or og:url; normalised by readers.canonical_url
    if result.sitename or result.hostname:
        doc.source_name = result.sitename or result.hostname
    if result.date:
        from .clean import parse_date

        doc.published_at = parse_date(result.date)


def read_documents(paths: Iterable[Path], max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Doc]:
    for path in paths:
        yield read_document(Path(path), max_bytes)
