"""Clean stage: normalise Unicode, re-join hard-wrapped lines, strip boilerplate,
and pull out title, byline and publication date.

Text model: the raw text is cut into units (lines, or sentences of a page that
arrived flattened onto one line) that keep their raw offsets. Units are
normalised one by one, hard-wrapped lines are joined into paragraphs, and
boilerplate rules then drop whole units. Every dropped unit is recorded with a
reason, so nothing disappears silently.

Normalisation choices (documented in the README):
- ftfy repairs mojibake (UTF-8 read as cp1252) and control characters, then
  NFC. We keep NFC rather than NFKC so the stored article keeps its
  typography (curly quotes, dashes, "²"); the MinHash stage folds these for
  matching, so copies that differ only in typography still match.
- Every Unicode space (NBSP, thin space, ...) becomes a plain space, zero-width
  characters and soft hyphens (U+00AD) are dropped, and runs of white space collapse
  to one. NUL and the other control characters are dropped too, and recorded as
  removed spans (reason "control_chars").
- HTML entities are decoded once (scraped text keeps "&amp;"); text that still reads
  "&amp;" after that was escaped twice at the source and is left so.

Length in every script: lengths are counted in words, where a character of a script
written without spaces (Chinese, Japanese, Thai, ...) counts as a fraction of a word
(`word_count`), so a Chinese article is not one "word" per paragraph.

Degenerate text (`degenerate`): a document whose text is one token (or a handful)
repeated, has no sentence at all, or is mostly base64/hex blobs is rejected as
"degenerate_text", not stored as an article.

Boilerplate rules are general patterns plus position: navigation and category
lines only count as chrome before the first body paragraph or after the last;
photo credits, share buttons, newsletter prompts and "related" blocks are
recognised anywhere.

Title: the headline-like line right above the byline or date line (skipping photo
credits and prompts), else the first headline-like line above the body. Lines that
only look like headlines are never the title: newsletter prompts and sources ("From
the ... newsletter"), promoted other stories ("Latest news: ..."), and e-mail subject
lines ("Fwd: ..."), whose text is the title only when the page shows no headline.
"""
from __future__ import annotations

import bisect
import html
import itertools
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import ftfy
import re2

from . import signatures
from .model import Doc, RemovedSpan, Unit
from .patterns import (BIO_ROLE, BYLINE, CALL_TO_ACTION, CREDIT, DATE_LINE, EMAIL_SUBJECT, FOLLOW, NAV,
                       NEWSLETTER_SOURCE, PROMO, RELATED_HEADING, SOCIAL, WIDGET, comments_heading,
                       legal_footer, plea)

MIN_ARTICLE_WORDS = 20  # in word_count() words
DEGENERATE_TEXT = "degenerate_text"
LONG_LINE = 2000  # a raw line longer than this is a flattened page: split it into sentences
NO_ARTICLE_TEXT = "no_article_text"
MIN_TRAILING_HEADLINES = 3  # headline-like lines closing a page that make a related-links block
MENU_CAPITALS = 0.5     # share of capitalised words above which a long line without a sentence end is a menu
MENU_RUN_WORDS = 30     # words from which a line ending a sentence is still a menu if mostly capitalised
BODY_COST = 8           # words a body paragraph needs to add to the main body block (one-sentence teasers add little)
GAP_COST = 3            # words a non-body line costs the main body block beyond its own (main_block)
MIN_RUN_WORDS = 8       # words a glued-on run of headlines, and the sentence after it, need at least
RUN_CAPITALS = 0.35     # capitalised share that separates a headline run from prose (split_headline_runs)
RUN_SPLIT_GAIN = 4.0    # capitalised words in excess of RUN_CAPITALS a glued-on run needs to be cut off
TITLE_WINDOW = 12       # paragraphs above the main body block in which the headline is looked for
# A hard wrap fills lines of 55-80 characters; lines that mostly stop between 20 and 40
# are a list of short items (a flattened page's menus and labels), not a wrapped text.
MIN_WRAP_WIDTH = 40
# A line of under 20 words whose words nearly all start with a capital is a headline in
# title case ("He Visited This Gas Station And Was Shocked."), never body text, even when it
# ends in a full stop: prose full of names still has its verbs and articles in lower case.
TITLE_CASE = 0.8
# A paragraph adds at most this many words to the main body block: an article is many
# paragraphs, while a site's blurb, a disclaimer or a glued-on list of headlines that
# stands alone between menus is one long one, which must not outweigh the article.
BODY_CAP = 40
# Lines a body line ending in ":" announces ("The rankings were as follows:", "Here is the
# calendar:") are the article's list while their first words have one shape ("1.", "2."
# or "Jan. 1-3:", "Jan. 14-19:"): each adds this much instead of costing like a menu line.
LIST_ITEM_WEIGHT = 1


