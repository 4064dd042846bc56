"""Read stage: turn input paths into `Doc` records with raw text or a reject reason.

Every file we are given becomes exactly one record, whatever is wrong with it:
an ingest pipeline sees binary files, empty files and odd encodings as normal
input, and the user must be able to find out what happened to each one.

Hostile paths (a drop folder is often a shared inbox):
- Only regular files are opened. FIFOs, sockets and devices are recorded as
  `not_a_regular_file` from their lstat, never opened: opening a FIFO blocks,
  reading /dev/zero never ends. Files are opened with O_NOFOLLOW | O_NONBLOCK and
  checked again with fstat, so a path swapped for a FIFO or a link after the
  check is not followed or waited on either.
- At most max_bytes + 1 bytes are read: a file that grows past the limit while
  it is read is `too_large`, like one whose size says so up front.
- Symlinks: `discover` replaces a link by its target when the target lies inside
  the given paths, or anywhere when the user asks (`follow_symlinks`). A path that
  is still a link when it is read is never followed: it points outside the inputs
  (`symlink_outside_inputs`) or nowhere (`unreadable`: a broken link or a loop).
- File names that are not valid UTF-8 (os gives them as surrogate escapes) are
  stored in `source_path` with the bad bytes written as backslash escapes
  (`os.fsencode(path).decode("utf-8", "backslashreplace")`: b"caf\\xe9.txt" ->
  "caf\\\\xe9.txt"). Lone surrogates are not valid UTF-8, so neither Arrow nor
  DuckDB can store them. The file itself is read like any other.
- Whatever fails for one path (stat, open, read) becomes its reject reason, with
  the details in `Doc.error`; nothing found inside a folder raises. Only a path the
  user named that does not exist raises (FileNotFoundError), since that is a typo.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat as st
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
UNREADABLE = "unreadable"                       # details (a loop, a broken link, EACCES) in Doc.error
NOT_REGULAR = "not_a_regular_file"              # FIFO, socket, device: never opened
SYMLINK_OUTSIDE = "symlink_outside_inputs"      # not followed without --follow-symlinks
HTML_NO_TEXT = "html_without_text"
SHORT_EXTRACT = 200  # words: a precise extraction this short may have missed the article


def display_path(path: str | os.PathLike) -> str:
    """The path as stored: valid UTF-8, undecodable bytes of the name as backslash escapes."""
    s = os.fspath(path)
    if s.isascii():
        return s
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return os.fsencode(s).decode("utf-8", "backslashreplace")


def _inside(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def discover(paths: Iterable[str | os.PathLike], follow_symlinks: bool = False,
             skip: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Expand files and folders (recursively) into a sorted list of paths to read.

    Hidden files and folders (".git", ".DS_Store") are skipped, and so are the folders in
    `skip` (the warehouse: `newsfold ingest .` beside ./warehouse read its catalog, Parquet
    files and lock file as documents, more of them every drop); a path that
    does not exist raises FileNotFoundError so the CLI can say so plainly.
    A path the user names is taken as named (a link to it is followed). Inside
    folders, a symlink is replaced by its target when that lies inside the given
    paths (or anywhere, with `follow_symlinks`); otherwise the link itself is
    listed, and `read_document` records why it was not read. Whatever else
    sits in a folder (FIFOs, devices, folders that cannot be listed) is listed
    too, so it gets its `documents` row.
    """
    found: set[Path] = set()
    roots: list[str] = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"no such file or folder: {display_path(p)}")
        roots.append(os.path.realpath(p))
    skipped = {os.path.realpath(p) for p in skip}
    pending = [r for r in roots if os.path.isdir(r) and r not in skipped]
    found.update(Path(r) for r in roots if not os.path.isdir(r))
    walked: set[str] = set()
    while pending:
        top = pending.pop()
        if top in walked:
            continue
        walked.add(top)
        # Resolve the folder once, not every file: os.walk does not enter symlinked
        # folders, so only an entry that is itself a symlink needs realpath() (a
        # million resolve() calls took 50 s).
        for root, dirs, files in os.walk(top, onerror=lambda exc: found.add(Path(exc.filename))):
            dirs[:] = [d for d in dirs if not d.startswith(".") and os.path.join(root, d) not in skipped]
            for d in dirs:
                path = os.path.join(root, d)
                if os.path.islink(path):  # os.walk does not enter it
                    target = os.path.realpath(path)
                    if _inside(target, roots):
                        continue  # walked as part of the inputs already
                    if follow_symlinks:
                        pending.append(target)
                    else:
                        found.add(Path(path))
            for f in files:
                if f.startswith("."):
                    continue
                path = os.path.join(root, f)
                if os.path.islink(path):
                    found.add(_link_target(path, roots, follow_symlinks))
                else:
                    found.add(Path(path))
    return sorted(found)


