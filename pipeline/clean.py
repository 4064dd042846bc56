"""Clean stage: normalise Unicode, re-join hard-wrapped lines, strip boilerplate,
and pull out title, byline and publication date.

The page arrives as normalised paragraphs (pipeline/text.py: units with raw offsets,
Unicode repaired, hard wraps re-joined), and where its article lies among them is
read by pipeline/layout.py. This module holds the decisions: the line rules, as data
(`LINE_RULES`, their patterns in pipeline/patterns.py), and the position rules that
drop whole paragraphs above the headline or outside the body. Every dropped
paragraph is recorded with a reason, so nothing disappears silently. NUL and other
control characters that normalisation dropped are recorded too ("control_chars").

Degenerate text (`degenerate`): a document whose text is one token (or a handful)
repeated, has no sentence at all, or is mostly base64/hex blobs is rejected as
"degenerate_text", not stored as an article.

Boilerplate rules are general patterns plus position: navigation and category
lines only count as chrome before the first body paragraph or after the last;
photo credits, share buttons, newsletter prompts and "related" blocks are
recognised anywhere.

Title, byline and date: see pipeline/layout.py for where the headline is found.
"""
from __future__ import annotations

import bisect
import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

from .layout import TITLE_CASE, PageLayout, byline_name, headline_like, is_body, page_layout
from .model import Doc, RemovedSpan, Unit
from .patterns import (BIO_ROLE, BYLINE_HEADS, EMAIL_SUBJECT, EMAIL_SUBJECT_HEADS, EMBEDDED_FRAME, FOOTER_WORDS,
                       LOGIN_WORDS, NAV, NAV_OR_PROMO_HEADS, NEWSLETTER_SOURCE, NEWSLETTER_SOURCE_HEADS, PLEA_WORDS,
                       PROMO, RELATED_HEADING, RELATED_HEADING_HEADS, SHARE_RUN, SOCIAL, SOCIAL_HEADS, WIDGET,
                       WIDGET_HEADS, follow_prompt,
                       date_line, legal_footer, login_box, note_page, noted_words, photo_credit, plea, share_runs)
from .schema import DEGENERATE_TEXT, NO_ARTICLE_TEXT
from .text import (CONTROL_RUN, HAS_CONTROL, SEA_CHARS, UNSPACED_CHAR, Scan, any_sentence, capitalised_share,
                   ends_sentence, line_head, normalise, paragraphs, parse_date, raw_token_spans, split_unspaced,
                   word_count)

MIN_ARTICLE_WORDS = 20  # in word_count() words


# What the line rules may still remove from a page trafilatura extracted from HTML: it
# already judged every block by the page's structure (links, markup, position), which
# position rules without a DOM can only guess at, so only what is chrome wherever it
# stands (share lines, prompts, widgets, a related-links block under its heading) and
# the metadata lines go. Everything else trafilatura kept stays.
AFTER_DOM = {"share_buttons", "newsletter_prompt", "navigation", "email_header", "metadata_byline",
             "metadata_date", "metadata_title", "related_links"}



# --- the line rules, as data -----------------------------------------------------------------
#
# Each rule names the reason it records, the test of a paragraph's text, and the most
# words a paragraph may have for the rule to apply, outside the article body (above or
# below it) and inside it (None: never inside). `where` narrows it further: "above" the
# body, "after_tail" (the closing headline list of a page) or "closing" the page (from
# the last few paragraphs before that list on).
# A rule that `fills` a metadata field names where what its test returned (a byline's name,
# a date, an e-mail subject) goes; `extract_metadata` fills the fields from the rules'
# findings, apart from the removal (strip_boilerplate). The first rule that matches decides; the order is the
# table's. The word limits come first because they are cheap: body paragraphs are most of
# the text, and fail them, so they skip the regexes.

@dataclass(frozen=True)
class LineRule:
    reason: str
    test: Callable[[str], object]
    words_outside: float
    words_inside: float | None
    where: str = "anywhere"          # "anywhere" | "above" | "after_tail" | "closing"
    fills: str | None = None         # "byline" | "published_at" | "subject"
    needs_words: int = 0             # the word groups of patterns.noted_words without which its test fails
    heads: frozenset[str] | None = None  # the line heads (text.line_head) its test may pass; None: any


def _email_subject(text: str) -> str | None:
    m = EMAIL_SUBJECT.match(text)
    return m.group(1) if m else None


