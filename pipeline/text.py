"""Text model: a raw text as normalised paragraphs, and the measures of a paragraph's
text that every stage uses (word count, sentence ends, capitalised share).

The raw text is cut into units (lines, or sentences of a page that arrived flattened
onto one line) that keep their raw offsets. Units are normalised one by one and
hard-wrapped lines are joined into paragraphs (`paragraphs`). Both the chrome stage
and the clean stage work on these paragraphs; neither imports the other's helpers.

Normalisation choices (documented in the README):
- ftfy repairs mojibake (UTF-8 read as cp1252) and control characters, then
  NFC. We keep NFC rather than NFKC so the stored article keeps its
  typography (curly quotes, dashes, "²"); the MinHash stage folds these for
  matching, so copies that differ only in typography still match.
- Every Unicode space (NBSP, thin space, ...) becomes a plain space, zero-width
  characters and soft hyphens (U+00AD) are dropped, and runs of white space collapse
  to one. NUL and the other control characters are dropped too (the clean stage
  records them as removed spans, reason "control_chars").
- HTML entities are decoded once (scraped text keeps "&amp;"); text that still reads
  "&amp;" after that was escaped twice at the source and is left so.

Length in every script: lengths are counted in words, where a character of a script
written without spaces (Chinese, Japanese, Thai, ...) counts as a fraction of a word
(`word_count`), so a Chinese article is not one "word" per paragraph.
"""
from __future__ import annotations

import bisect
import html
import re
import re._constants as _c
import unicodedata
from datetime import date
from functools import cache, lru_cache
from operator import attrgetter
from re import _parser
from typing import Any

import ftfy
import re2

from .model import Unit

LONG_LINE = 2000  # a raw line longer than this is a flattened page: split it into sentences
MIN_RUN_WORDS = 8       # words a glued-on run of headlines, and the sentence after it, need at least
RUN_CAPITALS = 0.35     # capitalised share that separates a headline run from prose (split_headline_runs)
RUN_SPLIT_GAIN = 4.0    # capitalised words in excess of RUN_CAPITALS a glued-on run needs to be cut off
TRAILING_SPLIT_GAIN = 8.0  # the same for a run glued on after the prose (no sentence end after it)
# An article opens a noun phrase, so a headline or menu run never ends in one: "The"
# among the last capitalised words before a run's cut starts the lead ("The Catholic Church
# released ..."). English only: German capitalises nouns, and "Die"/"Der" inside a headline
# run moved a cut into the run on the snippet set (_lead_article_start).
LEAD_ARTICLES = frozenset({"The", "A", "An"})
LEAD_ARTICLE_REACH = 3  # capitalised words back from the cut an opening article is looked for
# A hard wrap fills lines of 55-80 characters; lines that mostly stop between 20 and 40
# are a list of short items (a flattened page's menus and labels), not a wrapped text.
MIN_WRAP_WIDTH = 40

