"""Chrome stage: learn, across the documents of one source, the site chrome that line
rules cannot know (menus, tickers, related headlines, subscription pleas, legal
footers, cookie banners) and cut it out before the clean stage runs.

Why cross-document: every page of a site repeats the same chrome, and on short
articles it can outweigh the article; two different articles from one site would
then look alike, and two copies of one article on different sites would look
different. Line patterns (pipeline/clean.py) catch the generic part; what is left is
recognisable only because it recurs.

Chrome is recognised at two sizes, both folded (case, punctuation and spacing
ignored; every digit read as 0, so a market ticker whose prices change on every page
still recurs):
- sentences, which catch short chrome ("Share: Facebook | X | Email", a section
  label, one related headline) wherever the page breaks its lines;
- word 8-grams ("grams"), which catch long chrome where no sentence boundary lines
  up: a page flattened onto one line, chrome and body sharing a line, a related-links
  block listing a different set of headlines on each page.
1. Own words. A word is *shared* when a gram that covers it occurs in another
   document of the same source. A document counts as a different article when it
   has at least `min_own_words` words that are not shared. Copies of one story on
   one site share their body, so they have almost none.
2. Chrome keys: sentences and grams found in at least `min_docs` different articles
   of the source, plus the keys the warehouse already learnt for it (`known`), so a
   small drop from a known site is cleaned like a big one.
3. A paragraph whose sentences are all chrome, or whose words are all covered by
   chrome grams, is removed. Inside a paragraph, a run of at least `min_run` words
   covered by chrome grams is cut out (a shorter run may be a stock phrase of the
   site's reporters, which the article needs). Both are recorded as stage "chrome",
   reason "site_chrome".

Date and byline lines, and the headline above them, are left for the clean stage,
which reads metadata from them (a site's related-links blocks list its own
headlines, so a page's headline often recurs on its other pages). A document that
would keep nothing is rejected as having no article text.

A story's body is never chrome unless `min_docs` copies of it on one site each carry
`min_own_words` of their own (see the README).
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from . import signatures
from .clean import (_SENTENCE_END, BYLINE, DATE_LINE, NO_ARTICLE_TEXT, _headline_like, _is_body,
                    headline_index, paragraphs)
from .model import Doc, Unit

GRAM_WORDS = 8          # words per gram
MIN_DOCS = 4            # different articles that must share a gram for it to be chrome
MIN_OWN_WORDS = 60      # words of its own a document needs to count as a different article
MIN_RUN = 16            # chrome words in a row that are cut from inside a paragraph

_SENTENCE_MUL = np.uint64(0x9E3779B97F4A7C15)
_TOKEN = re.compile(r"\S+")


def _protected(u: Unit) -> bool:
    # metadata lines: the clean stage lifts title, byline and date from them
    return bool(DATE_LINE.match(u.text) or BYLINE.match(u.text))


def _headline_at(units: list[Unit]) -> int | None:
    """The paragraph that is probably the page's own headline: the one above the byline or
    date, or, with neither, a headline-like line right above the first body paragraph. It
    is kept for the clean stage to judge: a site's related-links blocks list its own
    headlines, so a page's headline often recurs on its other pages."""
    at = headline_index(units)
    if at is None:
        first_body = next((i for i, u in enumerate(units) if _is_body(u.text)), 0)
        if first_body and _headline_like(units[first_body - 1].text):
            at = first_body - 1
    return at


def _covered(hit: np.ndarray, k: int = GRAM_WORDS) -> np.ndarray:
    """Per word: is it inside one of the grams marked in `hit`? (Gram i covers words i..i+k-1.)"""
    n = len(hit)
    hits_before = np.concatenate(([0], np.cumsum(hit)))   # hits among grams < i
    w = np.arange(n)
    return hits_before[w + 1] - hits_before[np.maximum(w - k + 1, 0)] > 0


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


