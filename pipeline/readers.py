"""Container readers: JSON, JSON Lines, CSV/TSV, Parquet and WARC files (plain or gzipped) as streams of `Doc`s.

A crawler export or a web archive holds many articles; each record becomes one
document with its own provenance (`source_uri` = the file plus `#L<line>` or
`#<WARC-Record-ID>`), its own doc_id and its own reject reason: a bad line is
rejected on its own and the rest of the file lands. Plain `.txt`/`.html` files
(also gzipped) stay one document each and are read by `pipeline.sources`; a `.zip`
of a drop folder gives one document per text or HTML member.

One reader per format, registered by suffix in `READERS` (a new format is one
function and one registry line). Readers stream: they hold one record at a
time, so a 2 GB export costs the memory of its largest record. Big plain JSONL,
WARC and Parquet files are cut into `Part`s (byte ranges starting at a record
boundary or row group, found by `split_parts`) that batch workers read independently.

Record ids are stable across appends: a record's doc_id depends on its file,
its position (line number or WARC-Record-ID, or the `id_field` value) and its
own bytes, never on the rest of the file, so a JSONL export that grew by
appended lines yields the same ids for the old lines and new ids only for the
new ones (which is what the warehouse skips on).
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import sys
import zlib
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from . import sources
from .model import Doc

# Reject reasons of this module (with sources' EMPTY, TOO_LARGE, UNREADABLE, HTML_NO_TEXT, BINARY).
INVALID_JSON = "invalid_json"
NOT_AN_OBJECT = "not_a_json_object"
NO_TEXT_FIELD = "no_text_field"
WRONG_TYPE = "wrong_field_type"
BAD_CSV_ROW = "bad_csv_row"
NOT_HTML = "not_html"                # a WARC response whose payload is not an HTML or text page
HTTP_STATUS = "http_status"          # a WARC response that is a redirect or an error page
WARC_REVISIT = "warc_revisit"        # a revisit record carries no payload, only a pointer to an earlier one
TRUNCATED = "truncated_record"       # fewer payload bytes than the record declares (a clipped crawl)
EMPTY_RECORD = "empty_record"
DUPLICATE_ID = "duplicate_record_id"  # with --id-field: the same id and bytes earlier in the file

GZIP_SUFFIX = ".gz"


@dataclass(frozen=True)
class FieldMap:
    """Which record fields hold what. The defaults read news-please exports as they are."""

    text: str = "text"
    html: str = "html"              # used when a record has no text: the page, extracted like an HTML file
    title: str = "title"
    url: str = "url"
    date: str = "date_publish"
    byline: str = "authors"         # a string, or a list of names
    source: str = "source_domain"   # the site: chrome is learnt per source
    fetched: str = "date_download"  # when the crawler fetched it
    id: str | None = None           # a stable record id; default: the line number and the record's bytes


@dataclass(frozen=True)
class Part:
    """A piece of one input file, the unit batches are made of: the whole file (start 0,
    end None) or the records that start in [start, end) of a big plain JSONL or WARC file
    (for Parquet: the row groups that start there)."""

    path: str
    start: int = 0
    end: int | None = None
    first_line: int = 1  # the line number at `start` (JSONL)


def container_suffix(path: str | Path) -> str | None:
    """The registered container format of a path ('.jsonl', '.csv', '.warc', ...), gzipped or not."""
    name = Path(path).name.lower()
    if name.endswith(GZIP_SUFFIX):
        name = name[: -len(GZIP_SUFFIX)]
    suffix = os.path.splitext(name)[1]
    return suffix if suffix in READERS else None


def is_container(path: str | Path) -> bool:
    return container_suffix(path) is not None


def is_gzipped(path: str | Path) -> bool:
    return str(path).lower().endswith(GZIP_SUFFIX)


def known_by_record(path: str | Path) -> bool:
    """Whether the warehouse knows this file's documents by record ids that only reading it
    gives (containers, and gzipped files, whose id is of the bytes inside): such files are
    always read, and their known records skipped (see drop.known_record_ids)."""
    return is_container(path) or is_gzipped(path)


def record_doc_id(path: str, locator: str, content_sha256: str) -> str:
    """A record is its file, its place in the file and its bytes (see module docstring)."""
    return sources.doc_id_for(f"{path}#{locator}", content_sha256)


def reject(doc: Doc, reason: str, detail: str | None = None) -> None:
    """Reject a record: the reason code in reject_reason, where and what exactly in error."""
    doc.reject_reason = reason
    doc.error = detail


def new_record_doc(path: str, locator: str, raw: bytes, fmt: str, id_value: str | None = None) -> Doc:
    path = sources.display_path(path)  # stored names are valid UTF-8 (see sources)
    digest = hashlib.sha256(raw).hexdigest()
    doc_id = record_doc_id(path, f"id={id_value}" if id_value is not None else locator, digest)
    doc = Doc(doc_id, path, Path(path).parent.name, digest, len(raw))
    doc.fmt = fmt
    doc.source_uri = f"{path}#{locator}"
    return doc


class NotOpened(Exception):
    """A container path that is not opened (sources' rules for paths): reason and detail."""

    def __init__(self, reason: str, error: str | None):
        super().__init__(reason)
        self.reason, self.error = reason, error


def open_regular(path: str) -> IO[bytes]:
    """Open a container file under the same rules as sources.read_document: only a regular
    file, never through a symlink (discover already replaced links it may follow), never
    blocking on a FIFO; a path swapped after the check is caught by fstat. Raises NotOpened."""
    import stat as st

    try:
        info = os.lstat(path)
        if st.S_ISLNK(info.st_mode):
            raise sources._link_problem(Path(path))
        if not st.S_ISREG(info.st_mode):
            raise sources._Unread(sources.NOT_REGULAR, "not a regular file")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except sources._Unread as unread:
        raise NotOpened(unread.reason, unread.error) from None
    except OSError as exc:
        raise NotOpened(sources.UNREADABLE, exc.strerror or str(exc)) from None
    if not st.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotOpened(sources.NOT_REGULAR, "not a regular file when opened")
    return open(fd, "rb")


def _open_binary(path: str) -> IO[bytes]:
    fh = open_regular(path)
    return gzip.GzipFile(fileobj=fh, mode="rb") if is_gzipped(path) else fh


# --- record fields -> Doc -------------------------------------------------------------------

def _text_value(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(v.strip() for v in value if v.strip()) or None
    return None


def _parse_timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    from dateutil import parser

    try:
        ts = parser.isoparse(value) if "T" in value else parser.parse(value)
    except (ValueError, OverflowError, TypeError):
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


# Older news-please releases wrote an article's body as `text`; newer ones write it as
# `maintext` and leave `text` null. With the default text field, a record whose `text` is
# missing or null is read from `maintext`, so both kinds of export read as they are.
NEWS_PLEASE_BODY = "maintext"


def fill_from_record(doc: Doc, record: dict, fields: FieldMap, where: str) -> None:
    """Body and metadata of a record (a JSON object or a CSV row) into `doc`.

    The record's title, byline, date and URL are what the publisher or crawler knew:
    they are set before cleaning, which only guesses the ones still missing.
    """
    text, html = record.get(fields.text), record.get(fields.html)
    if text is None and fields.text == FieldMap.text:
        text = record.get(NEWS_PLEASE_BODY)
    if text is not None and not isinstance(text, str):
        reject(doc, WRONG_TYPE, f"{where}: {fields.text!r} is {type(text).__name__}, not a string")
        return
    if text is None and html is not None and not isinstance(html, str):
        reject(doc, WRONG_TYPE, f"{where}: {fields.html!r} is {type(html).__name__}, not a string")
        return
    if text is None and html is None:
        reject(doc, NO_TEXT_FIELD, f"{where}: no {fields.text!r} or {fields.html!r} field")
        return
    url = _text_value(record.get(fields.url))
    doc.url = url
    if text is not None:
        if not text.strip():
            reject(doc, EMPTY_RECORD, where)
            return
        doc.raw_text = text
    else:
        if not html.strip():
            reject(doc, EMPTY_RECORD, where)
            return
        fmt = doc.fmt
        sources._extract_html(doc, html)  # sets title/byline/date/site from the page
        doc.fmt = fmt
    title = _text_value(record.get(fields.title))
    byline = _text_value(record.get(fields.byline))
    date = _text_value(record.get(fields.date))
    doc.title = title or doc.title
    doc.byline = byline or doc.byline
    if date:
        from .text import parse_date

        doc.published_at = parse_date(date) or doc.published_at
    doc.fetched_at = _parse_timestamp(_text_value(record.get(fields.fetched)))
    source = _text_value(record.get(fields.source))
    if source:
        doc.source_name = source
    elif url and text is not None:  # a page's own site name (trafilatura's) beats the URL's host
        from urllib.parse import urlsplit

        doc.source_name = urlsplit(url).hostname or doc.source_name


def _id_value(record: dict, fields: FieldMap) -> str | None:
    if fields.id is None:
        return None
    value = record.get(fields.id)
    return None if value is None else str(value)


def _keyed_record_doc(path: str, locator: str, raw: bytes, fmt: str, record: dict, fields: FieldMap,
                      seen: set[str]) -> Doc:
    """A record's Doc, known by its id field when one is set. A record repeating an earlier
    one's id and bytes would repeat its doc_id: it is known by its line instead, and rejected."""
    id_value = _id_value(record, fields)
    doc = new_record_doc(path, locator, raw, fmt, id_value)
    if id_value is None:
        return doc
    if doc.doc_id in seen:
        doc = new_record_doc(path, locator, raw, fmt)
        where = f"{'record' if locator.startswith('R') else 'line'} {locator[1:]}"
        reject(doc, DUPLICATE_ID, f"{where}: {fields.id} {id_value!r} repeats an earlier record")
    seen.add(doc.doc_id)
    return doc


# --- JSON Lines ------------------------------------------------------------------------------

def read_jsonl(part: Part, fields: FieldMap, max_bytes: int, skip_ids: Container[str] = ()
               ) -> Iterator[Doc | None]:
    """One document per non-blank line; a bad line is rejected with its line number."""
    with _open_binary(part.path) as fh:
        if part.start:
            fh.seek(part.start)
        pos, line_no = part.start, part.first_line
        seen: set[str] = set()
        while part.end is None or pos < part.end:
            line = fh.readline(max_bytes + 1)
            if not line:
                break
            length = len(line)
            if len(line) > max_bytes and not line.endswith(b"\n"):
                while (more := fh.readline(1 << 20)):  # skip the rest of a giant line, never holding it
                    length += len(more)
                    if more.endswith(b"\n"):
                        break
                doc = new_record_doc(part.path, f"L{line_no}", line[:max_bytes], "jsonl")
                doc.size_bytes = length
                reject(doc, sources.TOO_LARGE, f"line {line_no}")
                yield doc
            elif line.strip():
                yield _jsonl_doc(part.path, line_no, line.rstrip(b"\r\n"), fields, skip_ids, seen)
            pos += length
            line_no += 1


def _jsonl_doc(path: str, line_no: int, raw: bytes, fields: FieldMap, skip_ids: Container[str] = (),
               seen: set[str] | None = None) -> Doc | None:
    where = f"line {line_no}"
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        doc = new_record_doc(path, f"L{line_no}", raw, "jsonl")
        reject(doc, INVALID_JSON, f"{where}: {str(exc)[:120]}")
        return doc
    if not isinstance(record, dict):
        doc = new_record_doc(path, f"L{line_no}", raw, "jsonl")
        reject(doc, NOT_AN_OBJECT, f"{where}")
        return doc
    doc = _keyed_record_doc(path, f"L{line_no}", raw, "jsonl", record, fields, set() if seen is None else seen)
    if doc.doc_id in skip_ids:
        return None
    if doc.reject_reason:
        return doc
    doc.encoding = "utf-8"
    fill_from_record(doc, record, fields, where)
    return doc


def split_jsonl(path: str, part_bytes: int) -> list[Part]:
    """Cut a plain JSONL file at the first line start after every `part_bytes`, counting
    lines on the way (one sequential read), so each part knows its first line number."""
    size = os.path.getsize(path)
    if size <= part_bytes:
        return [Part(path)]
    parts: list[Part] = []
    with open(path, "rb") as fh:
        start, line = 0, 1
        while start < size:
            fh.seek(start + part_bytes)
            fh.readline()
            end = min(fh.tell(), size) if start + part_bytes < size else size
            parts.append(Part(path, start, end if end < size else None, line))
            fh.seek(start)
            left = end - start
            while left:
                block = fh.read(min(left, 1 << 24))
                line += block.count(b"\n")
                left -= len(block)
            start = end
    return parts


# --- JSON files ----------------------------------------------------------------------------
# One article per file is what news-please's crawler writes (`<page>.html.json` beside each
# page) and what most scraping scripts `json.dump`; a JSON array is Scrapy's `-o items.json`
# and most dataset exports; JSON Lines saved as .json is common too (newsfold's own `export
# --format jsonl` to a .json path). ijson streams the array's elements, so a 2 GB export costs
# the memory of its largest record, as with the other readers.

def read_json(part: Part, fields: FieldMap, max_bytes: int, skip_ids: Container[str] = ()
              ) -> Iterator[Doc | None]:
    """One document per object: the file's one object, each element of its top-level array,
    or each object of a file of concatenated objects (JSON Lines). Records are numbered from
    1 (`source_uri` = path#R<n>). A file that stops parsing ends with one rejected document
    saying where; the records before it stand."""
    import ijson

    with _open_binary(part.path) as fh:
        first = _first_json_byte(fh)
        if first is None:
            return
        if first not in b"[{":
            doc = new_record_doc(part.path, "R1", first, "json")
            reject(doc, INVALID_JSON, "not a JSON object or array")
            yield doc
            return
        records = ijson.items(fh, "item", use_float=True) if first == b"[" else \
            ijson.items(fh, "", multiple_values=True, use_float=True)
        seen: set[str] = set()
        number = 0
        while True:
            try:
                record = next(records)
            except StopIteration:
                return
            except ijson.JSONError as exc:  # the parser cannot resynchronise: the rest of the file is lost
                doc = new_record_doc(part.path, f"R{number + 1}", str(exc).encode(), "json")
                reject(doc, INVALID_JSON, f"record {number + 1}: {str(exc).splitlines()[0][:120]}")
                yield doc
                return
            number += 1
            yield _json_doc(part.path, number, record, fields, max_bytes, skip_ids, seen)


def _first_json_byte(fh: IO[bytes]) -> bytes | None:
    """The first byte of the file's JSON, past white space and a UTF-8 byte-order mark, with
    `fh` moved back to it; None for a file of white space only."""
    position = 0
    while block := fh.read(1 << 16):
        start = 3 if position == 0 and block.startswith(b"\xef\xbb\xbf") else 0
        content = block[start:].lstrip(b" \t\r\n")
        if content:
            fh.seek(position + len(block) - len(content))
            return content[:1]
        position += len(block)
    return None


def _json_doc(path: str, number: int, record: object, fields: FieldMap, max_bytes: int,
              skip_ids: Container[str], seen: set[str]) -> Doc | None:
    where = f"record {number}"
    # the record's bytes, for its doc_id: written back (ijson gives values, not their text);
    # a lone surrogate from a "\ud800" escape is kept as it is, as json.loads keeps it in JSONL
    try:
        raw = json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass")
    except RecursionError:
        doc = new_record_doc(path, f"R{number}", where.encode(), "json")
        reject(doc, INVALID_JSON, f"{where}: nested too deeply")
        return doc
    if not isinstance(record, dict):
        doc = new_record_doc(path, f"R{number}", raw[:max_bytes], "json")
        reject(doc, NOT_AN_OBJECT, where)
        return doc
    return _decoded_record_doc(path, f"R{number}", raw, "json", record, fields, max_bytes, skip_ids, seen, where)


def _decoded_record_doc(path: str, locator: str, raw: bytes, fmt: str, record: dict, fields: FieldMap,
                        max_bytes: int, skip_ids: Container[str], seen: set[str], where: str) -> Doc | None:
    """The Doc of a record read whole into a dict (a JSON object, a Parquet row), whose size
    is known only once read; None when the warehouse holds it."""
    doc = _keyed_record_doc(path, locator, raw, fmt, record, fields, seen)
    if doc.doc_id in skip_ids:
        return None
    doc.encoding = "utf-8"
    if doc.reject_reason:
        return doc
    if len(raw) > max_bytes:
        reject(doc, sources.TOO_LARGE, where)
        return doc
    fill_from_record(doc, record, fields, where)
    return doc


# --- Parquet -------------------------------------------------------------------------------
# How datasets are shared (Common Crawl's CC-News on the Hugging Face Hub, dataset dumps):
# columns named like record fields. Only the record-field columns are read, a few hundred rows
# at a time; a big file is cut into parts at row-group starts, like JSONL at line starts.

PARQUET_ROWS = 256  # rows decoded at a time: a few MB of article text


def read_parquet(part: Part, fields: FieldMap, max_bytes: int, skip_ids: Container[str] = ()
                 ) -> Iterator[Doc | None]:
    """One document per row of the row groups that start in the part (`source_uri` =
    path#R<n>, rows numbered from 1 over the whole file). A file without a text or HTML
    column is one rejected document naming the columns it has."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if is_gzipped(part.path):
        yield part_failure(part, sources.UNSUPPORTED, "a gzipped Parquet file: Parquet compresses "
                               "inside, gunzip it")
        return
    with open_regular(part.path) as fh:
        try:
            parquet = pq.ParquetFile(fh)
        except (pa.ArrowException, OSError) as exc:
            yield part_failure(part, sources.UNREADABLE, f"not a readable Parquet file: {exc}"[:2000])
            return
        columns = [name for name in dict.fromkeys(_record_columns(fields)) if name in parquet.schema_arrow.names]
        if not set(columns).intersection(_body_fields(fields)):
            if part.start == 0:  # said once per file, not once per part
                yield part_failure(part, NO_TEXT_FIELD, f"no {fields.text!r} or {fields.html!r} column; it has: "
                                       + ", ".join(parquet.schema_arrow.names)[:1000])
            return
        groups = _row_groups_of(parquet.metadata, part)
        number = sum(parquet.metadata.row_group(k).num_rows for k in range(groups[0])) if groups else 0
        seen: set[str] = set()
        batches = parquet.iter_batches(PARQUET_ROWS, row_groups=groups, columns=columns) if groups else iter(())
        while True:
            try:
                records = next(batches).to_pylist()
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as exc:  # a damaged page: the rows before it stand
                yield part_failure(part, sources.UNREADABLE, f"after row {number}: {exc}"[:2000])
                return
            for record in records:
                number += 1
                yield _parquet_doc(part.path, number, record, fields, max_bytes, skip_ids, seen)


def _body_fields(fields: FieldMap) -> list[str]:
    """The fields a record's body may be in (see NEWS_PLEASE_BODY)."""
    return [fields.text, *([NEWS_PLEASE_BODY] if fields.text == FieldMap.text else []), fields.html]


def _record_columns(fields: FieldMap) -> list[str]:
    return [*_body_fields(fields), fields.title, fields.url, fields.date, fields.byline, fields.source,
            fields.fetched, *([fields.id] if fields.id else [])]


def _parquet_doc(path: str, number: int, record: dict, fields: FieldMap, max_bytes: int,
                 skip_ids: Container[str], seen: set[str]) -> Doc | None:
    where = f"row {number}"
    # dates and timestamps as text, the form record fields have in JSON and CSV
    record = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in record.items()}
    raw = json.dumps(record, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass")
    return _decoded_record_doc(path, f"R{number}", raw, "parquet", record, fields, max_bytes, skip_ids, seen, where)


def _row_groups_of(metadata, part: Part) -> list[int]:
    """The row groups that start in the part."""
    return [k for k in range(metadata.num_row_groups)
            if part.start <= _row_group_start(metadata, k) < (part.end or float("inf"))]


def _row_group_start(metadata, k: int) -> int:
    """The byte offset where row group k's first page starts."""
    group = metadata.row_group(k)
    return min(column.dictionary_page_offset if column.has_dictionary_page else column.data_page_offset
               for column in (group.column(c) for c in range(group.num_columns)))


def split_parquet(path: str, part_bytes: int) -> list[Part]:
    """Cut a Parquet file at row-group starts about every `part_bytes` of uncompressed data
    (from its footer): Parquet compresses article text 2-3x, and the work is in the text."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_metadata(path)
        groups = [(_row_group_start(metadata, k), metadata.row_group(k).total_byte_size)
                  for k in range(metadata.num_row_groups)]
    except Exception:  # noqa: BLE001 - a corrupt file is read (and its error recorded) as one part
        return [Part(path)]
    cuts, since_cut = [0], 0  # the first part holds the first row group, which starts after the magic bytes
    for start, size in groups:
        if since_cut >= part_bytes:
            cuts.append(start)
            since_cut = 0
        since_cut += size
    return [Part(path, a, b) for a, b in zip(cuts, cuts[1:] + [None])]


def _parquet_part_size(part: Part) -> int:
    """The uncompressed bytes of the row groups that start in the part."""
    import pyarrow.parquet as pq

    metadata = pq.read_metadata(part.path)
    return sum(metadata.row_group(k).total_byte_size for k in _row_groups_of(metadata, part))


# --- CSV / TSV -----------------------------------------------------------------------------

def _raise_field_limit(max_bytes: int) -> None:
    # the csv module refuses fields over 128 KiB by default; an article may be megabytes
    if csv.field_size_limit() < max_bytes:
        csv.field_size_limit(min(max_bytes, sys.maxsize))


def read_csv(part: Part, fields: FieldMap, max_bytes: int, skip_ids: Container[str] = (),
             delimiter: str = ",") -> Iterator[Doc | None]:
    """One document per data row of a CSV with a header row; quoted fields may hold newlines.

    The locator is the line the row starts on (1 = the header). A row the csv module
    cannot parse is rejected with its line; a row without the text column too.
    """
    _raise_field_limit(max_bytes)
    with _open_binary(part.path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        seen: set[str] = set()
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            doc = new_record_doc(part.path, "L1", b"", "csv")
            reject(doc, BAD_CSV_ROW, f"line 1 (header): {exc}")
            yield doc
            return
        while True:
            line_no = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                doc = new_record_doc(part.path, f"L{line_no}", str(exc).encode(), "csv")
                reject(doc, BAD_CSV_ROW, f"line {line_no}: {exc}")
                yield doc
                continue
            if not any(row):
                continue
            raw_row = json.dumps(row, ensure_ascii=False).encode()
            record = dict(zip(header, row))
            doc = _keyed_record_doc(part.path, f"L{line_no}", raw_row, "csv", record, fields, seen)
            if doc.doc_id in skip_ids:
                yield None
                continue
            doc.encoding = "utf-8"
            if doc.reject_reason:
                pass
            elif len(raw_row) > max_bytes:
                reject(doc, sources.TOO_LARGE, f"line {line_no}")
            elif len(row) != len(header):
                reject(doc, BAD_CSV_ROW, f"line {line_no}: {len(row)} fields, header has {len(header)}")
            else:
                fill_from_record(doc, {k: (v if v != "" else None) for k, v in record.items()}, fields,
                                 f"line {line_no}")
            yield doc


def read_tsv(part: Part, fields: FieldMap, max_bytes: int, skip_ids: Container[str] = ()
             ) -> Iterator[Doc | None]:
    return read_csv(part, fields, max_bytes, skip_ids, delimiter="\t")


# --- WARC ----------------------------------------------------------------------------------
# warcio, not fastwarc: fastwarc is ~10x faster at parsing, but it misread the ClueWeb file's
# HTTP headers (LF line ends: the headers swallowed 10 KB of the page, no Content-Type), and
# parsing is a few percent of the time a page takes to extract. See bench/warc_libraries.py.

HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain",)
PAGE_RECORDS = ("response", "resource", "conversion")  # records that carry a page
SKIPPED_RECORDS = ("warcinfo", "request", "metadata")   # crawl bookkeeping: not documents


def read_warc(part: Part, fields: FieldMap, max_bytes: int, skip_ids: Container[str] = ()
              ) -> Iterator[Doc | None]:
    """One document per response (or resource) record: HTML pages extracted like HTML
    files, the target URI and WARC-Date kept. Requests, metadata and warcinfo records are
    not documents. Non-HTML payloads, redirects and error pages, revisits and truncated
    records are rejected with the reason; a corrupt archive ends the file with one
    rejected document saying where, never an exception."""
    from warcio.archiveiterator import ArchiveIterator

    with open_regular(part.path) as fh:
        fh.seek(part.start)
        records = ArchiveIterator(fh, no_record_parse=False)
        while True:
            try:
                record = next(records)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001 - warcio fails on bad headers with any error (below)
                offset = records.offset
                doc = new_record_doc(part.path, f"offset={offset}", str(exc).encode(), "warc")
                reject(doc, sources.UNREADABLE, f"WARC at byte {offset}: {_archive_error(exc)}")
                yield doc
                return
            # records.offset: where the current record starts in the file (get_record_offset()
            # would read the record to its end first)
            if part.end is not None and records.offset >= part.end:
                return
            if record.rec_type in SKIPPED_RECORDS:
                continue
            try:
                doc = _warc_doc(part.path, record, max_bytes, skip_ids)
            except (OSError, EOFError, zlib.error, ValueError) as exc:  # a payload that fails to decode
                doc = new_record_doc(part.path, _warc_id(record), str(exc).encode(), "warc")
                reject(doc, TRUNCATED, f"{str(exc)[:120]}")
            yield doc


def _archive_error(exc: Exception) -> str:
    """What is wrong at a record start, for its `unreadable` row. warcio raises its own errors
    for a corrupt archive, but an AttributeError for headers cut before the target URI (a plain
    .warc that ends there): that one was a whole batch's internal_error."""
    from warcio.exceptions import ArchiveLoadFailed

    if isinstance(exc, (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError)):
        return str(exc)[:120]
    return f"record headers cut short or malformed ({type(exc).__name__}: {str(exc)[:80]})"


def _warc_id(record) -> str:
    return (record.rec_headers.get_header("WARC-Record-ID") or "").strip() or "no-record-id"


def _warc_doc(path: str, record, max_bytes: int, skip_ids: Container[str] = ()) -> Doc | None:
    headers = record.rec_headers
    rec_id = _warc_id(record)
    stream = record.content_stream()
    payload = stream.read(max_bytes + 1)
    doc = new_record_doc(path, rec_id, payload, "warc")
    if doc.doc_id in skip_ids:
        return None
    doc.url = (headers.get_header("WARC-Target-URI") or "").strip() or None
    doc.fetched_at = _parse_timestamp(headers.get_header("WARC-Date"))
    if doc.url:
        from urllib.parse import urlsplit

        doc.source_name = urlsplit(doc.url).hostname or doc.source_name
    if record.rec_type == "revisit":
        doc.reject_reason = WARC_REVISIT
        return doc
    if record.rec_type not in PAGE_RECORDS:
        reject(doc, NOT_HTML, f"{record.rec_type} record")
        return doc
    if len(payload) > max_bytes:
        doc.reject_reason = sources.TOO_LARGE
        return doc
    # warcio reads a record through a reader limited to its Content-Length: bytes left
    # unread there after the payload mean the file ended inside the record
    if getattr(record.raw_stream, "limit", 0) > 0 or headers.get_header("WARC-Truncated"):
        reject(doc, TRUNCATED, f"{headers.get_header('WARC-Truncated') or 'file ends inside the record'}")
        return doc
    content_type = charset = None
    if record.http_headers is not None:
        status = record.http_headers.get_statuscode()
        if status and not status.startswith("2"):
            reject(doc, HTTP_STATUS, f"{status}")
            return doc
        content_type = record.http_headers.get_header("Content-Type")
    content_type = content_type or headers.get_header("Content-Type") or ""
    mime, _, params = content_type.partition(";")
    mime = mime.strip().lower()
    if "charset=" in params.lower():
        charset = params.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'")
    if not payload.strip():
        doc.reject_reason = EMPTY_RECORD
        return doc
    if mime and mime not in HTML_TYPES + TEXT_TYPES:
        reject(doc, NOT_HTML, f"{mime}")
        return doc
    if sources.looks_binary(payload):
        doc.reject_reason = sources.BINARY
        return doc
    text, doc.encoding = _decode_payload(payload, charset)
    if mime in TEXT_TYPES:
        doc.raw_text = text
    else:
        sources._extract_html(doc, text)
        doc.fmt = "warc"
    return doc


def _decode_payload(payload: bytes, charset: str | None) -> tuple[str, str]:
    if charset:
        try:
            return payload.decode(charset), charset
        except (LookupError, UnicodeDecodeError):
            pass
    from trafilatura.utils import decode_file

    try:  # trafilatura reads the page's own <meta charset>
        text = decode_file(payload)
        if isinstance(text, str):
            return text, "detected"
    except Exception:  # noqa: BLE001 - any detection failure falls back to newsfold's decoding
        pass
    return sources.decode(payload)


def split_warc(path: str, part_bytes: int) -> list[Part]:
    """Cut a WARC at record starts about every `part_bytes` (record offsets from one pass of
    warcio over the headers). A gzipped WARC can only be cut where a gzip member starts,
    which warcio reports as the record offset when every record is its own member (the
    standard); any doubt about a cut (a one-member .warc.gz) keeps the file whole."""
    from warcio.archiveiterator import ArchiveIterator

    size = os.path.getsize(path)
    if size <= part_bytes:
        return [Part(path)]
    cuts = [0]
    try:
        with open(path, "rb") as fh:
            records = ArchiveIterator(fh)
            for _ in records:
                offset = records.get_record_offset()
                if offset >= cuts[-1] + part_bytes:
                    cuts.append(offset)
    except Exception:  # noqa: BLE001 - a corrupt file is read (and its error recorded) as one part
        return [Part(path)]
    if len(cuts) > 1 and not all(_record_starts_at(path, c) for c in cuts[1:]):
        return [Part(path)]
    return [Part(path, a, b) for a, b in zip(cuts, cuts[1:] + [None])]


def _record_starts_at(path: str, offset: int) -> bool:
    from warcio.archiveiterator import ArchiveIterator

    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            return next(iter(ArchiveIterator(fh)), None) is not None
    except Exception:  # noqa: BLE001
        return False


# --- parts of big files ---------------------------------------------------------------------

# Formats whose big files are cut into parts read by different workers (plain files only
# for JSONL: a gzip stream cannot be entered in the middle).
SPLITTERS: dict[str, Callable[[str, int], list[Part]]] = {".jsonl": split_jsonl, ".ndjson": split_jsonl,
                                                           ".warc": split_warc, ".parquet": split_parquet}
DEFAULT_PART_BYTES = 64 * 1024 * 1024


def split_parts(path: str, part_bytes: int = DEFAULT_PART_BYTES) -> list[Part]:
    """The parts of one input file: several for a big splittable container, else one."""
    suffix = container_suffix(path)
    splitter = SPLITTERS.get(suffix) if suffix else None
    import stat as st

    try:
        info = os.lstat(path)  # never through a link: the reader will refuse it anyway (open_regular)
    except OSError:
        return [Part(path)]
    # each splitter decides whether the file is big enough to cut (Parquet's bytes are compressed)
    if not st.S_ISREG(info.st_mode) or splitter is None or (suffix != ".warc" and is_gzipped(path)):
        return [Part(path)]
    try:
        return splitter(path, part_bytes)
    except OSError:
        return [Part(path)]


def part_size(part: Part) -> int:
    """The bytes of input a part stands for, to balance batches: its byte range (the rest of
    the file when open-ended), or for Parquet its row groups' uncompressed size."""
    try:
        if container_suffix(part.path) == ".parquet" and not is_gzipped(part.path):
            return _parquet_part_size(part)
        return (part.end if part.end is not None else os.path.getsize(part.path)) - part.start
    except Exception:  # noqa: BLE001 - an unreadable file is read (and its error recorded) as it is
        return 0


def read_part(part: Part, fields: FieldMap = FieldMap(), max_bytes: int = sources.DEFAULT_MAX_BYTES,
              skip_ids: Container[str] = ()) -> Iterator[Doc | None]:
    """The documents of one part: the records of a container, or the one file otherwise.
    A record whose doc_id is in `skip_ids` (the warehouse holds it) yields None instead,
    before any decoding or extraction."""
    for doc in _read_part(part, fields, max_bytes, skip_ids):
        yield None if doc is None else settle_urls(doc)


def settle_urls(doc: Doc) -> Doc:
    """The document's URL and its duplicate key: the page's own canonical URL (an HTML page
    or record) wins over the URL it was fetched at, and the key is normalised."""
    doc.url = doc.url or doc.canonical_url
    doc.canonical_url = canonical_url(doc.canonical_url or doc.url)
    return doc


def _read_part(part: Part, fields: FieldMap, max_bytes: int, skip_ids: Container[str]) -> Iterator[Doc | None]:
    suffix = container_suffix(part.path)
    if suffix is None:
        yield read_single(part.path, max_bytes, skip_ids)
        return
    try:
        yield from READERS[suffix](part, fields, max_bytes, skip_ids)
    except NotOpened as exc:
        yield part_failure(part, exc.reason, exc.error)
    except (OSError, EOFError, zlib.error) as exc:  # e.g. a gzip file cut short: what was read stands
        yield part_failure(part, sources.UNREADABLE, f"{type(exc).__name__}: {exc}"[:2000])


def part_failure(part: Part, reason: str, detail: str | None = None) -> Doc:
    """The document recording that (the rest of) a part could not be read, and why in `detail`."""
    suffix = container_suffix(part.path) or ""
    doc = new_record_doc(sources.display_path(part.path), f"offset={part.start}", reason.encode(),
                         suffix.lstrip(".") or "text")
    reject(doc, reason, detail)
    return doc


def read_single(path: str, max_bytes: int, skip_ids: Container[str] = ()) -> Doc | None:
    """A plain file (one document); a gzipped one is decompressed first (up to max_bytes)."""
    if not is_gzipped(path):
        return sources.read_document(Path(path), max_bytes)
    spath = sources.display_path(path)
    inner = path[: -len(GZIP_SUFFIX)]
    try:
        with _open_binary(path) as fh:
            data = fh.read(max_bytes + 1)
    except (NotOpened, OSError, EOFError, zlib.error) as exc:
        digest = hashlib.sha256(spath.encode()).hexdigest()
        doc = Doc(sources.doc_id_for(spath, digest), spath, sources.display_path(Path(path).parent.name), digest, 0)
        if isinstance(exc, NotOpened):
            reject(doc, exc.reason, exc.error)
        else:
            reject(doc, sources.UNREADABLE, f"{type(exc).__name__}: {exc}"[:2000])
        return doc
    digest = hashlib.sha256(data).hexdigest()
    doc = Doc(sources.doc_id_for(spath, digest), spath, sources.display_path(Path(path).parent.name), digest,
              len(data))
    if doc.doc_id in skip_ids:
        return None
    _fill_plain(doc, data, Path(inner).suffix.lower(), max_bytes)
    return doc


def _fill_plain(doc: Doc, data: bytes, suffix: str, max_bytes: int) -> None:
    """The bytes of a plain text or HTML file (decompressed, or a zip member) into `doc`."""
    if len(data) > max_bytes:
        doc.reject_reason = sources.TOO_LARGE
    elif suffix in READERS:
        reject(doc, sources.UNSUPPORTED, f"a {suffix} file inside an archive: unpack it, or gzip it on its own")
    elif suffix not in sources.SUPPORTED_SUFFIXES:
        doc.reject_reason = sources.UNSUPPORTED
    elif not data.strip():
        doc.reject_reason = sources.EMPTY
    elif sources.looks_binary(data):
        doc.reject_reason = sources.BINARY
    else:
        text, doc.encoding = sources.decode(data)
        if suffix in sources.HTML_SUFFIXES:
            sources._extract_html(doc, text)
        else:
            doc.raw_text = text


# --- ZIP of a drop folder ---------------------------------------------------------------------

def read_zip(part: Part, fields: FieldMap, max_bytes: int, skip_ids: Container[str] = ()
             ) -> Iterator[Doc | None]:
    """A zipped drop folder: one document per text or HTML member (`source_uri` = the zip's
    path + "#" + the member's name), read like the files it holds. Members are read up to
    max_bytes whatever their headers claim (a zip bomb costs max_bytes); hidden members and
    macOS resource forks are skipped like hidden files; JSONL/CSV/WARC members are rejected
    (unpack the zip, or gzip them one by one)."""
    import zipfile

    with open_regular(part.path) as fh:
        try:
            archive = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError) as exc:
            yield part_failure(part, sources.UNREADABLE, f"not a readable zip file: {exc}")
            return
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or any(seg.startswith(".") or seg == "__MACOSX" for seg in name.split("/")):
                continue
            suffix = Path(name).suffix.lower()
            fmt = "html" if suffix in sources.HTML_SUFFIXES else "text"
            try:
                with archive.open(info) as member:
                    data = member.read(max_bytes + 1)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError, NotImplementedError) as exc:
                doc = new_record_doc(part.path, name, name.encode(), fmt)
                reject(doc, sources.UNREADABLE, f"{type(exc).__name__}: {exc}"[:2000])  # e.g. encrypted
                yield doc
                continue
            doc = new_record_doc(part.path, name, data, fmt)
            if doc.doc_id in skip_ids:
                yield None
                continue
            doc.source_name = sources.display_path(Path(name).parent.name) or doc.source_name
            _fill_plain(doc, data, suffix, max_bytes)
            if doc.fmt == "html" and suffix not in sources.HTML_SUFFIXES:
                doc.fmt = fmt
            yield doc


# --- registry ------------------------------------------------------------------------------

# A reader yields the documents of a part in order, None for a record whose doc_id is in
# skip_ids (checked before any extraction work).
Reader = Callable[[Part, FieldMap, int, Container[str]], Iterator[Doc | None]]
READERS: dict[str, Reader] = {
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".json": read_json,
    ".parquet": read_parquet,
    ".csv": read_csv,
    ".tsv": read_tsv,
    ".warc": read_warc,
    ".zip": read_zip,
}

# --- URLs ----------------------------------------------------------------------------------

def canonical_url(url: str | None) -> str | None:
    """The URL as a duplicate key: tracking parameters (utm_*, fbclid, gclid, ref, ...) and
    the fragment removed by courlan, then scheme, a leading "www." and a trailing slash
    folded, so http/https and www/non-www copies of one page share a key."""
    if not url:
        return None
    from courlan import normalize_url

    try:
        url = normalize_url(url.strip(), strict=True)
    except Exception:  # noqa: BLE001 - courlan raises assorted errors on junk; junk is no key
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    if not host:
        return None
    path = parts.path.rstrip("/")
    return host + path + (f"?{parts.query}" if parts.query else "")