def _date_line(text: str) -> date | None:
    return _parsed_date(text) if date_line(text) else None


@lru_cache(maxsize=1 << 12)  # a site prints the same few dates on many pages; dateutil takes ~20 us a line
def _parsed_date(text: str) -> date | None:
    return parse_date(text)


def _nav_or_promo(text: str) -> bool:
    return bool(NAV.match(text) or PROMO.match(text))


def _bio(text: str) -> bool:
    return bool(BIO_ROLE.match(text) or follow_prompt(text))


def _always(text: str) -> bool:
    return True


ANY = math.inf
CLOSING_PARAGRAPHS = 3  # paragraphs before a closing headline list in which an author bio is looked for
LINE_RULES = (
    LineRule("share_buttons", SOCIAL.match, 8, 8, heads=SOCIAL_HEADS),
    LineRule("photo_credit", photo_credit, 25, 25),
    LineRule("copyright_footer", legal_footer, 40, 15, needs_words=FOOTER_WORDS),
    LineRule("newsletter_prompt", plea, 40, 20, needs_words=PLEA_WORDS),
    LineRule("newsletter_prompt", NEWSLETTER_SOURCE.match, 20, None, heads=NEWSLETTER_SOURCE_HEADS),
    LineRule("navigation", login_box, 60, None, needs_words=LOGIN_WORDS),  # a sign-in box above or below the article
    LineRule("navigation", WIDGET.match, ANY, ANY, heads=WIDGET_HEADS),
    LineRule("navigation", _nav_or_promo, ANY, None, heads=NAV_OR_PROMO_HEADS),
    LineRule("email_header", _email_subject, 40, None, where="above", fills="subject", heads=EMAIL_SUBJECT_HEADS),
    LineRule("metadata_byline", byline_name, 10, 10, fills="byline", heads=BYLINE_HEADS),  # BYLINE.match first
    LineRule("metadata_date", _date_line, 14, None, fills="published_at"),
    LineRule("related_links", _always, ANY, ANY, where="after_tail"),  # the closing headline list itself
    LineRule("author_bio", _bio, 60, 60, where="closing"),
)

def _line_rule(layout: PageLayout, i: int, text: str, words: int, head: str) -> tuple[LineRule, object] | None:
    """The first line rule that matches paragraph i, with what its test returned (head: line_head(text))."""
    above = i < layout.first_body
    for rule in _admitted_rules(above or i > layout.last_body, min(words, _WORDS_BEYOND_LIMITS), above,
                                i >= layout.tail, i >= layout.tail - CLOSING_PARAGRAPHS, noted_words(text)):
        if rule.heads is not None and head not in rule.heads:
            continue  # its pattern cannot match a line that starts so
        found = rule.test(text)
        if found:
            return rule, found
    return None


# A paragraph longer than every finite word limit is admitted by the same rules whatever its length.
_WORDS_BEYOND_LIMITS = 1 + max(limit for rule in LINE_RULES for limit in (rule.words_outside, rule.words_inside)
                               if limit is not None and limit != ANY)


@cache  # a few thousand cases at most; asked for every paragraph of every page
def _admitted_rules(outside: bool, words: int, above: bool, after_tail: bool, closing: bool,
                    noted: int) -> tuple[LineRule, ...]:
    """The rules of LINE_RULES, in order, whose word limit and place admit a paragraph of
    `words` words outside the body or inside it, above the body, in the closing headline
    list (after_tail) or near it (closing), and whose words the paragraph holds (noted, see
    patterns.noted_words): only their tests are run."""
    def admits(rule: LineRule) -> bool:
        limit = rule.words_outside if outside else rule.words_inside
        return limit is not None and words <= limit and {
            "above": above, "after_tail": after_tail, "closing": closing}.get(rule.where, True) and (
            not rule.needs_words or bool(rule.needs_words & noted))

    return tuple(rule for rule in LINE_RULES if admits(rule))