def _item_shape(text: str) -> str | None:
    """A list item's shape: "0" for an item led by a number, else its first word (None
    for a one-word line, which is a label, not an item)."""
    first, _, rest = text.partition(" ")
    if not rest:
        return None
    return "0" if first[:1].isdigit() else first.casefold()

_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
_ZERO_WIDTH = re.compile(r"[\u00ad\u180e\u200b-\u200d\u2060\ufeff]")  # soft hyphen, zero-width characters
# A sentence ends at . ! ? or … (optionally followed by a closing quote or
# bracket) when white space and a capital, digit or opening quote follow.
# Group 1 is the white space between the two sentences. (Written without look-behinds:
# ~7x faster on long texts.)
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]?(\s+)(?=[\"'“‘(\[]?[A-Z0-9])")
_TERMINAL = ("." , "!", "?", "…", ".”", ".\"", "!”", "?”", ".’", ":", ";", "。", "！", "？", "。」", "。”",
             '!"', '?"', "!’", "?’", "…”", '…"', ".)", "!)", "?)", ".»", "!»", "?»")
# Full stops of scripts written without spaces end a sentence with no space after them
# (group 2: the empty gap); used with SENTENCE_END to cut a flattened page into units.
_UNIT_END = re.compile(f"(?:{SENTENCE_END.pattern})|[。！？][」』”’）]*()")

# Characters of scripts written without spaces (signatures.UNSPACED) and how many of
# them make about one word: a Chinese or Japanese word is 1-2 characters, a Thai,
# Lao, Khmer or Myanmar word 3-5 code points (with its vowel and tone marks).
_CJK_CHARS = re.compile("[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
                        "\U00020000-\U0003134f]")
_SEA_CHARS = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")
_UNSPACED_CHAR = re.compile(f"[{signatures.UNSPACED}]")  # either of the two
CJK_CHARS_PER_WORD = 2
SEA_CHARS_PER_WORD = 4


# What the line rules may still remove from a page trafilatura extracted from HTML: it
# already judged every block by the page's structure (links, markup, position), which
# position rules without a DOM can only guess at, so only what is chrome wherever it
# stands (share lines, prompts, widgets, a related-links block under its heading) and
# the metadata lines go. Everything else trafilatura kept stays.
AFTER_DOM = {"share_buttons", "newsletter_prompt", "navigation", "email_header", "metadata_byline",
             "metadata_date", "metadata_title", "related_links"}


# UTF-8 misread as cp1252/latin-1 always leaves a lead byte (Â..ô) followed by a
# continuation byte shown as a Latin-1 or cp1252 character. Text without such a
# pair cannot hold that mojibake, so it skips ftfy's (slow) repair.
_MOJIBAKE_HINT = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# any of the three above (a mojibake hint never spans two units: see split_units)
_ODD_CHAR = re.compile(f"{_CONTROL.pattern}|{_ZERO_WIDTH.pattern}|{_MOJIBAKE_HINT.pattern}")


class Scan:
    """Does a text hold a match of this character-class pattern? For a whole document: RE2
    (google-re2, a DFA) scans a long non-ASCII text ~8x faster than `re`, which tests
    every character against the class in turn (each whole-document scan cost ~50 us per
    page); for short texts `re` is faster (RE2's call costs ~5 us), so paragraphs keep it.
    Same verdicts: the patterns are plain character classes, and text RE2 cannot take
    (a lone surrogate does not encode to UTF-8) is searched with `re`."""

    def __init__(self, pattern: re.Pattern[str]):
        self.pattern = pattern
        # RE2 reads \x escapes but not \u or \U: spell those characters out
        self.fast = re2.compile(re.sub(r"\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})",
                                       lambda m: chr(int(m.group(1) or m.group(2), 16)), pattern.pattern))

    def __call__(self, text: str) -> bool:
        try:
            return self.fast.search(text) is not None
        except UnicodeEncodeError:
            return self.pattern.search(text) is not None


_HAS_ODD_CHAR = Scan(_ODD_CHAR)
_HAS_CONTROL = Scan(_CONTROL)
_CONTROL_RUN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]+")