def _link_target(path: str, roots: list[str], follow_symlinks: bool) -> Path:
    """The target of a symlink found in a folder, or the link itself when it is not to be followed."""
    try:
        target = Path(path).resolve(strict=True)
    except (OSError, RuntimeError):  # a broken link or a loop: read_document says which
        return Path(path)
    if follow_symlinks or _inside(str(target), roots):
        return target
    return Path(path)


def doc_id_for(path: str, content_sha256: str) -> str:
    """A document is one file's content at one path: the same bytes at the same
    path are the same document (re-ingesting it is a no-op), the same bytes at
    another path are another document (an exact duplicate)."""
    return hashlib.sha256(f"{path}\n{content_sha256}".encode()).hexdigest()[:24]


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def utf16_without_bom(data: bytes) -> str | None:
    """"utf-16-le" / "utf-16-be" when the bytes look like UTF-16 without a BOM, else None.

    Text in a Latin, Greek or Cyrillic script written as UTF-16 has a NUL as the high
    byte of most characters: NULs at most odd positions (little-endian) or most even
    ones (big-endian), and hardly any at the others. Binary data has no such pattern.
    (UTF-16 of CJK text has few NUL bytes and is not recognised; it is then binary.)
    """
    head = data[:8192]
    half = len(head) // 2
    if half < 2:
        return None
    even, odd = head[0:2 * half:2].count(0), head[1:2 * half:2].count(0)
    if odd >= 0.3 * half and even <= 0.02 * half:
        return "utf-16-le"
    if even >= 0.3 * half and odd <= 0.02 * half:
        return "utf-16-be"
    return None


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


def _giant_digest(spath: str, size: int, mtime_ns: int) -> str:
    # Giant files are not read; they are identified by path, size and mtime.
    return hashlib.sha256(f"{spath}:{size}:{mtime_ns}".encode()).hexdigest()


def _path_digest(spath: str) -> str:
    # What was not read is identified by its path alone.
    return hashlib.sha256(spath.encode()).hexdigest()


class _Unread(Exception):
    """A path that is not read: its reject reason and, for `unreadable`, what went wrong."""

    def __init__(self, reason: str, error: str | None = None, digest: str | None = None, size: int = 0):
        super().__init__(reason)
        self.reason, self.error, self.digest, self.size = reason, error, digest, size