def _position_reason(layout: PageLayout, i: int, text: str, words: int, title_at: int | None,
                     sentence: bool = False) -> str | None:
    """Position rules: the headline (title_at, see _title_index) and what stands above it or
    past the body. sentence: the paragraph was cut from a page flattened onto one line."""
    if i < layout.first_body:
        if i == title_at:
            return "metadata_title"
        if layout.title_at is not None and i < layout.title_at:
            return "top_chrome"  # above the headline: page chrome (promos, tickers), whatever its length
        if words < 8:
            return "top_chrome"  # short labels above the article: section names, captions, kickers
        if sentence and capitalised_share(text) > TITLE_CASE:
            # cut from a flattened page, a run of capitalised words above the article is a
            # menu or a dateline ("Politics Money ... Contests Like", "Follow World December 29
            # 2014 9:11pm"), not a deck, which is prose
            return "top_chrome"
    if i > layout.last_body and (layout.block is not None or (words < 4 and not ends_sentence(text))):
        return "bottom_chrome"  # past the main body block (HTML: a short label after the body)
    if layout.block is not None and i < layout.first_body and (
            layout.title_at is None or (layout.title_by_lead and not layout.body[i])):
        return "top_chrome"  # above the main body block of a page without a headline
    return None


@dataclass
class _Claim:
    """A paragraph a line rule (or a related-links block) claims, with what the rule's test found."""

    reason: str
    rule: LineRule | None = None
    found: object = None


def _rule_claims(layout: PageLayout, paragraphs: list[Unit]) -> list[_Claim | None]:
    """What the line rules say of each paragraph, position rules aside: a related-links
    heading and the block under it, else the first rule of LINE_RULES that matches."""
    claims: list[_Claim | None] = []
    in_related = False
    for i, u in enumerate(paragraphs):
        text = u.text
        head = line_head(text)
        claim = None
        if in_related:  # under a related-links heading, until body text (not a plea) resumes
            if is_body(text) and not plea(text):
                in_related = False
            else:
                claim = _Claim("related_links")
        if claim is None and head in RELATED_HEADING_HEADS and RELATED_HEADING.match(text):
            in_related, claim = True, _Claim("related_links")
        if claim is None and (match := _line_rule(layout, i, text, layout.words[i], head)):
            claim = _Claim(match[0].reason, *match)
        claims.append(claim)
    return claims


def _title_index(doc: Doc, layout: PageLayout, paragraphs: list[Unit], claims: list[_Claim | None]) -> int | None:
    """The headline's paragraph, for a page whose reader gave no title: the layout's headline,
    else the first headline-like line above the body, among the lines no rule claims."""
    if doc.title is not None:
        return None
    if layout.title_text is not None:
        # a headline cut out of a glued paragraph is only part of it: a rule that claims the
        # paragraph ("Sign up to comment and more Sign up Biz & IT — <headline> ...") claims its chrome
        return layout.title_at
    for i in range(min(layout.first_body, len(paragraphs))):
        if claims[i] is None and (
                i == layout.title_at if layout.title_at is not None else headline_like(paragraphs[i].text)):
            return i
    return None


def extract_metadata(doc: Doc, layout: PageLayout, paragraphs: list[Unit], claims: list[_Claim | None],
                     title_at: int | None) -> None:
    """Fill title, byline and date from the page's lines, apart from removing them: each
    rule that `fills` a field gives the first value it found (a reader's value, e.g. from
    HTML, stays); the title is the headline's text, else the subject of an e-mail's header
    when it reads like a headline."""
    subject = None  # the headline an e-mail subject line names, if the page shows none itself
    for claim in claims:
        if claim is None or claim.rule is None or not claim.rule.fills:
            continue
        if claim.rule.fills == "subject":
            subject = subject or claim.found
        else:
            setattr(doc, claim.rule.fills, getattr(doc, claim.rule.fills) or claim.found)
    if title_at is not None:
        doc.title = layout.title_text if title_at == layout.title_at and layout.title_text else paragraphs[title_at].text
    if doc.title is None and subject and headline_like(subject):
        doc.title = subject


def strip_boilerplate(doc: Doc, paragraphs: list[Unit]) -> list[Unit]:
    """Fill title/byline/date, then drop chrome paragraphs (recording each)."""
    note_page([u.text for u in paragraphs])  # the words legal_footer, plea and login_box look for, found at once
    layout = page_layout(doc, paragraphs)
    claims = _rule_claims(layout, paragraphs)
    title_given = doc.title is not None
    title_at = _title_index(doc, layout, paragraphs, claims)
    extract_metadata(doc, layout, paragraphs, claims, title_at)
    title = doc.title.casefold() if doc.title else None
    keep: list[Unit] = []
    for i, u in enumerate(paragraphs):
        text = u.text
        reason = claims[i].reason if claims[i] else None
        # a later copy of the headline above the body (a reader's title: anywhere above it)
        if reason is None and title and i < layout.first_body and (title_given or (title_at is not None and i > title_at)) \
                and text.casefold() == title:
            reason = "metadata_title"
        if reason is None:
            reason = _position_reason(layout, i, text, layout.words[i], title_at, u.sentence)
        if reason and doc.fmt == "html" and reason not in AFTER_DOM:
            reason = None  # trafilatura judged this paragraph by the page's structure: keep it
        if reason:
            doc.remove(u, "clean", reason)
        else:
            keep.append(u)
    return keep


