"""Repeat stage: collapse text repeated inside one document.

Scraped pages often carry their body twice (a teaser block, then the full
story; or a print view appended to the page). We keep the first occurrence of
every paragraph and drop later copies, recording for each dropped span the
span it repeated.

Matching is on a folded key (text.fold, as everywhere newsfold compares text; punctuation
and spacing ignored), so a copy that differs only in case, quote style, ligatures or
spacing still counts. A short paragraph
("Thanks.", "Yes.") repeats by chance in real prose, so it is only dropped
when it sits next to a longer dropped repeat, i.e. inside a repeated block.
"""
from __future__ import annotations

import re

from .model import Doc, Unit
from .text import fold

MIN_REPEAT_WORDS = 6

# ASCII bytes that are not letters or digits (what [\W_] matches in ASCII) -> space, capitals
# -> lower case (what fold does to ASCII), in one bytes.translate
_ASCII_FOLD = bytes(ord(chr(c).lower()) if c < 128 and chr(c).isalnum() else 32 for c in range(256))
# The same, keeping the bytes of non-ASCII characters (for UTF-8 once _NON_ASCII_NON_WORD is gone)
_ASCII_FOLD_KEEP_HIGH = bytes(c if c >= 128 else _ASCII_FOLD[c] for c in range(256))
_NON_ASCII_NON_WORD = re.compile(r"[^\x00-\x7f\w]+")


def _ascii_key(text: str) -> str:
    return b" ".join(text.encode("ascii").translate(_ASCII_FOLD).split()).decode("ascii")


def paragraph_key(text: str, folded: dict[str, str] | None = None) -> str:
    """A paragraph as this stage compares it: folded as everywhere (text.fold), its
    punctuation, underscores and spacing ignored (runs of [\\W_] as one space, stripped).
    `folded`, if given, gets fold(text) of a non-ASCII paragraph (for the fingerprint stage)."""
    if text.isascii():
        # The same key ~4x faster (half the paragraphs of real news are ASCII): fold is
        # lower() on ASCII, and bytes.translate + split replace the regex substitution.
        return _ascii_key(text)
    text_folded = fold(text)
    if folded is not None:
        folded[text] = text_folded
    if text_folded.isascii():  # ~60 % of the others: their curly quotes and dashes fold to ASCII
        return _ascii_key(text_folded)
    # A [\W_]+ substitution costs ~40 ns a character on non-ASCII text; the non-ASCII
    # non-word characters are few (quotes, dashes, no-break spaces) and the rest is the
    # ASCII table on the UTF-8 bytes: 1.6x faster on real pages' non-ASCII paragraphs.
    words = _NON_ASCII_NON_WORD.sub(" ", text_folded)
    return b" ".join(words.encode("utf-8").translate(_ASCII_FOLD_KEEP_HIGH).split()).decode("utf-8")


def collapse_repeats(doc: Doc, min_words: int = MIN_REPEAT_WORDS, folded: dict[str, str] | None = None) -> Doc:
    """The document with later copies of its paragraphs removed (see the module docstring);
    `folded` gets fold() of its non-ASCII paragraphs (see paragraph_key)."""
    if not doc.accepted or not doc.units:
        return doc
    first_seen: dict[str, Unit] = {}
    if doc.title:
        # The title was lifted out by the clean stage; a later copy of it is a repeat too.
        title_span = next((r for r in doc.removed if r.reason == "metadata_title"), None)
        if title_span:
            first_seen[paragraph_key(doc.title)] = Unit(title_span.start, title_span.end, doc.title)
    repeat_of: list[Unit | None] = []
    for u in doc.units:
        key = paragraph_key(u.text, folded)
        earlier = first_seen.get(key) if key else None
        repeat_of.append(earlier)
        if key and earlier is None:
            first_seen[key] = u

    def long(i: int) -> bool:  # a long repeat at i (-1 and len(units) are none)
        return 0 <= i < len(repeat_of) and repeat_of[i] is not None and doc.units[i].text.count(" ") + 1 >= min_words

    keep: list[Unit] = []
    for i, u in enumerate(doc.units):
        if repeat_of[i] is not None and (long(i) or long(i - 1) or long(i + 1)):
            doc.remove(u, "repeats", "repeat", repeat_of=repeat_of[i])
        else:
            keep.append(u)
    doc.units = keep
    return doc