class _Page:
    """A document's paragraphs as one stream of words (each with its paragraph and the
    gram starting at it), and its sentences (each with its key and paragraph)."""

    def __init__(self, doc: Doc, text: str, words: np.ndarray, grams: np.ndarray, starts: np.ndarray,
                 ends: np.ndarray, unit_starts: np.ndarray):
        self.doc, self.grams, self.starts, self.ends = doc, grams, starts, ends
        self.unit_starts = unit_starts
        self.unit_of_word = np.searchsorted(unit_starts, starts, side="right") - 1
        # Sentences: cut at paragraph starts and sentence ends. A sentence's key is its
        # words' hashes summed (a bag of words: word order never tells two chrome lines apart).
        ends_at = [m.end() for m in _SENTENCE_END.finditer(text)]
        cuts = np.unique(np.concatenate((np.searchsorted(starts, unit_starts), np.searchsorted(starts, ends_at),
                                         [len(starts)])))
        lo, hi = cuts[:-1], cuts[1:]
        lo, hi = lo[hi > lo], hi[hi > lo]
        summed = np.concatenate((np.zeros(1, np.uint64), np.cumsum(words, dtype=np.uint64)))  # wraps mod 2**64
        keys = (summed[hi] - summed[lo]) ^ ((hi - lo).astype(np.uint64) * _SENTENCE_MUL)
        self.sentence_keys = signatures.mix64(keys)
        self.sentence_unit = self.unit_of_word[lo]
        # the keys a page votes with: its grams (0 marks the last words, which start none) and sentences
        self.keys = np.unique(np.concatenate([grams[grams != 0], self.sentence_keys]))


def _pages(docs: list[Doc]) -> list[_Page]:
    texts = ["\n".join(u.text for u in d.units) for d in docs]
    words, starts, ends, offsets = signatures.word_spans(texts, fold=True)
    grams = signatures.window_hashes(words, offsets, GRAM_WORDS)
    pages = []
    for i, d in enumerate(docs):
        a, b = offsets[i], offsets[i + 1]
        unit_starts = np.cumsum([0] + [len(u.text) + 1 for u in d.units[:-1]])
        pages.append(_Page(d, texts[i], words[a:b], grams[a:b], starts[a:b], ends[a:b], unit_starts))
    return pages


def learn(pages: list[_Page], min_docs: int = MIN_DOCS, min_own_words: int = MIN_OWN_WORDS) -> np.ndarray:
    """The chrome keys (gram and sentence hashes, sorted uint64) of one source's pages."""
    if len(pages) < min_docs:
        return np.empty(0, dtype=np.uint64)
    values, df = np.unique(np.concatenate([p.keys for p in pages]), return_counts=True)
    shared = _split_by_page(np.isin(np.concatenate([p.grams for p in pages]), values[df >= 2]), pages)
    voters = [p.keys for p, hit in zip(pages, shared)
              if np.count_nonzero(~_covered(hit)) >= min_own_words]
    if len(voters) < min_docs:
        return np.empty(0, dtype=np.uint64)
    values, votes = np.unique(np.concatenate(voters), return_counts=True)
    return values[votes >= min_docs]


