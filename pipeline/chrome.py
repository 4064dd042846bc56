"""Chrome stage: learn, across the documents of one source in a batch, the site chrome
that line rules cannot know (menus, tickers, related headlines, subscription pleas,
legal footers, cookie banners) and remove it before the clean stage runs.

Why cross-document: every page of a site repeats the same chrome, and on short
articles it can outweigh the article; two different articles from one site would
then look alike, and two copies of one article on different sites would look
different. Line patterns (pipeline/clean.py) catch the generic part; what is left is
recognisable only because it recurs.

The rule. Text is compared sentence by sentence (folded: case, punctuation and
spacing ignored), so the chrome of a page that arrived flattened onto one line still
matches the same chrome laid out line by line. A sentence is chrome when at least
`min_docs` documents of the same source carry it *and each of those documents has at
least `min_own_words` words of its own* (sentences no other document of the batch
has): different articles that share the sentence. Copies of one story also share
their body sentences, but a copy has little text of its own (an exact or syndicated
copy none beyond a ticker or a credit line), so a story's body does not count as
chrome unless `min_docs` copies of it each rewrote a lot (see the README).

A paragraph is removed (stage "chrome", reason "site_chrome") when all its sentences
are chrome. Date and byline lines, and the headline above them, are left for the
clean stage, which reads metadata from them (a site's related-links blocks list its
own headlines, so a page's headline often recurs on its other pages). A document that would keep nothing is rejected as having no
article text.
"""
from __future__ import annotations

from collections import defaultdict

from .clean import _SENTENCE_END, BYLINE, DATE_LINE, NO_ARTICLE_TEXT, headline_index, paragraphs
from .model import Doc, Unit
from .repeats import fold

MIN_DOCS = 4            # different articles that must share a sentence for it to be chrome
MIN_OWN_WORDS = 60      # words of its own a document needs to count as a different article


def sentence_keys(text: str) -> list[str]:
    """The folded sentences of a paragraph (empty ones dropped)."""
    return [k for k in (fold(s) for s in _SENTENCE_END.split(text)) if k]


def _protected(u: Unit) -> bool:
    # metadata lines: the clean stage lifts title, byline and date from them
    return bool(DATE_LINE.match(u.text) or BYLINE.match(u.text))


def learn(docs: list[list[list[str]]], min_docs: int = MIN_DOCS, min_own_words: int = MIN_OWN_WORDS) -> set[str]:
    """Chrome sentence keys of one source. `docs`: per document, per paragraph, its sentence keys."""
    df: dict[str, int] = defaultdict(int)
    doc_keys = []
    for paras in docs:
        keys = {k for para in paras for k in para}
        doc_keys.append(keys)
        for k in keys:
            df[k] += 1
    own = [sum(k.count(" ") + 1 for k in keys if df[k] == 1) >= min_own_words for keys in doc_keys]
    votes: dict[str, int] = defaultdict(int)
    for keys, distinct in zip(doc_keys, own):
        if distinct:
            for k in keys:
                if df[k] >= min_docs:
                    votes[k] += 1
    return {k for k, n in votes.items() if n >= min_docs}


def strip_batch(docs: list[Doc], min_docs: int = MIN_DOCS, min_own_words: int = MIN_OWN_WORDS) -> list[Doc]:
    """Cut accepted documents into paragraphs (`doc.units`) and remove learnt chrome, in place."""
    by_source: dict[str, list[Doc]] = defaultdict(list)
    for d in docs:
        if d.accepted and d.raw_text:
            d.units = paragraphs(d.raw_text)
            by_source[d.source_name].append(d)
    for group in by_source.values():
        if len(group) < min_docs:
            continue
        keys = [[sentence_keys(u.text) for u in d.units] for d in group]
        chrome = learn(keys, min_docs, min_own_words)
        if not chrome:
            continue
        for d, paras in zip(group, keys):
            # a site's related-links blocks list its own headlines, this page's among them
            headline = headline_index(d.units)
            keep = []
            for i, (u, ks) in enumerate(zip(d.units, paras)):
                if ks and all(k in chrome for k in ks) and not _protected(u) and i != headline:
                    d.remove(u, "chrome", "site_chrome")
                else:
                    keep.append(u)
            d.units = keep
            if not keep:
                d.reject_reason = NO_ARTICLE_TEXT
    return docs