_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
ZERO_WIDTH = re.compile(r"[\u00ad\u180e\u200b-\u200d\u2060\ufeff]")  # soft hyphen, zero-width characters
# A sentence ends at . ! ? or … (optionally followed by a closing quote or
# bracket) when white space and a capital, digit or opening quote follow.
# Group 1 is the white space between the two sentences. (Written without look-behinds:
# ~7x faster on long texts.)
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]?(\s+)(?=[\"'“‘(\[]?[A-Z0-9])")
# (".'" but not "?'" or "!'": a headline may close on a quoted question, "... Emery: 'Are There Any ...?'")
_TERMINAL = ("." , "!", "?", "…", ".”", ".\"", "!”", "?”", ".’", ":", ";", "。", "！", "？", "。」", "。”",
             '!"', '?"', "!’", "?’", "…”", '…"', ".)", "!)", "?)", ".»", "!»", "?»", ".'")
# Full stops of scripts written without spaces end a sentence with no space after them
# (group 2: the empty gap); used with SENTENCE_END to cut a flattened page into units.
_UNIT_END = re.compile(f"(?:{SENTENCE_END.pattern})|[。！？][」』”’）]*()")

# Scripts written without spaces between words: Thai, Lao, Myanmar, Khmer, kana, CJK
# ideographs (with extensions and compatibility forms), halfwidth kana.
UNSPACED = ("\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
            "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f")
# Characters of scripts written without spaces (UNSPACED) and how many of
# them make about one word: a Chinese or Japanese word is 1-2 characters, a Thai,
# Lao, Khmer or Myanmar word 3-5 code points (with its vowel and tone marks).
_CJK_CHARS = re.compile("[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
                        "\U00020000-\U0003134f]")
SEA_CHARS = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")
UNSPACED_CHAR = re.compile(f"[{UNSPACED}]")  # either of the two
CJK_CHARS_PER_WORD = 2
SEA_CHARS_PER_WORD = 4

# UTF-8 misread as cp1252/latin-1 always leaves a lead byte (Â..ô) followed by a
# continuation byte shown as a Latin-1 or cp1252 character. Text without such a
# pair cannot hold that mojibake, so it skips ftfy's (slow) repair.
_MOJIBAKE_HINT = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# any of the three above (a mojibake hint never spans two units: see split_units)
ODD_CHAR = re.compile(f"{CONTROL.pattern}|{ZERO_WIDTH.pattern}|{_MOJIBAKE_HINT.pattern}")


class Scan:
    """Does a text hold a match of this character-class pattern? For a whole document: RE2
    (google-re2, a DFA) scans a long non-ASCII text ~8x faster than `re`, which tests
    every character against the class in turn (each whole-document scan cost ~50 us per
    page); for short texts `re` is faster (RE2's call costs ~5 us), so paragraphs keep it.
    Same verdicts: the patterns are plain character classes, and text RE2 cannot take
    (a lone surrogate does not encode to UTF-8) is searched with `re`. RE2 is given the
    UTF-8 bytes (it reads pattern and text as UTF-8 either way): on a `str` the binding also
    maps byte offsets back to characters, which made a scan ~1.7x slower."""

    def __init__(self, pattern: re.Pattern[str]):
        self.pattern = pattern
        # RE2 reads \x escapes but not \u or \U: spell those characters out
        self.fast = re2.compile(re.sub(r"\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})",
                                       lambda m: chr(int(m.group(1) or m.group(2), 16)), pattern.pattern).encode())

    def __call__(self, text: str) -> bool:
        try:
            return self.fast.search(text.encode()) is not None
        except UnicodeEncodeError:
            return self.pattern.search(text) is not None


# --- the heads of anchored patterns -------------------------------------------------------------
#
# A line pattern anchored at the line's start (`pattern.match`) costs ~0.15-0.65 us a line even
# when it fails on the first characters (NAV and RELATED_HEADING try ~50 alternatives in turn),
# and the clean stage asks ~8 of them of most lines of a page. `LineHeads` lists the first
# HEAD characters, lower-cased, of every ASCII line a pattern may match, read from the parsed
# pattern: a line whose head is not listed is spared the regex. Whatever the lister cannot read
# (a lookaround, a word boundary, a scoped flag), or a list past MAX_HEADS, lists nothing and the
# regex always runs; characters are tested with the regex engine itself (case folding included).
HEAD = 3
MAX_HEADS = 4096
_ASCII = [chr(c) for c in range(128)]
_CATEGORIES = {_c.CATEGORY_DIGIT: r"\d", _c.CATEGORY_NOT_DIGIT: r"\D", _c.CATEGORY_SPACE: r"\s",
               _c.CATEGORY_NOT_SPACE: r"\S", _c.CATEGORY_WORD: r"\w", _c.CATEGORY_NOT_WORD: r"\W"}
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT)


class _Unreadable(Exception):
    pass


def line_head(text: str) -> str:
    """A line's key into LineHeads: its first HEAD characters, lower-cased; "" (listed by every
    LineHeads) for a line of at most HEAD + 1 characters (a match may end there, "$" also before
    a final newline) or with a non-ASCII character among them."""
    head = text[:HEAD]
    return head.lower() if len(text) > HEAD + 1 and head.isascii() else ""