def cut_share_bars(doc: Doc, units: list[Unit]) -> list[Unit]:
    """Cut the share bars glued into the sentences of a page flattened onto one line ("...
    Shamil Zhumatov/REUTERS 5,263 facebook linkedin twitter google+ print email The UK may be
    ..."): the bar is removed (reason "share_buttons") and the text on either side becomes a
    paragraph of its own, as the bar stood between two blocks of the page. A page without
    sentence units (most pages) gets its units back."""
    if not any_sentence(units):
        return units
    out: list[Unit] = []
    for u in units:
        tokens = u.text.split(" ") if u.sentence else []
        runs = share_runs(tokens) if len(tokens) >= SHARE_RUN else []
        spans = raw_token_spans(doc.raw_text, u, len(tokens)) if runs else None
        out.extend(_cut_token_runs(doc, tokens, spans, runs, "share_buttons") if spans else [u])
    return out


def _cut_token_runs(doc: Doc, tokens: list[str], spans: list[tuple[int, int]], runs: list[tuple[int, int]],
                    reason: str) -> list[Unit]:
    """Remove the token runs [first, stop) of a sentence unit (tokens, their raw spans) with
    `reason`; the text on either side of each run becomes a sentence unit of its own."""
    pieces: list[Unit] = []
    at = 0
    for first, stop in [*runs, (len(tokens), len(tokens))]:
        if first > at:
            pieces.append(Unit(spans[at][0], spans[first - 1][1], " ".join(tokens[at:first]), sentence=True))
        if stop > first:
            doc.remove(Unit(spans[first][0], spans[stop - 1][1], ""), "clean", reason)
        at = stop
    return pieces


def cut_embedded_frames(doc: Doc, units: list[Unit]) -> list[Unit]:
    """Cut an embedded frame's markup (EMBEDDED_FRAME) out of the sentences of a page flattened
    onto one line (reason "navigation"): the text on either side stays, as paragraphs of its own."""
    frames = [m.span() for m in EMBEDDED_FRAME.finditer(doc.raw_text)] if "<iframe" in doc.raw_text else []
    if not frames:
        return units
    out: list[Unit] = []
    for u in units:
        inside = [(a, b) for a, b in frames if a < u.end and b > u.start]
        tokens = u.text.split(" ") if u.sentence and inside else []
        spans = raw_token_spans(doc.raw_text, u, len(tokens)) if tokens else None
        if not spans:
            out.append(u)
            continue
        in_frame = [any(a <= s < b for a, b in inside) for s, _ in spans]
        runs = [(run[0], run[-1] + 1) for framed, run in
                ((k, list(g)) for k, g in itertools.groupby(range(len(tokens)), key=in_frame.__getitem__)) if framed]
        out.extend(_cut_token_runs(doc, tokens, spans, runs, "navigation"))
    return out


def clean_document(doc: Doc, min_words: int = MIN_ARTICLE_WORDS) -> Doc:
    """Run the whole clean stage on one document in place and return it.

    If an earlier stage (pipeline/chrome.py) already cut the text into paragraphs,
    its `doc.units` are cleaned as they are; otherwise the raw text is cut here.
    """
    if not doc.accepted:
        return doc
    # metadata from HTML (trafilatura) is normalised like the text: no soft hyphen or NUL in a title
    doc.title = normalise(doc.title) or None if doc.title else None
    doc.byline = normalise(doc.byline) or None if doc.byline else None
    units = cut_embedded_frames(doc, cut_share_bars(doc, doc.units or paragraphs(doc.raw_text)))
    doc.units = strip_boilerplate(doc, units)
    _record_control_chars(doc)
    if _fewer_words(doc.units, min_words):
        doc.reject_reason = NO_ARTICLE_TEXT
    elif problem := degenerate(doc.text):
        doc.reject_reason = DEGENERATE_TEXT
        doc.error = problem
    return doc


def _fewer_words(units: list[Unit], words: int) -> bool:
    """Do the units hold fewer than `words` words (word_count) in all? Counted only until
    they reach it: an article does in its first paragraphs."""
    total = 0
    for u in units:
        total += word_count(u.text)
        if total >= words:
            return False
    return True