def _link_problem(path: Path) -> _Unread:
    """Why a symlink found in the inputs is not read (see module docstring)."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _Unread(UNREADABLE, "symlink loop")
        if exc.errno == errno.ENOENT:
            return _Unread(UNREADABLE, f"broken symlink (target {display_path(os.readlink(path))} does not exist)")
        return _Unread(UNREADABLE, f"symlink: {exc.strerror or exc}")
    return _Unread(SYMLINK_OUTSIDE, f"symlink to {display_path(os.path.realpath(path))}, outside the inputs "
                                    "(--follow-symlinks reads it)")


def _read_bytes(path: Path, spath: str, max_bytes: int) -> bytes:
    """The file's bytes, at most max_bytes of them; raises _Unread for anything else."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise _Unread(UNREADABLE, exc.strerror or str(exc)) from None
    if st.S_ISLNK(info.st_mode):
        raise _link_problem(path)
    if st.S_ISDIR(info.st_mode):  # a folder discover could not list
        try:
            os.listdir(path)
        except OSError as exc:
            raise _Unread(UNREADABLE, f"folder cannot be listed: {exc.strerror or exc}") from None
        raise _Unread(NOT_REGULAR, "a folder")
    if not st.S_ISREG(info.st_mode):
        kind = ("FIFO" if st.S_ISFIFO(info.st_mode) else "socket" if st.S_ISSOCK(info.st_mode)
                else "device" if st.S_ISCHR(info.st_mode) or st.S_ISBLK(info.st_mode) else "special file")
        raise _Unread(NOT_REGULAR, kind)
    if info.st_size > max_bytes:
        raise _Unread(TOO_LARGE, digest=_giant_digest(spath, info.st_size, info.st_mtime_ns), size=info.st_size)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symlink since the lstat
            raise _link_problem(path) from None
        raise _Unread(UNREADABLE, exc.strerror or str(exc)) from None
    try:
        opened = os.fstat(fd)
        if not st.S_ISREG(opened.st_mode):  # replaced by a FIFO or device since the lstat
            raise _Unread(NOT_REGULAR, "not a regular file when opened")
        with open(fd, "rb", closefd=False) as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise _Unread(UNREADABLE, exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew while we read
        raise _Unread(TOO_LARGE, digest=_giant_digest(spath, opened.st_size, opened.st_mtime_ns),
                      size=max(opened.st_size, len(data)))
    return data


def content_digest(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The `content_sha256` `read_document` gives this path, without decoding it."""
    spath = display_path(path)
    try:
        return hashlib.sha256(_read_bytes(Path(path), spath, max_bytes)).hexdigest()
    except _Unread as unread:
        return unread.digest or _path_digest(spath)


def identify(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The doc_id `read_document` would give this file, without decoding it.

    Lets a flow skip files the warehouse already holds before doing any work on them.
    """
    return doc_id_for(display_path(path), content_digest(path, max_bytes))


def source_names(paths: Iterable[str | Path]) -> set[str] | None:
    """The sources the files can belong to, known before reading them: their folders'
    names (see read_document); None when an HTML page is among them, whose source is the
    site name trafilatura finds in the page."""
    names = set()
    for p in map(Path, paths):
        if p.suffix.lower() in HTML_SUFFIXES:
            return None
        names.add(display_path(p.parent.name))
    return names


def read_document(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Doc:
    """One path as a Doc: raw text, or a reject reason. Never raises for anything on disk."""
    path = Path(path)
    spath = display_path(path)
    source_name = display_path(path.parent.name)
    try:
        data = _read_bytes(path, spath, max_bytes)
    except _Unread as unread:
        digest = unread.digest or _path_digest(spath)
        return Doc(doc_id_for(spath, digest), spath, source_name, digest, unread.size,
                   reject_reason=unread.reason, error=unread.error)

    digest = hashlib.sha256(data).hexdigest()
    doc = Doc(doc_id_for(spath, digest), spath, source_name, digest, len(data))
    suffix = path.suffix.lower()
    utf16 = None
    if suffix not in SUPPORTED_SUFFIXES:
        doc.reject_reason = UNSUPPORTED
    elif not data.strip():
        doc.reject_reason = EMPTY
    elif not data.startswith(_UTF16_BOMS) and (utf16 := utf16_without_bom(data)):
        try:
            text, doc.encoding = data.decode(utf16), utf16
        except UnicodeDecodeError:
            doc.reject_reason = BINARY
    elif looks_binary(data):
        doc.reject_reason = BINARY
    else:
        text, doc.encoding = decode(data)
    if doc.accepted:
        if suffix in HTML_SUFFIXES:
            _extract_html(doc, text)
        else:
            doc.raw_text = text
    return doc


def _extract_html(doc: Doc, html: str) -> None:
    """HTML goes through trafilatura, which removes page chrome by DOM structure.

    favor_precision keeps least chrome, but on some page layouts it keeps only a fragment
    of the article: when it keeps under SHORT_EXTRACT words and favor_recall keeps over 3x
    as much, the recall extraction is taken (measured on real pages in bench/extraction.py:
    mean F1 0.936 -> 0.952 on readability_testpages, snippet pass rate unchanged).
    The extracted text becomes the document's raw text (offsets in removed_spans refer to
    it), and trafilatura's metadata seeds title, byline, date and source name.
    """
    import trafilatura  # imported lazily: it is slow to import and only HTML needs it

    from .text import parse_date, word_count

    # trafilatura warns per page it finds no text in ("discarding data: None"), in every worker
    # process and on the user's terminal; the document's reject reason already says it
    logging.getLogger("trafilatura").setLevel(logging.ERROR)

    def extract(**favor):
        result = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, **favor)
        text = (result.text or "") if result is not None else ""
        return result, sum(word_count(line) for line in text.split("\n") if line.strip())

    doc.fmt = "html"
    result, n_words = extract(favor_precision=True)
    if n_words < SHORT_EXTRACT:
        fuller, n_fuller = extract(favor_recall=True)
        if n_fuller > 3 * n_words:
            result, n_words = fuller, n_fuller
    if not n_words:
        doc.reject_reason = HTML_NO_TEXT
        return
    doc.raw_text = result.text
    doc.title = result.title or None
    doc.byline = result.author or None
    doc.canonical_url = result.url or None  # <link rel=canonical> or og:url; normalised by readers.canonical_url
    if result.sitename or result.hostname:
        doc.source_name = result.sitename or result.hostname
    if result.date:
        doc.published_at = parse_date(result.date)


def read_documents(paths: Iterable[Path], max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Doc]:
    for path in paths:
        yield read_document(Path(path), max_bytes)