class LineHeads:
    """The line heads (see line_head) that some of `patterns` may match; `None`: any head."""

    def __init__(self, *patterns: re.Pattern[str]):
        heads: set[str] = {""}
        try:
            for pattern in patterns:
                self.flags = pattern.flags & (re.IGNORECASE | re.ASCII | re.DOTALL)
                found = self._sequence(_parser.parse(pattern.pattern, pattern.flags), {""})
                if any(len(h) < HEAD for h in found):
                    raise _Unreadable  # a match of fewer characters, not ended by "$": any head follows it
                heads |= found
        except (_Unreadable, RecursionError, TypeError, ValueError):  # also a parser another Python changed
            self.heads: frozenset[str] | None = None
        else:
            self.heads = frozenset(heads)

    def _sequence(self, items: Any, heads: set[str]) -> set[str]:  # items: a parsed pattern's (op, argument) pairs
        for op, av in items:
            open_heads = {h for h in heads if len(h) < HEAD}
            if open_heads:  # a head of HEAD characters is complete: what follows does not change it
                heads = (heads - open_heads) | self._item(op, av, open_heads)
        return heads

    def _item(self, op: Any, av: Any, heads: set[str]) -> set[str]:
        if op is _c.AT and av in (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING):
            return heads
        if op is _c.AT and av in (_c.AT_END, _c.AT_END_STRING):
            return set()  # the match ends within HEAD + 1 characters: such lines have the head ""
        if op is _c.SUBPATTERN and not av[1] and not av[2]:  # no scoped flags
            return self._sequence(av[3], heads)
        if op is _c.BRANCH:
            return set().union(*(self._sequence(alternative, heads) for alternative in av[1]))
        if op in _REPEATS:
            return self._repeat(*av, heads)
        found = {h + c for h in heads for c in self._chars(op, av)}
        if len(found) > MAX_HEADS:
            raise _Unreadable
        return found

    def _repeat(self, least: int, most: int, item: Any, heads: set[str]) -> set[str]:
        """Heads after `least` to `most` repetitions: each adds a character at least, unless it
        matches nothing, which changes no head; so HEAD + 1 rounds find them all."""
        found, current = set(), heads
        for n in range(HEAD + 2):
            if n >= least:
                found |= current
            found |= {h for h in current if len(h) == HEAD}
            current = {h for h in current if len(h) < HEAD}
            if n == most or not current:
                return found
            current = self._sequence(item, current)
        return found | current

    def _chars(self, op: Any, av: Any) -> frozenset[str]:
        """The ASCII characters (lower-cased) one item of the pattern matches."""
        if op is _c.LITERAL:
            rx = re.escape(chr(av))
        elif op is _c.NOT_LITERAL:
            rx = "[^" + re.escape(chr(av)) + "]"
        elif op is _c.ANY:
            rx = "."
        elif op is _c.IN:
            rx = "[" + "".join(_class_item(iop, iav) for iop, iav in av) + "]"
        else:
            raise _Unreadable
        return _ascii_matches(rx, self.flags)


@cache  # a few hundred items at import: the same letters recur
def _ascii_matches(rx: str, flags: int) -> frozenset[str]:
    one = re.compile(rx, flags)
    return frozenset(c.lower() for c in _ASCII if one.fullmatch(c))


def _class_item(op: Any, av: Any) -> str:
    if op is _c.NEGATE:
        return "^"
    if op is _c.LITERAL:
        return re.escape(chr(av))
    if op is _c.RANGE:
        return re.escape(chr(av[0])) + "-" + re.escape(chr(av[1]))
    if op is _c.CATEGORY and av in _CATEGORIES:
        return _CATEGORIES[av]
    raise _Unreadable


HAS_ODD_CHAR = Scan(ODD_CHAR)
HAS_CONTROL = Scan(CONTROL)
CONTROL_RUN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]+")


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
        text = CONTROL.sub("", text)  # also in ASCII text: a NUL must never reach the article
    if not text.isascii():
        if doc_has_odd_chars:
            # before ftfy, which must see the text as it will be kept (a soft hyphen inside
            # mojibake hides it from ftfy)
            text = ZERO_WIDTH.sub("", text)
        if doc_has_odd_chars and _MOJIBAKE_HINT.search(text):
            # ftfy decides by the characters around a sequence, white space included: it must
            # see the spacing that is kept, or the kept text would be repaired on a second pass
            # ("\xa0Â¡" stays, "Â¡" becomes "¡")
            text = text if _single_spaced(text) else " ".join(text.split())
            text = ftfy.fix_text(text, uncurl_quotes=False, fix_line_breaks=False, normalization="NFC")
            text = ZERO_WIDTH.sub("", CONTROL.sub("", text))  # a repaired character may be one of them
        else:
            text = unicodedata.normalize("NFC", text)
    # str.split() splits on exactly the characters _SPACES matches (every str.isspace()
    # character), several times faster than the regex
    return text if _single_spaced(text) else " ".join(text.split())