def normalise(text: str, doc_has_odd_chars: bool = True) -> str:
    """Repair and normalise one unit of text (see module docstring).

    doc_has_odd_chars=False promises that the whole document holds no mojibake
    hint, control or zero-width character, so the per-unit regexes can be skipped.
    """
    if "&" in text and ";" in text and "<" not in text:
        unescaped = html.unescape(text)  # scraped text keeps entities like &amp; &#8217; (as ftfy would fix)
        doc_has_odd_chars = doc_has_odd_chars or unescaped != text  # an entity may stand for one
        text = unescaped
    if doc_has_odd_chars:
        text = _CONTROL.sub("", text)  # also in ASCII text: a NUL must never reach the article
    if not text.isascii():
        if doc_has_odd_chars:
            # before ftfy, which must see the text as it will be kept (a soft hyphen inside
            # mojibake hides it from ftfy)
            text = _ZERO_WIDTH.sub("", text)
        if doc_has_odd_chars and _MOJIBAKE_HINT.search(text):
            text = ftfy.fix_text(text, uncurl_quotes=False, fix_line_breaks=False, normalization="NFC")
            text = _ZERO_WIDTH.sub("", _CONTROL.sub("", text))  # a repaired character may be one of them
        else:
            text = unicodedata.normalize("NFC", text)
    # str.split() splits on exactly the characters _SPACES matches (every str.isspace()
    # character), several times faster than the regex
    return " ".join(text.split())


def parse_date(text: str) -> date | None:
    from dateutil import parser

    try:
        return parser.parse(text, fuzzy=True, default=None).date()
    except (ValueError, OverflowError, TypeError):
        return None


def split_units(raw: str) -> list[Unit]:
    """Lines with raw offsets; a giant line (a flattened page) is cut into sentences."""
    units: list[Unit] = []
    pos = 0
    for line in raw.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if len(body) > LONG_LINE:
            start = 0
            for m in _UNIT_END.finditer(body):
                gap = 1 if m.group(1) is not None else 2
                units.append(Unit(pos + start, pos + m.start(gap), body[start : m.start(gap)], sentence=True))
                start = m.end()
            units.append(Unit(pos + start, pos + len(body), body[start:], sentence=True))
        else:
            units.append(Unit(pos, pos + len(body), body))
        pos += len(line)
    # One search over the document instead of three regexes per unit: most documents hold
    # none of these characters, and only the units that hold one need normalise's repairs.
    odd_at = [m.start() for m in _ODD_CHAR.finditer(raw)] if _HAS_ODD_CHAR(raw) else []
    for u in units:
        if u.text:
            u.text = normalise(u.text, bool(odd_at) and bisect.bisect_left(odd_at, u.start) < bisect.bisect_left(odd_at, u.end))
    return units


def _ends_sentence(text: str) -> bool:
    return text.endswith(_TERMINAL)


def rejoin_wrapped(units: list[Unit]) -> list[Unit]:
    """Join hard-wrapped lines into paragraphs; drop blank lines.

    A document counts as hard-wrapped when most of its lines are long and of
    similar length (a fixed-width wrap) rather than one paragraph per line.
    Within such a document a line is joined to the next one unless it ends a
    sentence *and* the next line's first word would have fitted on it — the
    sign of a deliberate line break rather than a wrap.
    """
    lines = [u for u in units if u.text]
    lengths = sorted(len(u.text) for u in lines)
    wrapped = False
    if len(lengths) >= 5:
        width = lengths[int(0.9 * (len(lengths) - 1))]
        near_width = sum(1 for n in lengths if 0.55 * width <= n <= width)
        wrapped = MIN_WRAP_WIDTH <= width <= 120 and near_width >= 0.6 * len(lengths)
    paragraphs: list[Unit] = []
    previous_line = ""  # the last physical line, "" after a blank line
    for u in units:
        if not u.text:
            previous_line = ""
            continue
        if previous_line and wrapped and not u.sentence and _continues(previous_line, u.text, width):
            last = paragraphs[-1]
            if last.text.endswith("-") and u.text[:1].islower():
                last.text = last.text[:-1] + u.text  # re-join a hyphenated word
            else:
                last.text = f"{last.text} {u.text}"
            last.end = u.end
        else:
            paragraphs.append(Unit(u.start, u.end, u.text))
        previous_line = u.text
    return paragraphs


def _continues(previous_line: str, line: str, width: int) -> bool:
    if not _ends_sentence(previous_line):
        return True
    first_word = line.split(" ", 1)[0]
    return len(previous_line) + 1 + len(first_word) > width


@lru_cache(maxsize=1 << 12)  # the stages ask again for the same paragraphs (is_body, body_weight, the rows)
def word_count(text: str) -> int:
    """Words of a normalised text: space-separated tokens, where each run of characters of a
    script written without spaces counts as its length / characters per word (see above)."""
    words = text.count(" ") + 1 if text else 0
    if text.isascii() or not _UNSPACED_CHAR.search(text):
        return words
    cjk, sea = len(_CJK_CHARS.findall(text)), len(_SEA_CHARS.findall(text))
    return words + cjk // CJK_CHARS_PER_WORD + sea // SEA_CHARS_PER_WORD




_CAPITAL_WORD = re.compile(r"(?<!\S)[A-Z0-9\u00c0-\u00de\u0391-\u03a9\u0410-\u042f]")
_LOWER_WORD = re.compile(r"(?<!\S)[a-z\u00df-\u00ff\u03b1-\u03c9\u0430-\u044f]")


