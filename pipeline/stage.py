"""The stage contract: a stage takes a batch of documents and returns it with stats that add up.

Modelled on datatrove's PipelineStep and its stats: each stage (chrome, clean,
repeats, fingerprint) is an object with a `name` and a `run(docs)`; calling it
returns the batch and a `StageStats` (accepted documents in and out, documents
it rejected and spans it removed, by reason, and seconds). Stats of the same
stage add with `+`, and a `PipelineStats` (stage name -> stats) adds the same
way, so batches, workers and the flow sum them without knowing which stages
ran. In a stage's stats, documents_in = documents_out + sum(rejected).

Per-document isolation: an exception while processing one document rejects
that document only, as `internal_error` with the error (restored to the state
it had before the stage); the rest of the batch goes on. The chrome and
fingerprint stages work on the whole batch at once and fall back to document
by document when the batch raises.
"""
from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from . import chrome, clean, dedup, repeats
from .config import ChromeConfig
from .model import PARAGRAPH_BREAK, Doc
from .plan import CHROME_KEYS, INTERNAL_ERROR, chrome_dict
from .text import fold

log = logging.getLogger("newsfold.drop")


@dataclass
class StageStats:
    documents_in: int = 0       # accepted documents the stage was given
    documents_out: int = 0      # accepted documents after it
    rejected: dict[str, int] = field(default_factory=dict)        # documents it rejected, by reason
    spans_removed: dict[str, int] = field(default_factory=dict)   # spans it removed, by reason
    seconds: float = 0.0

    def __add__(self, other: StageStats) -> StageStats:
        return StageStats(self.documents_in + other.documents_in, self.documents_out + other.documents_out,
                          dict(Counter(self.rejected) + Counter(other.rejected)),
                          dict(Counter(self.spans_removed) + Counter(other.spans_removed)),
                          self.seconds + other.seconds)


class PipelineStats(dict[str, StageStats]):
    """Stage name -> its stats, in the order the stages first ran; adds up like StageStats."""

    def add(self, name: str, stats: StageStats) -> None:
        self[name] = self[name] + stats if name in self else stats

    def __add__(self, other: Mapping[str, StageStats]) -> PipelineStats:
        total = PipelineStats(self)
        for name, stats in other.items():
            total.add(name, stats)
        return total

    @contextlib.contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """Add the seconds of the block to `name` (for the steps that are not stages: rows, writes)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, StageStats(seconds=time.perf_counter() - start))

    def seconds(self) -> dict[str, float]:
        return {name: s.seconds for name, s in self.items()}

    def to_dict(self) -> dict[str, dict]:
        """Plain dicts, for a receipt that crosses processes."""
        return {name: asdict(s) for name, s in self.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping]) -> PipelineStats:
        return cls({name: StageStats(**s) for name, s in data.items()})


def accepted_stats(docs: list[Doc], before: list[tuple[bool, int]], seconds: float) -> StageStats:
    """The stats of a stage from each document's (accepted, len(removed)) before it."""
    rejected: Counter[str] = Counter()
    spans: Counter[str] = Counter()
    for d, (was_accepted, n_removed) in zip(docs, before):
        if was_accepted and not d.accepted:
            rejected[d.reject_reason] += 1
        spans.update(r.reason for r in d.removed[n_removed:])
    return StageStats(sum(a for a, _ in before), sum(d.accepted for d in docs), dict(rejected), dict(spans),
                      seconds)


class Stage:
    """A step over a batch of documents (see the module docstring). Subclasses set `name`
    and implement `run`, which changes the documents in place."""

    name = "stage"

    def __call__(self, docs: list[Doc]) -> tuple[list[Doc], StageStats]:
        before = [(d.accepted, len(d.removed)) for d in docs]
        start = time.perf_counter()
        self.run(docs)
        return docs, accepted_stats(docs, before, time.perf_counter() - start)

    def run(self, docs: list[Doc]) -> None:
        raise NotImplementedError


def run_stages(docs: list[Doc], stages: list[Stage], stats: PipelineStats) -> list[Doc]:
    """Run the stages in order, adding each one's stats to `stats`."""
    for stage in stages:
        docs, stage_stats = stage(docs)
        stats.add(stage.name, stage_stats)
    return docs


# --- per-document isolation -----------------------------------------------------------------

def reject_internal(doc: Doc, stage: str, exc: BaseException) -> None:
    """An error while processing one document rejects that document only (logged, and kept in
    `documents.error`); the rest of the batch goes on."""
    log.warning("%s failed on %s: %s: %s", stage, doc.source_path, type(exc).__name__, exc, exc_info=exc)
    doc.reject_reason = INTERNAL_ERROR
    doc.error = f"{stage}: {type(exc).__name__}: {exc}"[:2000]
    doc.units = []


def _snapshot(doc: Doc) -> tuple:
    return (doc.reject_reason, list(doc.units), len(doc.removed), doc.title, doc.byline, doc.published_at)


def _restore(doc: Doc, state: tuple) -> None:
    doc.reject_reason, units, n_removed, doc.title, doc.byline, doc.published_at = state
    doc.units = list(units)
    del doc.removed[n_removed:]


def each(docs: list[Doc], stage: str, run: Callable[[Doc], object]) -> None:
    """Run a per-document stage on each accepted document; one that raises is rejected as it
    was before the stage, with the error."""
    for d in docs:
        if d.accepted:
            state = _snapshot(d)
            try:
                run(d)
            except Exception as exc:
                _restore(d, state)
                reject_internal(d, stage, exc)


