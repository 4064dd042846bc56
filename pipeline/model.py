"""In-flight records passed between the pure stages of one batch.

Offsets (``start``/``end``) always point into the document's *raw text*: the
decoded input before any normalisation. That makes every removed span
traceable to the exact characters of the file the user gave us.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# Between the paragraphs of a clean text (Doc.text): no space in it, so the text's words are the
# paragraphs' words (plan's word count, the fingerprint stage's per-paragraph folding rely on it).
PARAGRAPH_BREAK = "\n\n"


@dataclass(slots=True)
class Unit:
    """A line, paragraph or sentence of a document, with its raw-text range."""

    start: int
    end: int
    text: str  # normalised text; may differ in length from raw[start:end]
    sentence: bool = False  # cut from a flattened page: a paragraph of its own, never re-joined


@dataclass(slots=True)
class RemovedSpan:
    start: int
    end: int
    stage: str  # "clean" | "chrome" | "repeats"
    reason: str  # e.g. "nav", "share", "related", "repeat"
    text: str
    repeat_of_start: int | None = None
    repeat_of_end: int | None = None


@dataclass(slots=True)
class Doc:
    """One input document as it moves through read -> clean -> repeats."""

    doc_id: str
    source_path: str
    source_name: str
    content_sha256: str
    size_bytes: int
    raw_text: str = ""
    encoding: str | None = None
    fmt: str = "text"  # "text" | "html" | "jsonl" | "csv" | "warc"
    reject_reason: str | None = None
    title: str | None = None
    byline: str | None = None
    published_at: date | None = None
    units: list[Unit] = field(default_factory=list)
    removed: list[RemovedSpan] = field(default_factory=list)
    error: str | None = None  # what went wrong, for reject reasons "unreadable" and "internal_error"
    # where the document came from inside its file (pipeline/readers.py): the file plus
    # "#L<line>" or "#<WARC-Record-ID>"; None for a plain file (its source_path)
    source_uri: str | None = None
    url: str | None = None            # the URL the record carried (JSONL/CSV field, WARC target URI)
    canonical_url: str | None = None  # duplicate key: the page's canonical URL or `url`, normalised
    fetched_at: datetime | None = None  # when the crawler fetched it (WARC-Date, news-please date_download)
    # set by the fingerprint stage (pipeline/stage.py) on accepted documents
    n_shingles: int | None = None
    minhash: bytes | None = None      # MinHash signature, num_perm little-endian uint32
    bands: Any = None                 # LSH band hashes (numpy uint64 array)

    @property
    def accepted(self) -> bool:
        return self.reject_reason is None

    def remove(self, unit: Unit, stage: str, reason: str, repeat_of: Unit | None = None) -> None:
        self.removed.append(
            RemovedSpan(
                unit.start,
                unit.end,
                stage,
                reason,
                self.raw_text[unit.start : unit.end],
                repeat_of.start if repeat_of else None,
                repeat_of.end if repeat_of else None,
            )
        )

    @property
    def text(self) -> str:
        """The clean article body: paragraphs separated by blank lines."""
        return PARAGRAPH_BREAK.join(u.text for u in self.units)