def _capitalised_share(text: str) -> float:
    """Share of the words that start with a capital or a digit, among those that start
    with a letter or digit (Latin, Greek, Cyrillic): high in menus and lists of title-case
    headlines, low in prose (English ~0.15, German ~0.35)."""
    caps, lower = len(_CAPITAL_WORD.findall(text)), len(_LOWER_WORD.findall(text))
    return caps / (caps + lower) if caps + lower else 0.0


def is_body(text: str) -> bool:
    """A paragraph of article text: 20 words, or 10 ending a sentence; never a long line of
    capitalised items that ends no sentence (a menu, a list of headlines run together), nor
    a short one in title case (a headline, see TITLE_CASE)."""
    if PROMO.match(text):
        return False
    words = word_count(text)
    if words >= 20:
        return _ends_sentence(text) or _capitalised_share(text) <= MENU_CAPITALS
    # a headline in title case is no body text, even when it ends in a full stop
    return words >= 10 and _ends_sentence(text) and _capitalised_share(text) <= TITLE_CASE


def split_headline_runs(raw: str, units: list[Unit]) -> list[Unit]:
    """Cut the run of menu items or headlines that a flattened page glues in front of a
    sentence ("Home News Sport ... Jobs Fall As Rates Rise The council said on Monday
    that ...") off it: at the place that best separates a capitalised prefix from the
    prose after it (a change point of the capitals, see RUN_SPLIT_GAIN). Only sentences
    cut from a long line (a page flattened onto one line) are looked at."""
    out: list[Unit] = []
    for u in units:
        tokens = u.text.split(" ") if u.sentence else ()
        if len(tokens) < 2 * MIN_RUN_WORDS:
            out.append(u)
            continue
        gain, best, at = 0.0, 0.0, 0
        for k in range(len(tokens) - MIN_RUN_WORDS):
            c = tokens[k][:1]
            gain += (1 - RUN_CAPITALS) if (c.isupper() or c.isdigit()) else -RUN_CAPITALS if c.islower() else 0
            nxt = tokens[k + 1][:1]
            if gain > best and k + 1 >= MIN_RUN_WORDS and nxt.isupper():
                best, at = gain, k + 1
        raw_tokens = [m.span() for m in re.finditer(r"\S+", raw[u.start:u.end])] if best >= RUN_SPLIT_GAIN else []
        if len(raw_tokens) != len(tokens):
            out.append(u)
            continue
        cut = u.start + raw_tokens[at][0]
        out.append(Unit(u.start, u.start + raw_tokens[at - 1][1], " ".join(tokens[:at]), sentence=True))
        out.append(Unit(cut, u.end, " ".join(tokens[at:]), sentence=True))
    return out


def body_weight(text: str, sentence: bool = False, body: bool | None = None) -> int:
    """What a paragraph adds to the body block around it (see main_block): its words if it
    is article text, nothing if it is a short sentence, minus its words and GAP_COST if it
    is anything else (a label, a headline, a menu). sentence: cut from a flattened page;
    body: is_body(text), if known."""
    words = word_count(text)
    body = is_body(text) if body is None else body
    if words <= 60 and (legal_footer(text) or (words <= 40 and plea(text))):
        return -(words + GAP_COST)  # a legal footer or a plea: body-like, never the body
    # a sentence rich in names is prose; a long run of capitalised items that ends in a
    # sentence (menu and headlines glued to it on a flattened page) is not
    menu = sentence and words >= MENU_RUN_WORDS and _capitalised_share(text) > MENU_CAPITALS
    if body and not menu:
        return min(words, BODY_CAP) - BODY_COST
    if words >= 4 and _ends_sentence(text) and not menu:
        return 0
    return -(words + GAP_COST)


def main_block(paragraphs: list[Unit], body: list[bool] | None = None) -> tuple[int, int] | None:
    """First and last paragraph of the page's main body block: the run of paragraphs with
    the largest summed body_weight (Kadane's maximum subarray). Article text gains, every
    other line costs, so a subheading or a caption inside the article is crossed, but a
    block of headlines, a ticker or a footer of links is not, and the body-like text beyond
    it (teasers of other stories, a site blurb, a cookie notice) stays outside. The items of
    a list the article announces (a body line ending in ":") count as article text while
    they keep the first item's shape (see LIST_ITEM_WEIGHT). The block ends at the heading of
    the readers' comments (COMMENTS_HEADING) once it holds something: comments are body-like
    paragraphs between short labels, which the weights alone would join to the article."""
    best, best_at, run, run_start = 0, None, 0, 0
    list_shape, announced = None, False  # the shape of the items a line ending in ":" announced
    for i, u in enumerate(paragraphs):
        w = body_weight(u.text, u.sentence, None if body is None else body[i])
        if w < 0 and not u.sentence:
            if best_at is not None and len(u.text) <= 80 and comments_heading(u.text):
                break  # the readers' comments follow the article: the block ends before them
            if announced or list_shape is not None:
                shape = _item_shape(u.text)
                if announced:
                    list_shape, announced = shape, False
                if shape is not None and shape == list_shape:
                    w = LIST_ITEM_WEIGHT
                else:
                    list_shape = None
        else:
            list_shape = None
            announced = u.text.endswith(":") and w >= 0 and word_count(u.text) >= 4
        if run <= 0:
            run, run_start = 0, i
        run += w
        if run > best:
            best, best_at = run, (run_start, i)
    return best_at