def _single_spaced(text: str) -> bool:
    """Is " ".join(text.split()) the text itself? Most lines are: checking is ~3x cheaper
    than rebuilding them. Every white-space character but the ASCII space is unprintable
    (categories Cc, Zs, Zl, Zp), so a printable text holds no other."""
    return text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "


# The date lines pages print most ("12 March 2015", "March 12, 2015", "2015-03-12") are read
# directly: dateutil takes ~50-70 us a line, and a batch of generated pages holds a different
# date on nearly every page. The month names are dateutil's (any case) and the years 1000-9999
# (dateutil reads "0001" as 2001); what these shapes do not cover, or a day the month lacks,
# goes to dateutil (tests/test_fast_paths.py checks that both agree).
_MONTH_NUMBERS = {name: number for number, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")), start=1) for name in names}
_PLAIN_DATE = re.compile(r"([1-9]\d{3})-(\d{2})-(\d{2})|(\d{1,2}) ([A-Za-z]{3,9}) ([1-9]\d{3})|([A-Za-z]{3,9}) (\d{1,2}), ([1-9]\d{3})")


def _plain_date(text: str) -> date | None:
    """The date of a line in one of the plain shapes of _PLAIN_DATE, else None."""
    m = _PLAIN_DATE.fullmatch(text)
    if m is None:
        return None
    iso_y, iso_m, iso_d, d1, name1, y1, name2, d2, y2 = m.groups()
    year, month, day = (iso_y, iso_m, iso_d) if iso_y else (y1, name1, d1) if y1 else (y2, name2, d2)
    month_number = int(month) if iso_y else _MONTH_NUMBERS.get(month.lower())
    try:
        return date(int(year), month_number, int(day)) if month_number else None
    except ValueError:
        return None


def parse_date(text: str) -> date | None:
    if found := _plain_date(text):
        return found
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
    odd_at = [m.start() for m in ODD_CHAR.finditer(raw)] if HAS_ODD_CHAR(raw) else []
    for u in units:
        if u.text:
            u.text = normalise(u.text, bool(odd_at) and bisect.bisect_left(odd_at, u.start) < bisect.bisect_left(odd_at, u.end))
    return units


# The last characters of the _TERMINAL ends: a line ending in none of them (most short lines of
# a page) is answered without trying each of the ~30 ends in turn.
_TERMINAL_LAST = frozenset(end[-1] for end in _TERMINAL)


def ends_sentence(text: str) -> bool:
    return text[-1:] in _TERMINAL_LAST and text.endswith(_TERMINAL)


def rejoin_wrapped(units: list[Unit]) -> list[Unit]:
    """Join hard-wrapped lines into paragraphs; drop blank lines.

    A document counts as hard-wrapped when most of its lines are long and of
    similar length (a fixed-width wrap) rather than one paragraph per line.
    Within such a document a line is joined to the next one unless it ends a
    sentence *and* the next line's first word would have fitted on it — the
    sign of a deliberate line break rather than a wrap. A page that is not
    hard-wrapped gets its own (non-blank) units back, not copies.
    """
    lines = [u for u in units if u.text]
    lengths = sorted([len(u.text) for u in lines])
    wrapped = False
    if len(lengths) >= 5:
        width = lengths[int(0.9 * (len(lengths) - 1))]
        # the lengths n with 0.55 * width <= n <= width, counted by two searches of the sorted lengths
        near_width = bisect.bisect_right(lengths, width) - bisect.bisect_left(lengths, 0.55 * width)
        wrapped = MIN_WRAP_WIDTH <= width <= 120 and near_width >= 0.6 * len(lengths)
    if not wrapped:  # most pages: a paragraph per line (the units themselves: paragraphs() made them)
        return lines
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
            paragraphs.append(Unit(u.start, u.end, u.text, sentence=u.sentence))
        previous_line = u.text
    return paragraphs


def _continues(previous_line: str, line: str, width: int) -> bool:
    if not ends_sentence(previous_line):
        return True
    first_word = line.split(" ", 1)[0]
    return len(previous_line) + 1 + len(first_word) > width


@lru_cache(maxsize=1 << 12)  # the stages ask again for the same paragraphs (is_body, body_weight, the rows)
def word_count(text: str) -> int:
    """Words of a normalised text: space-separated tokens, where each run of characters of a
    script written without spaces counts as its length / characters per word (see above)."""
    words = text.count(" ") + 1 if text else 0
    if text.isascii() or not UNSPACED_CHAR.search(text):
        return words
    cjk, sea = len(_CJK_CHARS.findall(text)), len(SEA_CHARS.findall(text))
    return words + cjk // CJK_CHARS_PER_WORD + sea // SEA_CHARS_PER_WORD




# The first character of each word: group 1 holds it if it is a capital or digit, else it is
# a lower-case letter (one scan for both counts; the white space before the word, which the
# previous word's match never took, as (?<!\S) would say). It is searched in " " + text, where
# that space stands for the start of the text: a pattern opening with \s lets the regex engine
# skip to the next white space, while one opening with (?:^|\s) tried every position (~30 % of
# the scan, which menus, headlines and long paragraphs all ask for).
_WORD_INITIAL = re.compile(r"\s(?:([A-Z0-9\u00c0-\u00de\u0391-\u03a9\u0410-\u042f])"
                           r"|[a-z\u00df-\u00ff\u03b1-\u03c9\u0430-\u044f])")


def capitalised_share(text: str) -> float:
    """Share of the words that start with a capital or a digit, among those that start
    with a letter or digit (Latin, Greek, Cyrillic): high in menus and lists of title-case
    headlines, low in prose (English ~0.15, German ~0.35)."""
    initials = _WORD_INITIAL.findall(" " + text)  # "" for a lower-case initial
    return (len(initials) - initials.count("")) / len(initials) if initials else 0.0

def split_headline_runs(raw: str, units: list[Unit]) -> list[Unit]:
    """Cut the run of menu items or headlines that a flattened page glues in front of a
    sentence ("Home News Sport ... Jobs Fall As Rates Rise The council said on Monday
    that ...") off it: at the place that best separates a capitalised prefix from the
    prose after it (a change point of the capitals, see RUN_SPLIT_GAIN). Only sentences
    cut from a long line (a page flattened onto one line) are looked at: a page without
    any (most pages) gets its units back, not a copy."""
    if not any_sentence(units):
        return units
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
        spans = raw_token_spans(raw, u, len(tokens)) if best >= RUN_SPLIT_GAIN else None
        if spans is None:
            out.append(u)
            continue
        at = _lead_article_start(tokens, at)
        out.append(Unit(u.start, spans[at - 1][1], " ".join(tokens[:at]), sentence=True))
        out.append(Unit(spans[at][0], u.end, " ".join(tokens[at:]), sentence=True))
    return _split_trailing_runs(raw, out)


_IS_SENTENCE = attrgetter("sentence")


def any_sentence(units: list[Unit]) -> bool:
    """Does any unit hold a sentence cut from a long line (a page flattened onto one line)?
    Most pages hold none, and the passes that look only at such sentences can skip them."""
    return any(map(_IS_SENTENCE, units))


def _lead_article_start(tokens: list[str], at: int) -> int:
    """Where the lead starts when a headline run is cut off before tokens[at]. The change point
    of the capitals cuts before a capital and as late as the capitals go on, so it cuts before
    the last capitalised word of a name that opens the lead: "... Rare Nod to American Nuns The
    Catholic | Church released its final report ...". An article up to LEAD_ARTICLE_REACH
    capitalised words before the cut starts the lead instead (the run never ends in one)."""
    for k in range(at - 1, max(at - 1 - LEAD_ARTICLE_REACH, MIN_RUN_WORDS - 1), -1):
        if not tokens[k][:1].isupper():
            break
        if tokens[k] in LEAD_ARTICLES:
            return k
    return at


_FULL_STOP = re.compile(r"[a-z\u00df-\u00ff]{2}[.!?…][\"'”’)\]]*$")  # not "U.S." or "Mr.": a word's full stop


def _trailing_run_at(tokens: list[str]) -> int:
    """Where a capitalised run that closes a sentence unit begins (0: none), the mirror of
    split_headline_runs: the prose ended in a full stop that SENTENCE_END could not see, as what
    follows starts with no capital ("... 12 weeks early. <iframe ...> More Videos Utah couple's
    dream ..."), and the page's lists ran on to the next one. The run starts after a word that ends
    a sentence."""
    gain, best, at = 0.0, 0.0, 0
    for k in range(len(tokens) - 1, MIN_RUN_WORDS - 1, -1):
        c = tokens[k][:1]
        gain += (1 - RUN_CAPITALS) if (c.isupper() or c.isdigit()) else -RUN_CAPITALS if c.islower() else 0
        if gain > best and len(tokens) - k >= MIN_RUN_WORDS and not c.islower() and _FULL_STOP.search(tokens[k - 1]):
            best, at = gain, k
    return at if best >= TRAILING_SPLIT_GAIN else 0


def _split_trailing_runs(raw: str, units: list[Unit]) -> list[Unit]:
    """The units, each sentence unit that a capitalised run closes cut in two before the run."""
    out: list[Unit] = []
    for u in units:
        tokens = u.text.split(" ") if u.sentence else ()
        at = _trailing_run_at(tokens) if len(tokens) >= 2 * MIN_RUN_WORDS else 0
        spans = raw_token_spans(raw, u, len(tokens)) if at else None
        if spans is None:
            out.append(u)
            continue
        out.append(Unit(u.start, spans[at - 1][1], " ".join(tokens[:at]), sentence=True))
        out.append(Unit(spans[at][0], u.end, " ".join(tokens[at:]), sentence=True))
    return out


_TOKEN = re.compile(r"\S+")


def raw_token_spans(raw: str, unit: Unit, n_tokens: int | None = None) -> list[tuple[int, int]] | None:
    """The span in the raw text of each white-space-separated token of a unit; None when they
    are not n_tokens (normalising joined or split some, so the unit's tokens do not map one to
    one onto the raw text and it cannot be cut between them with confidence)."""
    spans = [m.span() for m in _TOKEN.finditer(raw, unit.start, unit.end)]
    return spans if n_tokens is None or len(spans) == n_tokens else None


def paragraphs(raw: str) -> list[Unit]:
    """The raw text as normalised paragraphs (hard wraps re-joined, blank lines gone)."""
    return rejoin_wrapped(split_headline_runs(raw, split_units(raw)))


# --- folding: how text is compared --------------------------------------------------------
#
# Wherever newsfold asks "is this the same text?" -- a copy across documents (the word
# shingles of the signatures), a paragraph repeated inside one document (repeats) -- it
# compares the texts as `fold` gives them: NFKC (ligatures, full-width and compatibility
# forms), curly quotes and dashes as ASCII, soft hyphens and zero-width characters dropped
# (inside a word they must not split it), case folded, and a space around each character of
# a script written without spaces, so that each is a word of its own. Copies that differ
# only in these compare equal; the stored text keeps its typography. The chrome stage cuts
# chrome out by character offset, so it folds only what keeps every offset
# (`fold_keeping_offsets`). The signatures depend on `fold`: changing it changes every
# stored signature (signatures.ALGORITHM_VERSION, `newsfold reindex`).

_TYPOGRAPHY = {"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"',
               "–": "-", "—": "-", "‐": "-", "‑": "-",
               "\u00ad": "", "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": ""}
_UNSPACED_GROUP = re.compile(f"([{UNSPACED}])")


def split_unspaced(text: str) -> str:
    """The text with a space around every character of an unspaced script (unchanged without any)."""
    if text.isascii() or not _UNSPACED_GROUP.search(text):
        return text
    return _UNSPACED_GROUP.sub(r" \1 ", text)


def fold(text: str) -> str:
    """The text as newsfold compares it (see above)."""
    if text.isascii():  # NFKC, the typography and the unspaced scripts change nothing in ASCII
        return text.lower()
    # the quick check is ~40x cheaper than normalising text that already is NFKC (most is)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    # str.replace per character present is ~20x faster than str.translate with a dict
    for src, dst in _TYPOGRAPHY.items():
        if src in text:
            text = text.replace(src, dst)
    text = text.casefold()
    # case folding may leave a text that is not NFKC
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return split_unspaced(text).lower()


def fold_keeping_offsets(text: str) -> str:
    """The part of `fold` that keeps every character at its offset: lower case, where
    lower-casing keeps the text's length (all but a few scripts); else the text as it is."""
    lower = text.lower()
    return lower if len(lower) == len(text) else text


def fold_keeping_offsets_joined(texts: list[str]) -> str:
    """fold_keeping_offsets("\n".join(texts)), lower-cased a text at a time (lower-casing
    never looks past a newline, not even for a final sigma): ~1.1-1.5x faster than one
    lower() of the joined text, whose characters take the width of its widest one."""
    lowered = [t.lower() for t in texts]
    if all(len(a) == len(b) for a, b in zip(lowered, texts)):
        return "\n".join(lowered)
    return "\n".join(texts)
