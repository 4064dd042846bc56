"""Chrome stage: learn, across the documents of one source, the site chrome that line
rules cannot know (menus, tickers, related headlines, subscription pleas, legal
footers, cookie banners) and cut it out before the clean stage runs.

Why cross-document: every page of a site repeats the same chrome, and on short
articles it can outweigh the article; two different articles from one site would
then look alike, and two copies of one article on different sites would look
different. Line patterns (pipeline/clean.py, pipeline/patterns.py) catch the generic part; what is left is
recognisable only because it recurs.

Chrome is recognised at two sizes, both folded (case, punctuation and spacing
ignored; every digit read as 0, so a market ticker whose prices change on every page
still recurs; a sentence is compared as a bag of its words):
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

Date and byline lines, and the headline above them (or, with neither, a headline-like
line right above the body), are left for the clean stage, which reads metadata from
them (a site's related-links blocks list its own headlines, so a page's headline often
recurs on its other pages). So are the headings of a related-links list and of the readers'
comments below the first body paragraph: the clean stage reads where the article stops from
them, and with the heading cut alone, the list or the comments under it (different on every
page) look like body text. (Above the body such a heading is a menu item, "Trending".) A document that would keep nothing is rejected as having
no article text.

A story's body is never chrome unless `min_docs` copies of it on one site each carry
`min_own_words` of their own (see the README).
"""
from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Mapping
from functools import lru_cache
from itertools import pairwise
from operator import itemgetter

import numpy as np

from . import signatures
from .layout import headline_index, headline_like, is_body
from .model import Doc, Unit
from .patterns import BYLINE, RELATED_HEADING, comments_heading, date_line
from .schema import NO_ARTICLE_TEXT
from .signatures import count_before, exclusive_cumsum
from .text import SENTENCE_END, paragraphs, raw_token_spans

GRAM_WORDS = 8          # words per gram
MIN_DOCS = 4            # different articles that must share a gram for it to be chrome
MIN_OWN_WORDS = 60      # words of its own a document needs to count as a different article
MIN_RUN = 16            # chrome words in a row that are cut from inside a paragraph

_SENTENCE_MUL = np.uint64(0x9E3779B97F4A7C15)
_TOKEN = re.compile(r"\S+")
_START, _END = itemgetter(0), itemgetter(1)  # of a (start, end) span


def _protected(u: Unit) -> bool:
    return _metadata_line(u.text)


# The tests below are asked of chrome paragraphs, which recur on many pages of a batch by
# definition: their answers are remembered per text.
@lru_cache(maxsize=1 << 12)
def _metadata_line(text: str) -> bool:
    # metadata lines: the clean stage lifts title, byline and date from them
    return bool(date_line(text) or BYLINE.match(text))


@lru_cache(maxsize=1 << 12)
def _structure_heading(text: str) -> bool:
    # "Related Articles", "Leave a Comment": the clean stage ends the body or a related list there
    return len(text) <= 80 and bool(RELATED_HEADING.match(text) or comments_heading(text))


def _structure_headings(units: list[Unit], chrome: set[int]) -> set[int]:
    """The chrome paragraphs that are a related-links or comments heading below the first body
    paragraph: left for the clean stage (see the module docstring)."""
    headings = {i for i in chrome if _structure_heading(units[i].text)}
    if not headings:
        return headings
    first_body = next((i for i, u in enumerate(units) if is_body(u.text)), len(units))
    return {i for i in headings if i > first_body}


_chrome_headline_like = lru_cache(maxsize=1 << 12)(headline_like)


def _headline_at(units: list[Unit]) -> int | None:
    """The paragraph that is probably the page's own headline: the one above the byline or
    date, or, with neither, a headline-like line right above the first body paragraph. It
    is kept for the clean stage to judge: a site's related-links blocks list its own
    headlines, so a page's headline often recurs on its other pages."""
    at = headline_index(units)
    if at is None:
        first_body = next((i for i, u in enumerate(units) if is_body(u.text)), 0)
        if first_body and headline_like(units[first_body - 1].text):
            at = first_body - 1
    return at