def _byline_name(text: str) -> str | None:
    m = BYLINE.match(text)
    if not m:
        return None
    name = re.split(r"\s*(?:[|,;·•]|\s-\s|\bfor\b|\band\b(?=.*\bfor\b))\s*", m.group(1))[0].strip(" .")
    words = name.split()
    if not 1 <= len(words) <= 5 or not all(w[:1].isupper() for w in words if w.lower() not in {"de", "van", "von", "da", "al", "bin"}):
        return None
    return name


def headline_like(text: str, above_byline: bool = False) -> bool:
    """3-30 words, mostly words (a market ticker is not a headline), and no closing full
    stop, unless the line sits right above the byline, where a headline may end in an
    abbreviation ("... from Quinora Textiles Inc."). Never a newsletter prompt, a promoted
    other story ("Latest news: ...") or an e-mail subject line ("Fwd: ...")."""
    tokens = text.split()
    wordy = sum(1 for t in tokens if t[:1].isalpha())
    return (3 <= len(tokens) <= 30 and wordy >= 0.7 * len(tokens)
            and (above_byline or not _ends_sentence(text.rstrip("!?"))) and not _prompt(text))


def _prompt(text: str) -> bool:
    """A line that reads like a headline but points elsewhere: a newsletter prompt or
    source, a promoted other story, an e-mail subject line."""
    return bool(plea(text) or NEWSLETTER_SOURCE.match(text) or PROMO.match(text)
                or EMAIL_SUBJECT.match(text) or CALL_TO_ACTION.match(text))


def headline_index(paragraphs: list[Unit], first_body: int | None = None) -> int | None:
    """The headline sits right above the byline or date line: pages put promos, tickers
    and "Latest news: ..." lines above it, so the first headline-like line is often not it."""
    def meta(text: str) -> bool:
        return bool(_byline_name(text) or (DATE_LINE.match(text) and text.count(" ") < 14))

    for i in range(len(paragraphs) if first_body is None else min(first_body, len(paragraphs))):
        if meta(paragraphs[i].text):
            j = i - 1  # skip a photo credit, a prompt or a second metadata line between headline and byline
            while j >= 0 and (CREDIT.match(paragraphs[j].text) or _prompt(paragraphs[j].text)
                              or meta(paragraphs[j].text)):
                j -= 1
            return j if j >= 0 and headline_like(paragraphs[j].text, above_byline=True) else None
    return None


def _headline_above(paragraphs: list[Unit], top: int, first_body: int) -> int | None:
    """A page without byline or date line: the headline is the nearest headline-like line
    above the body that is neither a byline the date is glued to ("By Ann Lee2015-01-01")
    nor a photo caption (a line followed by a credit); when the
    line right above it is headline-like too, shorter and of 4 words or more, that one is
    the headline and this one its standfirst."""
    for i in range(first_body - 1, top - 1, -1):
        text = paragraphs[i].text
        if not headline_like(text) or BYLINE.match(text) or (
                i + 1 < len(paragraphs) and CREDIT.match(paragraphs[i + 1].text)):
            continue
        while i > top and headline_like(up := paragraphs[i - 1].text) and \
                4 <= word_count(up) < word_count(paragraphs[i].text):
            i -= 1
        return i
    return None


# Title of a page without a DOM: the headline-like line, within LEAD_TITLE_WINDOW paragraphs
# above the main body block, that shares the most words of 4+ letters (at least
# MIN_LEAD_OVERLAP) with the block's first LEAD_WORDS words (see _headline_by_lead).
LEAD_TITLE_WINDOW = 25
LEAD_WORDS = 120
MIN_LEAD_OVERLAP = 2
_CONTENT_WORD = re.compile(r"\w{4,}")
# A sentence ending inside a line ("... can see it. Are you sure?"): a notice, not a headline
# (a lower-case word before the stop, so "U.S. Army" and "Mr. Smith" are no sentence end).
_TWO_SENTENCES = re.compile(r"[a-z]{2}[.!?][\"'”’]? [\"'“‘]?[A-Z]")


def _lead_overlap(text: str, lead: set[str]) -> int:
    return len(set(_CONTENT_WORD.findall(text.casefold())) & lead)