def _member(sorted_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """np.isin for a sorted key array: np.isin sorts both arrays on every call, which for
    a paragraph's few sentences against thousands of chrome keys costs ~100x more."""
    if not len(sorted_keys):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    return sorted_keys[at] == values


def _split_by_page(flat: np.ndarray, pages: list[_Page]) -> list[np.ndarray]:
    """A per-word array over all pages (in order) cut back into one array per page."""
    return np.split(flat, np.cumsum([len(p.grams) for p in pages])[:-1])


def _raw_range(doc: Doc, unit: Unit, a: int, b: int) -> tuple[int, int] | None:
    """Raw-text range of characters a..b of a paragraph's normalised text, widened to
    whole white-space-separated tokens; None if normalisation changed the token count
    (then the paragraph's raw text cannot be cut at that place with confidence)."""
    norm = [m.span() for m in _TOKEN.finditer(unit.text)]
    raw = [m.span() for m in _TOKEN.finditer(doc.raw_text, unit.start, unit.end)]
    if len(norm) != len(raw) or not norm:
        return None
    first = next(i for i, (s, e) in enumerate(norm) if e > a)
    last = max(i for i, (s, e) in enumerate(norm) if s < b)
    return raw[first][0], raw[last][1]


def _cut(page: _Page, chrome: np.ndarray, hit: np.ndarray, min_run: int) -> None:
    """Remove the chrome of one page; `hit` marks its grams that are in `chrome`."""
    doc = page.doc
    is_chrome = _covered(hit)
    chrome_sentence = _member(chrome, page.sentence_keys)
    if not is_chrome.any() and not chrome_sentence.any():
        return
    n_units = len(doc.units)
    words_in = np.bincount(page.unit_of_word, minlength=n_units)
    # a paragraph is chrome when all its sentences are, or all its words are covered by chrome grams
    sentences_in = np.bincount(page.sentence_unit, minlength=n_units)
    whole = (words_in > 0) & (
        (np.bincount(page.sentence_unit[chrome_sentence], minlength=n_units) == sentences_in)
        | (np.bincount(page.unit_of_word[is_chrome], minlength=n_units) == words_in))
    cuts: dict[int, list[tuple[int, int]]] = defaultdict(list)  # unit -> normalised char ranges
    for a, b in _runs(is_chrome):
        if b - a < min_run:
            continue
        for u in np.unique(page.unit_of_word[a:b]).tolist():
            if not whole[u]:
                in_u = np.flatnonzero(page.unit_of_word[a:b] == u) + a
                base = page.unit_starts[u]
                cuts[u].append((int(page.starts[in_u[0]] - base), int(page.ends[in_u[-1]] - base)))
    headline = _headline_at(doc.units)
    keep: list[Unit] = []
    for i, u in enumerate(doc.units):
        if i == headline or _protected(u):
            keep.append(u)
        elif whole[i]:
            doc.remove(u, "chrome", "site_chrome")
        elif i in cuts:
            keep.extend(_split(doc, u, cuts[i]))
        else:
            keep.append(u)
    doc.units = keep
    if not keep:
        doc.reject_reason = NO_ARTICLE_TEXT


def _split(doc: Doc, unit: Unit, ranges: list[tuple[int, int]]) -> list[Unit]:
    """The pieces of a paragraph left after cutting `ranges` (normalised chars) out of it."""
    pieces, raw_pos, text_pos = [], unit.start, 0
    for a, b in ranges:
        raw = _raw_range(doc, unit, a, b)
        if raw is None:
            continue
        a = unit.text.rfind(" ", 0, a) + 1  # whole tokens, as in the raw range
        b_space = unit.text.find(" ", b)
        b = len(unit.text) if b_space < 0 else b_space
        doc.remove(Unit(raw[0], raw[1], unit.text[a:b]), "chrome", "site_chrome")
        if unit.text[text_pos:a].strip():
            pieces.append(Unit(raw_pos, raw[0], unit.text[text_pos:a].strip(), sentence=unit.sentence))
        raw_pos, text_pos = raw[1], b
    if unit.text[text_pos:].strip():
        pieces.append(Unit(raw_pos, unit.end, unit.text[text_pos:].strip(), sentence=unit.sentence))
    return pieces


def strip_batch(docs: list[Doc], known: Mapping[str, np.ndarray] | None = None, min_docs: int = MIN_DOCS,
                min_own_words: int = MIN_OWN_WORDS, min_run: int = MIN_RUN) -> dict[str, np.ndarray]:
    """Cut accepted documents into paragraphs (`doc.units`) and remove chrome, in place.

    known: source name -> chrome keys learnt earlier (from the warehouse).
    Returns the chrome keys learnt from this batch, per source (sorted uint64), for the
    warehouse to keep.
    """
    known = known or {}
    by_source: dict[str, list[Doc]] = defaultdict(list)
    for d in docs:
        if d.accepted and d.raw_text:
            d.units = paragraphs(d.raw_text)
            if d.units:
                by_source[d.source_name].append(d)
    learnt: dict[str, np.ndarray] = {}
    for source, group in by_source.items():
        if len(group) < min_docs and source not in known:
            continue
        pages = _pages(group)
        new = learn(pages, min_docs, min_own_words)
        if len(new):
            learnt[source] = new
        chrome = np.union1d(new, known.get(source, np.empty(0, dtype=np.uint64)))
        if len(chrome):
            hits = _split_by_page(np.isin(np.concatenate([p.grams for p in pages]), chrome), pages)
            for page, hit in zip(pages, hits):
                _cut(page, chrome, hit, min_run)
    return learnt