def _record_control_chars(doc: Doc) -> None:
    """Record the runs of control characters normalisation dropped (NUL, escape codes, ...),
    except inside spans already removed for another reason."""
    raw = doc.raw_text
    if not HAS_CONTROL(raw):
        return
    removed = sorted((r.start, r.end) for r in doc.removed)
    starts = [a for a, _ in removed]
    reach = list(itertools.accumulate((b for _, b in removed), max))  # furthest end among spans so far
    for m in CONTROL_RUN.finditer(raw):
        i = bisect.bisect_right(starts, m.start()) - 1
        if i < 0 or reach[i] < m.end():
            doc.removed.append(RemovedSpan(m.start(), m.end(), "clean", "control_chars", m.group()))


# Sentence-ending punctuation of many scripts (Latin, CJK, Arabic, Devanagari, Myanmar,
# Ethiopic, Armenian). Thai, Lao and Khmer end sentences with a space, so a text in them
# is never judged by it.
_HAS_UNSPACED_CHAR = Scan(UNSPACED_CHAR)
_SENTENCE_MARK = re.compile(r"[.!?…。！？؟۔।॥။።։]")
_BLOB = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/=_-]{40,}")  # base64 / hex runs (whole runs: linear time)
_BLOB_DIGIT = re.compile(r"\d")
MAX_DISTINCT_SHARE = 0.01  # a text whose distinct tokens are fewer than this share of them is degenerate
MIN_DISTINCT = 4
# a teaser of one sentence may lack its full stop; this many words without one are no prose
NO_SENTENCE_MIN_WORDS = 50
MIN_BLOB_MEAN = 8  # mean characters per token above which a text is searched for blobs


# The first DISTINCT_PREFIX characters of a text are asked how many distinct tokens they hold;
# prose clears a text's limit (MIN_DISTINCT, or 1 % of its tokens) within the first
# DISTINCT_PROBE characters already, which cost a fifth as much to split.
DISTINCT_PREFIX = 1000
DISTINCT_PROBE = 200


def _few_distinct_at_start(text: str, limit: float) -> bool:
    """Does the text's first DISTINCT_PREFIX characters hold at most `limit` distinct tokens?"""
    # The tokens of the shorter probe are tokens of the prefix but its last, which the probe
    # may cut short: more than limit + 1 distinct ones there are more than limit in the prefix.
    if len(text) > DISTINCT_PROBE and len(set(text[:DISTINCT_PROBE].split())) > limit + 1:
        return False
    return len(set(text[:DISTINCT_PREFIX].split())) <= limit


def degenerate(text: str) -> str | None:
    """Why a clean text is no article, or None: one token (or a handful) repeated, no sentence
    at all, or mostly base64/hex blobs. Tokens are the space-separated words and, in scripts
    written without spaces, the characters.

    Most texts are prose and are cleared by cheap tests first (the distinct tokens of the
    first 1,000 characters, a sentence mark, the mean token length), so the full checks
    run only on suspects.
    """
    if not text.isascii() and _HAS_UNSPACED_CHAR(text):
        text = split_unspaced(text)
    n_max = text.count(" ") + text.count("\n") + 1  # at least the number of tokens
    limit = max(MIN_DISTINCT, MAX_DISTINCT_SHARE * n_max)
    if _few_distinct_at_start(text, limit):  # a prefix with that few distinct tokens: count them all
        tokens = text.split()
        distinct = len(set(tokens))
        if len(tokens) >= MIN_ARTICLE_WORDS and distinct <= max(MIN_DISTINCT, MAX_DISTINCT_SHARE * len(tokens)):
            return f"{distinct} distinct tokens repeated to {len(tokens)}"
    if not _SENTENCE_MARK.search(text) and not SEA_CHARS.search(text) and len(text.split()) >= NO_SENTENCE_MIN_WORDS:
        return "no sentence punctuation at all"
    non_space = len(text) - n_max + 1
    # blobs of 40+ characters that make half the text lift the mean token length well above prose's 5-6
    if non_space > MIN_BLOB_MEAN * n_max and _BLOB.search(text):
        blob = sum(len(m.group()) for m in _BLOB.finditer(text) if _BLOB_DIGIT.search(m.group()))
        if blob > 0.5 * non_space:
            return "mostly base64/hex data"
    return None