def _headline_by_lead(paragraphs: list[Unit], top: int, first_body: int,
                      body_idx: list[int]) -> tuple[int, int, set[str]] | None:
    """The headline-like line above the body that shares the most words of 4+ letters
    with the article's lead (its first LEAD_WORDS words): a headline names what the lead
    tells, a caption, a video player's label or a prompt of the site does not. The nearest
    wins a tie; fewer than MIN_LEAD_OVERLAP shared words is no headline.
    Returns (index, shared words, the lead's words)."""
    lead: set[str] = set()
    n = 0
    for i in body_idx:
        if i < first_body:
            continue
        text = paragraphs[i].text
        lead.update(_CONTENT_WORD.findall(text.casefold()))
        n += word_count(text)
        if n >= LEAD_WORDS:
            break
    best = None
    for i in range(first_body - 1, top - 1, -1):
        text = paragraphs[i].text
        shared = _lead_overlap(text, lead)  # the cheap test first
        if shared < MIN_LEAD_OVERLAP or (best is not None and shared <= best[1]):
            continue
        if not headline_like(text) or BYLINE.match(text) or CREDIT.match(text) or _TWO_SENTENCES.search(text) or (
                i + 1 < len(paragraphs) and CREDIT.match(paragraphs[i + 1].text)):
            continue
        best = (i, shared, lead)
    if best is not None:
        # a standfirst below its headline tells more of the lead than the headline does: the
        # shorter headline-like line right above it that names the lead too is the headline
        i = best[0]
        if i > top and headline_like(up := paragraphs[i - 1].text) and 4 <= word_count(up) < word_count(
                paragraphs[i].text) and _lead_overlap(up, lead) >= MIN_LEAD_OVERLAP:
            best = (i - 1, _lead_overlap(up, lead), lead)
    return best


# --- the line rules, as data -----------------------------------------------------------------
#
# Each rule names the reason it records, the test of a paragraph's text, and the most
# words a paragraph may have for the rule to apply, outside the article body (above or
# below it) and inside it (None: never inside). `where` narrows it further: "above" the
# body, "after_tail" (the closing headline list of a page) or "closing" the page (from
# the last few paragraphs before that list on).
# A rule that `fills` a metadata field stores what its test returned (a byline's name, a
# date, an e-mail subject) there. The first rule that matches decides; the order is the
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


def _email_subject(text: str) -> str | None:
    m = EMAIL_SUBJECT.match(text)
    return m.group(1) if m else None


def _date_line(text: str) -> date | None:
    return parse_date(text) if DATE_LINE.match(text) else None


def _nav_or_promo(text: str) -> bool:
    return bool(NAV.match(text) or PROMO.match(text))


def _bio(text: str) -> bool:
    return bool(BIO_ROLE.match(text) or FOLLOW.search(text))


def _always(text: str) -> bool:
    return True


ANY = math.inf
CLOSING_PARAGRAPHS = 3  # paragraphs before a closing headline list in which an author bio is looked for
LINE_RULES = (
    LineRule("share_buttons", SOCIAL.match, 8, 8),
    LineRule("photo_credit", CREDIT.match, 25, 25),
    LineRule("copyright_footer", legal_footer, 40, 15),
    LineRule("newsletter_prompt", plea, 40, 20),
    LineRule("newsletter_prompt", NEWSLETTER_SOURCE.match, 20, None),
    LineRule("navigation", WIDGET.match, ANY, ANY),
    LineRule("navigation", _nav_or_promo, ANY, None),
    LineRule("email_header", _email_subject, 40, None, where="above", fills="subject"),
    LineRule("metadata_byline", _byline_name, 10, 10, fills="byline"),
    LineRule("metadata_date", _date_line, 14, None, fills="published_at"),
    LineRule("related_links", _always, ANY, ANY, where="after_tail"),  # the closing headline list itself
    LineRule("author_bio", _bio, 60, 60, where="closing"),
)


@dataclass
class _Layout:
    """Where a page's article lies among its paragraphs (see _layout)."""

    body: list[bool]                  # is_body of each paragraph
    block: tuple[int, int] | None     # the main body block (text input only)
    body_idx: list[int]               # body paragraphs (inside the block, if any)
    first_body: int
    last_body: int
    title_at: int | None = None       # the headline, if found by position
    title_by_lead: bool = False       # ... because it names the article's lead
    tail: int = 0                     # paragraphs from here on are a closing headline list

    def outside(self, i: int) -> bool:
        return i < self.first_body or i > self.last_body