def _covered(hit: np.ndarray, k: int = GRAM_WORDS) -> np.ndarray:
    """Per word: is it inside one of the grams marked in `hit`? (Gram i covers words i..i+k-1.)"""
    n = len(hit)
    hits_before = np.zeros(n + 1, dtype=np.int64)   # hits among grams < i
    np.cumsum(hit, out=hits_before[1:])
    window_start = np.zeros(n, dtype=np.int64)      # hits_before[max(w - k + 1, 0)], by slicing
    window_start[k - 1:] = hits_before[:max(n - k + 1, 0)]
    return hits_before[1:] - window_start > 0


def _member(sorted_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """np.isin for a sorted key array (np.isin would sort both arrays again on every call)."""
    if not len(sorted_keys):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    return sorted_keys[at] == values


def _sorted_distinct(runs: np.ndarray) -> np.ndarray:
    """np.unique of an array made of a few sorted runs: a stable sort merges the runs in
    linear time (np.unique's quicksort does not see them)."""
    values = np.sort(runs, kind="stable")
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _maybe_repeated(keys: np.ndarray) -> np.ndarray:
    """Per key: might another entry hold the same key? False only for keys that are certainly
    unique, found by counting the keys per bucket of their low bits (they are hashes) in one
    pass: most grams of a batch are article text and occur once, so they need not be sorted."""
    # at least twice as many buckets as keys (a 500-page batch: ~2 million, 16 MB of counts),
    # at most 2**22 (32 MB): past that, more keys share a bucket and are sorted needlessly
    buckets = 1 << min(22, max(10, (2 * len(keys)).bit_length()))
    bucket = (keys & np.uint64(buckets - 1)).astype(np.intp)
    # each key reads its bucket's verdict from a table of 1 byte a bucket, not its count (8 bytes):
    # the reads are random, and the smaller table stays in cache
    return (np.bincount(bucket, minlength=buckets) > 1)[bucket]


def _by_key_then_page(keys: np.ndarray, page: np.ndarray, at: np.ndarray) -> np.ndarray:
    """`at` ordered by (keys[at], page[at]), as np.lexsort((page[at], keys[at])) orders it up
    to ties (entries of one key and page stay together; their order does not matter here).
    Two quicksorts, ~2x faster than lexsort's stable passes over 64-bit keys: by key, then
    by (rank of the key, page) packed into one int64, which is exact (both < len(at))."""
    at = at[np.argsort(keys[at])]
    sorted_keys = keys[at]
    new_key = np.ones(len(at), dtype=bool)
    new_key[1:] = sorted_keys[1:] != sorted_keys[:-1]
    rank = np.cumsum(new_key) - 1
    return at[np.argsort(rank * (int(page.max(initial=0)) + 1) + page[at])]


class _Source:
    """The documents of one source as flat arrays, so each step is a few numpy calls for
    the whole source rather than per page: every word (its hash, the gram starting at it,
    its page, its paragraph, its place in the page's text) and every sentence (its key,
    page and paragraph). Pages and their paragraphs are numbered in order across the
    source; a page's text is its paragraphs joined by newlines."""

    def __init__(self, docs: list[Doc], gram_words: int = GRAM_WORDS):
        self.docs = docs
        self.gram_words = gram_words
        # one pass over the paragraphs: their texts in a flat list, each page's text joined from a slice of it
        unit_texts = [u.text for d in docs for u in d.units]
        self.unit_first = exclusive_cumsum([len(d.units) for d in docs])     # page -> its first paragraph
        texts = ["\n".join(unit_texts[a:b]) for a, b in pairwise(self.unit_first.tolist())]
        self.words, self.starts, self.ends, self.offsets = signatures.word_spans(texts, fold=True)
        self.grams = signatures.window_hashes(self.words, self.offsets, gram_words)
        self.page_of_word = np.repeat(np.arange(len(docs)), np.diff(self.offsets))
        self.text_base = exclusive_cumsum([len(t) + 1 for t in texts])       # page -> offset in the joined text
        self.unit_base = exclusive_cumsum(np.fromiter(map(len, unit_texts), dtype=np.int64, count=len(unit_texts)) + 1)
        at = self.starts + self.text_base[self.page_of_word]                  # words' offsets in the joined text
        # = np.searchsorted(self.unit_base, at, side="right") - 1, with a search per paragraph, not per word
        self.unit_of_word = count_before(at + 1, self.unit_base[1:])
        # Sentences: cut at page and paragraph starts and at sentence ends. A sentence's key
        # is its words' hashes summed (a bag of words: word order never tells chrome apart).
        ends_at = [m.end() for m in SENTENCE_END.finditer("\n".join(texts))]  # next sentence's start
        cuts = _sorted_distinct(np.concatenate((self.offsets, np.searchsorted(at, self.unit_base[:-1]),
                                                np.searchsorted(at, ends_at))))
        lo, hi = cuts[:-1], cuts[1:]
        lo, hi = lo[hi > lo], hi[hi > lo]
        summed = np.concatenate((np.zeros(1, np.uint64), np.cumsum(self.words, dtype=np.uint64)))  # mod 2**64
        self.sentence_keys = signatures.mix64((summed[hi] - summed[lo]) ^ ((hi - lo).astype(np.uint64) * _SENTENCE_MUL))
        self.sentence_unit = self.unit_of_word[lo]
        self.page_of_sentence = self.page_of_word[lo]

    def learn(self, min_docs: int, min_own_words: int) -> np.ndarray:
        """The chrome keys (gram and sentence hashes, sorted uint64) of this source. Marks
        the grams and sentences that carry them in `gram_hits` and `sentence_hits`."""
        n_grams = len(self.grams)
        keys = np.concatenate((self.grams, self.sentence_keys))
        page = np.concatenate((self.page_of_word, self.page_of_sentence))
        hits = np.zeros(len(keys), dtype=bool)
        self.gram_hits, self.sentence_hits = hits[:n_grams], hits[n_grams:]
        if len(self.docs) < min_docs:
            return np.empty(0, dtype=np.uint64)
        # sort (key, page); count for each key the pages that carry it, and mark where each entry sits
        at = np.flatnonzero(np.concatenate((self.grams != 0, np.ones(len(self.sentence_keys), dtype=bool))))
        if min_docs >= 2:  # a key no other entry holds is on one page: neither shared nor chrome
            at = at[_maybe_repeated(keys[at])]
        at = _by_key_then_page(keys, page, at)  # 0 is no gram: the last words of a page start none
        sorted_keys, sorted_pages = keys[at], page[at]
        key_start = np.ones(len(at), dtype=bool)
        key_start[1:] = sorted_keys[1:] != sorted_keys[:-1]
        page_start = key_start.copy()  # first entry of a (key, page) pair
        page_start[1:] |= sorted_pages[1:] != sorted_pages[:-1]
        run = np.cumsum(key_start) - 1
        pages_with = np.bincount(run, weights=page_start)
        shared = np.zeros(len(keys), dtype=bool)
        shared[at] = pages_with[run] >= 2
        own = np.bincount(self.page_of_word[~_covered(shared[:n_grams], self.gram_words)], minlength=len(self.docs))
        voters = own >= min_own_words
        if voters.sum() < min_docs:
            return np.empty(0, dtype=np.uint64)
        chrome = np.bincount(run, weights=page_start & voters[sorted_pages]) >= min_docs
        hits[at] = chrome[run]
        return sorted_keys[key_start][chrome]

    def cut(self, known: np.ndarray, min_run: int) -> None:
        """Remove the chrome `learn` found, and the `known` chrome keys (sorted), in place."""
        gram_hits, sentence_hits = self.gram_hits, self.sentence_hits
        if len(known):
            gram_hits = gram_hits | _member(known, self.grams)
            sentence_hits = sentence_hits | _member(known, self.sentence_keys)
        is_chrome = _covered(gram_hits, self.gram_words)
        if not is_chrome.any() and not sentence_hits.any():
            return
        n_units = len(self.unit_base) - 1
        words_in = np.bincount(self.unit_of_word, minlength=n_units)
        # a paragraph is chrome when all its sentences are, or all its words are covered by chrome grams
        whole = (words_in > 0) & (
            (np.bincount(self.sentence_unit[sentence_hits], minlength=n_units)
             == np.bincount(self.sentence_unit, minlength=n_units))
            | (np.bincount(self.unit_of_word[is_chrome], minlength=n_units) == words_in))
        # runs of chrome words (a page start ends a run); long ones are cut out of other paragraphs
        run_start = is_chrome.copy()
        run_start[1:] &= ~is_chrome[:-1]
        page_starts = self.offsets[:-1][self.offsets[:-1] < len(is_chrome)]
        run_start[page_starts] = is_chrome[page_starts]
        run_of_word = np.cumsum(run_start) - 1
        # minlength 1: with chrome sentences but no chrome gram (a line of under 8 words,
        # "By Staff Reporter", recurring), there are no runs, and run 0 is looked up all the same
        run_len = np.bincount(run_of_word[is_chrome], minlength=max(1, int(run_start.sum())))
        partial = is_chrome & (run_len[np.maximum(run_of_word, 0)] >= min_run) & ~whole[self.unit_of_word]
        cuts = self._ranges_by_page(np.flatnonzero(partial), run_of_word)
        whole_by_page: dict[int, set[int]] = defaultdict(set)  # page -> its whole chrome paragraphs
        whole_units = np.flatnonzero(whole)
        unit_page = np.searchsorted(self.unit_first, whole_units, side="right") - 1
        for p, i in zip(unit_page.tolist(), (whole_units - self.unit_first[unit_page]).tolist()):
            whole_by_page[p].add(i)
        for p in sorted(set(cuts) | set(whole_by_page)):
            self._cut_page(p, whole_by_page.get(p, set()), cuts.get(p, {}))

    def _ranges_by_page(self, words: np.ndarray, run_of_word: np.ndarray) -> dict[int, dict[int, list[tuple[int, int]]]]:
        """page -> paragraph -> the char ranges (in the paragraph's text) of the chrome runs
        that cover `words` (sorted), one range per run and paragraph. Found for all pages at
        once: per page, a dozen numpy calls on a few words cost more than the work."""
        cuts: dict[int, dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
        if not len(words):
            return cuts
        # a group never spans two pages: paragraphs are numbered across the source
        unit, run = self.unit_of_word[words], run_of_word[words]
        group_start = np.flatnonzero(np.concatenate(([True], (unit[1:] != unit[:-1]) | (run[1:] != run[:-1]))))
        group_end = np.concatenate((group_start[1:], [len(words)])) - 1
        first, last, unit = words[group_start], words[group_end], unit[group_start]
        page = self.page_of_word[first]
        base = self.unit_base[unit] - self.text_base[page]  # where the paragraph starts in its page's text
        for p, u, a, b in zip(page.tolist(), (unit - self.unit_first[page]).tolist(),
                              (self.starts[first] - base).tolist(), (self.ends[last] - base).tolist()):
            cuts[p][u].append((a, b))
        return cuts

    def _cut_page(self, p: int, whole: set[int], cuts: Mapping[int, list[tuple[int, int]]]) -> None:
        """Remove from page p its `whole` chrome paragraphs and the `cuts` (paragraph -> char ranges)."""
        doc = self.docs[p]
        units = doc.units
        chrome = whole | set(cuts)
        # the headline is looked for only if a chrome paragraph could be it (most are not headline-like)
        headline = _headline_at(units) if any(_chrome_headline_like(units[i].text) for i in chrome) else None
        headings = _structure_headings(units, chrome)
        cut = sorted(i for i in chrome if i != headline and i not in headings and not _protected(units[i]))
        keep: list[Unit] = []
        kept_to = 0  # the paragraphs between two cut ones are kept as a slice, not one by one
        for i in cut:
            keep += units[kept_to:i]
            if i in whole:
                doc.remove(units[i], "chrome", "site_chrome")
            else:
                keep += _split(doc, units[i], cuts[i])
            kept_to = i + 1
        keep += units[kept_to:]
        doc.units = keep
        if not keep:
            doc.reject_reason = NO_ARTICLE_TEXT


def _token_spans(doc: Doc, unit: Unit) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The white-space-separated tokens of a paragraph: spans in its normalised text and in the raw text."""
    return [m.span() for m in _TOKEN.finditer(unit.text)], raw_token_spans(doc.raw_text, unit)


def _raw_range(norm: list[tuple[int, int]], raw: list[tuple[int, int]], a: int, b: int) -> tuple[int, int] | None:
    """Raw-text range of characters a..b of a paragraph's normalised text (tokens: see
    _token_spans), widened to whole white-space-separated tokens; None if normalisation
    changed the token count (then the paragraph's raw text cannot be cut at that place
    with confidence)."""
    if len(norm) != len(raw) or not norm:
        return None
    # tokens are in order and do not overlap: the first that ends after a and the last that
    # starts before b are found by bisection (a flattened page's paragraph has hundreds)
    first = bisect.bisect_right(norm, a, key=_END)
    last = bisect.bisect_left(norm, b, key=_START) - 1
    return raw[first][0], raw[last][1]


def _split(doc: Doc, unit: Unit, ranges: list[tuple[int, int]]) -> list[Unit]:
    """The pieces of a paragraph left after cutting `ranges` (normalised chars) out of it."""
    pieces, raw_pos, text_pos = [], unit.start, 0
    # a paragraph that normalising left as it was (most are) has the raw text's offsets, and
    # its tokens need not be listed to map a range onto the raw text
    verbatim = doc.raw_text[unit.start:unit.end] == unit.text
    tokens = None if verbatim else _token_spans(doc, unit)  # once per paragraph, not once per range
    for a, b in ranges:
        raw = None if tokens is None else _raw_range(*tokens, a, b)
        if tokens is not None and raw is None:
            continue  # normalising changed the token count: no sure place to cut
        a = unit.text.rfind(" ", 0, a) + 1  # whole tokens, as in the raw range
        b_space = unit.text.find(" ", b)
        b = len(unit.text) if b_space < 0 else b_space
        if raw is None:  # verbatim: the raw range is the normalised one, moved
            raw = (unit.start + a, unit.start + b)
        doc.remove(Unit(raw[0], raw[1], unit.text[a:b]), "chrome", "site_chrome")
        if unit.text[text_pos:a].strip():
            pieces.append(Unit(raw_pos, raw[0], unit.text[text_pos:a].strip(), sentence=unit.sentence))
        raw_pos, text_pos = raw[1], b
    if unit.text[text_pos:].strip():
        pieces.append(Unit(raw_pos, unit.end, unit.text[text_pos:].strip(), sentence=unit.sentence))
    return pieces


def strip_batch(docs: list[Doc], known: Mapping[str, np.ndarray] | None = None, min_docs: int = MIN_DOCS,
                min_own_words: int = MIN_OWN_WORDS, min_run: int = MIN_RUN, gram_words: int = GRAM_WORDS
                ) -> dict[str, np.ndarray]:
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
    for name, group in by_source.items():
        if len(group) < min_docs and name not in known:
            continue
        source = _Source(group, gram_words)
        new = source.learn(min_docs, min_own_words)
        if len(new):
            learnt[name] = new
        source.cut(known.get(name, np.empty(0, dtype=np.uint64)), min_run)
    return learnt