# --- the stages -----------------------------------------------------------------------------

class ChromeStage(Stage):
    """Site chrome (pipeline/chrome.py), learnt across the batch and from `known` (source name ->
    chrome keys the warehouse learnt earlier). After a run, `learnt` holds what this batch taught."""

    name = "chrome"

    def __init__(self, known: dict[str, np.ndarray] | None = None, settings: ChromeConfig = ChromeConfig()):
        self.known = known
        self.settings = settings
        self.learnt: dict[str, np.ndarray] = {}

    @classmethod
    def from_file(cls, known_chrome: str | Path | None, docs: list[Doc],
                  settings: ChromeConfig = ChromeConfig()) -> ChromeStage:
        """Start from the chrome staged in a Parquet file (CHROME_KEYS) for the batch's sources."""
        if known_chrome is None:
            return cls(None, settings)
        names = sorted({d.source_name for d in docs})
        return cls(chrome_dict(pq.read_table(known_chrome, filters=[("source_name", "in", names)]) if names
                               else CHROME_KEYS.empty_table()), settings)

    def _strip(self, docs: list[Doc], known: dict | None) -> dict[str, np.ndarray]:
        s = self.settings
        return chrome.strip_batch(docs, known, min_docs=s.min_docs, min_own_words=s.min_own_words,
                                  min_run=s.min_run, gram_words=s.gram_words)

    def run(self, docs: list[Doc]) -> None:
        """chrome.strip_batch, isolated per document. The chrome stage learns across the batch,
        so when it raises, each document is tried alone to find the ones it fails on; those are
        rejected and the batch runs again without them (alone, a document still gets the known
        chrome cut, but learns nothing)."""
        known = self.known
        states = [_snapshot(d) for d in docs]
        try:
            self.learnt = self._strip(docs, known)
            return
        except Exception as exc:
            log.warning("chrome stage failed on the batch (%s: %s); retrying document by document",
                        type(exc).__name__, exc)
        for d, state in zip(docs, states):
            _restore(d, state)
        each(docs, "chrome", lambda d: self._strip([d], known))
        good = [(d, state) for d, state in zip(docs, states) if d.reject_reason != INTERNAL_ERROR]
        for d, state in good:
            _restore(d, state)
        try:
            self.learnt = self._strip([d for d, _ in good], known)
        except Exception:  # failing together but not alone: each keeps what it gets alone
            for d, state in good:
                _restore(d, state)
            each([d for d, _ in good], "chrome", lambda d: self._strip([d], known))
            self.learnt = {}


class CleanStage(Stage):
    """pipeline/clean.py: Unicode repair, hard wraps, boilerplate, title/byline/date."""

    name = "clean"

    def __init__(self, min_words: int = clean.MIN_ARTICLE_WORDS):
        self.min_words = min_words

    def run(self, docs: list[Doc]) -> None:
        each(docs, self.name, lambda d: clean.clean_document(d, self.min_words))


class RepeatsStage(Stage):
    """pipeline/repeats.py: a body (or paragraphs) repeated on the page is kept once.
    `folded`, if given, gets fold() of the non-ASCII paragraphs (see FingerprintStage)."""

    name = "repeats"

    def __init__(self, min_words: int = repeats.MIN_REPEAT_WORDS, folded: dict[str, str] | None = None):
        self.min_words = min_words
        self.folded = folded

    def run(self, docs: list[Doc]) -> None:
        each(docs, self.name, lambda d: repeats.collapse_repeats(d, self.min_words, self.folded))


class FingerprintStage(Stage):
    """MinHash signature and LSH bands of each accepted document (dedup.fingerprint), set on
    the document (`n_shingles`, `minhash`, `bands`); one that fails alone is rejected."""

    name = "fingerprint"

    def __init__(self, params: dedup.DedupParams, folded: dict[str, str] | None = None):
        self.params = params
        self.folded = {} if folded is None else folded

    def _folded_text(self, doc: Doc) -> str:
        """fold(doc.text), a paragraph at a time: fold keeps no context across a line break (NFKC
        composes nothing with one, casing looks past none), so folding the paragraphs and
        joining them is folding the text; and the repeats stage folded the non-ASCII ones
        already (`folded`): ~0.057 -> ~0.007 ms a real page."""
        folded = self.folded
        return PARAGRAPH_BREAK.join([t.lower() if t.isascii() else folded.get(t) or fold(t) for t in (u.text for u in doc.units)])

    def _fingerprint(self, docs: list[Doc]) -> None:
        sizes, sigs, bands = dedup.fingerprint([d.text for d in docs], self.params,
                                               folded_texts=[self._folded_text(d) for d in docs])
        for k, d in enumerate(docs):
            d.n_shingles, d.minhash, d.bands = int(sizes[k]), dedup.sig_to_bytes(sigs[k]), bands[k]

    def run(self, docs: list[Doc]) -> None:
        accepted = [d for d in docs if d.accepted]
        try:
            self._run(accepted)
        finally:
            self.folded.clear()  # the batch's paragraphs: not kept past the stage

    def _run(self, accepted: list[Doc]) -> None:
        if not accepted:
            return
        try:
            self._fingerprint(accepted)
            return
        except Exception as exc:
            log.warning("fingerprint failed on the batch (%s: %s); retrying document by document",
                        type(exc).__name__, exc)
        for d in accepted:
            try:
                self._fingerprint([d])
            except Exception as exc:
                reject_internal(d, "fingerprint", exc)