def _layout(doc: Doc, paragraphs: list[Unit]) -> _Layout:
    body = [is_body(u.text) for u in paragraphs]
    body_idx = [i for i, b in enumerate(body) if b]
    # Without a DOM (text input), the article is the main body block; what lies outside it
    # is page chrome however body-like (teasers, blurbs, notices). trafilatura did this for HTML.
    block = main_block(paragraphs, body) if doc.fmt != "html" else None
    if block is not None:
        body_idx = [i for i in body_idx if block[0] <= i <= block[1]] or body_idx
    first_body = body_idx[0] if body_idx else len(paragraphs)
    last_body = body_idx[-1] if body_idx else -1
    if block is not None and body_idx and body_idx[-1] >= block[0]:
        last_body = max(last_body, block[1])  # the block may end in the items of an announced list
    layout = _Layout(body, block, body_idx, first_body, last_body)
    if doc.title is None:
        _find_title(layout, paragraphs)
    if layout.title_at is not None and layout.title_at >= layout.first_body:
        later = [i for i in body_idx if i > layout.title_at]
        layout.first_body = later[0] if later else len(paragraphs)
    # A list of headlines closing the page is a related-links block whose heading, if it
    # had one, is gone (the chrome stage removes a site's recurring headings).
    tail = len(paragraphs)
    while tail > max(layout.last_body, layout.first_body) + 1 and headline_like(paragraphs[tail - 1].text):
        tail -= 1
    layout.tail = len(paragraphs) if len(paragraphs) - tail < MIN_TRAILING_HEADLINES or doc.fmt == "html" else tail
    return layout


def _find_title(layout: _Layout, paragraphs: list[Unit]) -> None:
    """The headline's position: right above the body, in the last TITLE_WINDOW paragraphs
    before it (a headline ending in "Inc." looks like a sentence: one line past it too)."""
    first_body, block = layout.first_body, layout.block
    top = max(0, first_body - TITLE_WINDOW) if block is not None else 0
    title_at = headline_index(paragraphs[top:], first_body + 2 - top)
    if title_at is not None:
        title_at += top
    if block is not None:  # a headline that names the lead beats the line above a byline
        lead_top = max(0, first_body - LEAD_TITLE_WINDOW)
        by_lead = _headline_by_lead(paragraphs, lead_top, first_body, layout.body_idx)
        if by_lead is not None and (
                title_at is None or by_lead[1] > _lead_overlap(paragraphs[title_at].text, by_lead[2])):
            title_at, layout.title_by_lead = by_lead[0], True
    if block is not None and title_at is None:
        title_at = _headline_above(paragraphs, top, first_body)
    layout.title_at = title_at


def _line_rule(layout: _Layout, i: int, text: str, words: int) -> tuple[LineRule, object] | None:
    """The first line rule that matches paragraph i, with what its test returned."""
    limit_key = "words_outside" if layout.outside(i) else "words_inside"
    for rule in LINE_RULES:
        limit = getattr(rule, limit_key)
        if limit is None or words > limit:
            continue
        if rule.where == "above" and i >= layout.first_body:
            continue
        if rule.where == "after_tail" and i < layout.tail:
            continue
        if rule.where == "closing" and i < layout.tail - CLOSING_PARAGRAPHS:
            continue
        found = rule.test(text)
        if found:
            return rule, found
    return None


def _position_reason(doc: Doc, layout: _Layout, i: int, text: str, words: int) -> str | None:
    """Position rules: the headline and what stands above it or past the body."""
    if i < layout.first_body:
        if doc.title is None and (i == layout.title_at if layout.title_at is not None else headline_like(text)):
            doc.title = text
            return "metadata_title"
        if layout.title_at is not None and i < layout.title_at:
            return "top_chrome"  # above the headline: page chrome (promos, tickers), whatever its length
        if words < 8:
            return "top_chrome"  # short labels above the article: section names, captions, kickers
    if i > layout.last_body and (layout.block is not None or (words < 4 and not _ends_sentence(text))):
        return "bottom_chrome"  # past the main body block (HTML: a short label after the body)
    if layout.block is not None and i < layout.first_body and (
            layout.title_at is None or (layout.title_by_lead and not layout.body[i])):
        return "top_chrome"  # above the main body block of a page without a headline
    return None


def strip_boilerplate(doc: Doc, paragraphs: list[Unit]) -> list[Unit]:
    """Drop chrome paragraphs (recording each) and fill title/byline/date."""
    layout = _layout(doc, paragraphs)
    keep: list[Unit] = []
    in_related = False
    subject = None  # the headline an e-mail subject line names, if the page shows none itself
    for i, u in enumerate(paragraphs):
        text = u.text
        words = word_count(text)
        reason = None
        if in_related:  # under a related-links heading, until body text (not a plea) resumes
            if is_body(text) and not plea(text):
                in_related = False
            else:
                reason = "related_links"
        if reason is None and RELATED_HEADING.match(text):
            in_related, reason = True, "related_links"
        if reason is None and (match := _line_rule(layout, i, text, words)):
            rule, found = match
            reason = rule.reason
            if rule.fills == "subject":
                subject = subject or found
            elif rule.fills:
                setattr(doc, rule.fills, getattr(doc, rule.fills) or found)
        if reason is None and doc.title and text.casefold() == doc.title.casefold() and i < layout.first_body:
            reason = "metadata_title"
        if reason is None:
            reason = _position_reason(doc, layout, i, text, words)
        if reason and doc.fmt == "html" and reason not in AFTER_DOM:
            reason = None  # trafilatura judged this paragraph by the page's structure: keep it
        if reason:
            doc.remove(u, "clean", reason)
        else:
            keep.append(u)
    if doc.title is None and subject and headline_like(subject):
        doc.title = subject
    return keep


def paragraphs(raw: str) -> list[Unit]:
    """The raw text as normalised paragraphs (hard wraps re-joined, blank lines gone)."""
    return rejoin_wrapped(split_headline_runs(raw, split_units(raw)))


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
    doc.units = strip_boilerplate(doc, doc.units or paragraphs(doc.raw_text))
    _record_control_chars(doc)
    if sum(word_count(u.text) for u in doc.units) < min_words:
        doc.reject_reason = NO_ARTICLE_TEXT
    elif problem := degenerate(doc.text):
        doc.reject_reason = DEGENERATE_TEXT
        doc.error = problem
    return doc


def _record_control_chars(doc: Doc) -> None:
    """Record the runs of control characters normalisation dropped (NUL, escape codes, ...),
    except inside spans already removed for another reason."""
    raw = doc.raw_text
    if not _HAS_CONTROL(raw):
        return
    removed = sorted((r.start, r.end) for r in doc.removed)
    starts = [a for a, _ in removed]
    reach = list(itertools.accumulate((b for _, b in removed), max))  # furthest end among spans so far
    for m in _CONTROL_RUN.finditer(raw):
        i = bisect.bisect_right(starts, m.start()) - 1
        if i < 0 or reach[i] < m.end():
            doc.removed.append(RemovedSpan(m.start(), m.end(), "clean", "control_chars", m.group()))


# Sentence-ending punctuation of many scripts (Latin, CJK, Arabic, Devanagari, Myanmar,
# Ethiopic, Armenian). Thai, Lao and Khmer end sentences with a space, so a text in them
# is never judged by it.
_HAS_UNSPACED_CHAR = Scan(_UNSPACED_CHAR)
_SENTENCE_MARK = re.compile(r"[.!?…。！？؟۔।॥။።։]")
_BLOB = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/=_-]{40,}")  # base64 / hex runs (whole runs: linear time)
_BLOB_DIGIT = re.compile(r"\d")
MAX_DISTINCT_SHARE = 0.01  # a text whose distinct tokens are fewer than this share of them is degenerate
MIN_DISTINCT = 4
# a teaser of one sentence may lack its full stop; this many words without one are no prose
NO_SENTENCE_MIN_WORDS = 50
MIN_BLOB_MEAN = 8  # mean characters per token above which a text is searched for blobs


def degenerate(text: str) -> str | None:
    """Why a clean text is no article, or None: one token (or a handful) repeated, no sentence
    at all, or mostly base64/hex blobs. Tokens are the space-separated words and, in scripts
    written without spaces, the characters.

    Most texts are prose and are cleared by cheap tests first (the distinct tokens of the
    first 1,000 characters, a sentence mark, the mean token length), so the full checks
    run only on suspects.
    """
    if not text.isascii() and _HAS_UNSPACED_CHAR(text):
        text = signatures.split_unspaced(text)
    n_max = text.count(" ") + text.count("\n") + 1  # at least the number of tokens
    limit = max(MIN_DISTINCT, MAX_DISTINCT_SHARE * n_max)
    if len(set(text[:1000].split())) <= limit:  # a prefix with that few distinct tokens: count them all
        tokens = text.split()
        distinct = len(set(tokens))
        if len(tokens) >= MIN_ARTICLE_WORDS and distinct <= max(MIN_DISTINCT, MAX_DISTINCT_SHARE * len(tokens)):
            return f"{distinct} distinct tokens repeated to {len(tokens)}"
    if not _SENTENCE_MARK.search(text) and not _SEA_CHARS.search(text) and len(text.split()) >= NO_SENTENCE_MIN_WORDS:
        return "no sentence punctuation at all"
    non_space = len(text) - n_max + 1
    # blobs of 40+ characters that make half the text lift the mean token length well above prose's 5-6
    if non_space > MIN_BLOB_MEAN * n_max and _BLOB.search(text):
        blob = sum(len(m.group()) for m in _BLOB.finditer(text) if _BLOB_DIGIT.search(m.group()))
        if blob > 0.5 * non_space:
            return "mostly base64/hex data"
    return None
