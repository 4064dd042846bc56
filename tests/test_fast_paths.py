"""The shortcuts of issue #14 give the answers of the slow paths they stand in for."""
from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import chrome, clean, patterns, text
from pipeline.patterns import (
    CREDIT,
    FOLLOW,
    follow_prompt,
    legal_footer,
    login_box,
    photo_credit,
    plea,
)


def test_single_spaced_only_when_rejoining_changes_nothing():
    for t in ["a b", " a", "a ", "a  b", "a\tb", "a\u00a0b", "", "é b", "a\u2028b", "a\u3000b", "x"]:
        if text._single_spaced(t):
            assert " ".join(t.split()) == t
        assert text.normalise(t, False) == " ".join(t.split())


def test_scans_agree_with_re_on_every_code_point():
    for scan, pattern in ((text.HAS_ODD_CHAR, text.ODD_CHAR), (text.HAS_CONTROL, text.CONTROL)):
        for c in list(range(0x3000)) + [0xD800, 0xFEFF, 0x20000]:
            t = f"a{chr(c)}b"
            assert scan(t) == (pattern.search(t) is not None), hex(c)


def test_capitalised_share_counts_initials():
    assert text.capitalised_share("  Home\tnews  Sport Ωmega ωmega 9 -x") == 4 / 6
    assert text.capitalised_share("... --") == 0.0


def test_photo_credit_is_credit_match():
    words = ["photo", "image", "'s ", "getty images", "credit", ":", "(", "by", " ", "x", "Shutterstock", "AP Photo",
             "reuters/", "EPA-EFE", "istock", "Courtesy", "source", "video", "graphic", "file photo", "the ", "'S ", "é",
             "\u2019s ", "\u2019S ", "İmage", "ı", "ſource", "\u212aa", "Ü", "'s photo", "\u2019S Avatar",
             "s profile picture", ")", ".", "\n", "istockphoto", "AFP via Getty", "epa-efe", "ap photo", "Picture",
             "Illustration", "(Credit:", "ſhutterstock", "re\u212aa", "getty ımages"]
    rng = random.Random(1)
    for _ in range(40000):
        line = "".join(rng.choice(words) for _ in range(rng.randint(1, 8)))
        assert photo_credit(line) == bool(CREDIT.match(line)), line


def test_rules_admitted_as_the_table_says():
    for outside in (False, True):
        for words in range(80):
            for above, after_tail, closing, noted in [(a, t, c, n) for a in (0, 1) for t in (0, 1) for c in (0, 1)
                                                      for n in range(8)]:
                got = clean._admitted_rules(outside, min(words, clean._WORDS_BEYOND_LIMITS), bool(above),
                                            bool(after_tail), bool(closing), noted)
                want = tuple(r for r in clean.LINE_RULES
                             if (limit := r.words_outside if outside else r.words_inside) is not None
                             and words <= limit and {"above": above, "after_tail": after_tail,
                                                     "closing": closing}.get(r.where, True)
                             and (r.test not in (legal_footer, plea, login_box)
                                  or noted >> (legal_footer, plea, login_box).index(r.test) & 1))
                assert got == want


def test_a_line_without_a_rules_words_fails_its_test():
    lines = ["© 2015 NYP Holdings", "Sign up for our newsletter", "Forgot your password?", "Home", "", "x ſubscribe to"]
    patterns.note_page(lines)
    for line in [*lines, "Subscribe to our newsletter (no page)"]:
        for rule in clean.LINE_RULES:
            if rule.needs_words and not patterns.noted_words(line) & rule.needs_words:
                assert not rule.test(line), (rule.reason, line)
    assert patterns.noted_words("a line of no noted page") == 7


def test_key_page_order_and_repeat_filter():
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 50, 3000).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    page = np.sort(rng.integers(0, 30, 3000))
    at = np.arange(3000)
    got, want = chrome._by_key_then_page(keys, page, at), at[np.lexsort((page, keys))]
    assert (keys[got] == keys[want]).all() and (page[got] == page[want]).all()
    unique = rng.integers(0, 2**63, 5000).astype(np.uint64)
    both = np.concatenate((unique, unique[:100]))
    maybe = chrome._maybe_repeated(both)
    assert maybe[:100].all() and maybe[-100:].all()  # a repeated key is never dropped


def test_word_spans_offsets_in_dense_and_sparse_non_ascii():
    import re

    from pipeline import signatures
    for texts in (["Привет, мир! Как дела?", "Über Straße 12 — “Tag”"], ["Plain text, more words " * 40 + "“quoted”", "more"]):
        _, starts, ends, offsets = signatures.word_spans(texts)
        for d, t in enumerate(texts):
            got = [t[s:e] for s, e in zip(starts[offsets[d]:offsets[d + 1]], ends[offsets[d]:offsets[d + 1]])]
            assert got == re.findall(r"\w+", t)


def test_covered_by_slicing():
    rng = np.random.default_rng(0)
    for n in range(30):
        for k in (1, 2, 8, 9):
            hit = rng.random(n) < 0.2
            want = [bool(hit[max(0, w - k + 1):w + 1].any()) for w in range(n)]
            assert chrome._covered(hit, k).tolist() == want


def test_fold_keeping_offsets_joined():
    cases = [["Home NEWS", "ΑΣ", "Σ b"], ["a", "İstanbul"], [], [""], ["x\u00adY", "“Q”"]]
    for texts in cases:
        assert text.fold_keeping_offsets_joined(texts) == text.fold_keeping_offsets("\n".join(texts))


def test_sorted_distinct_is_unique():
    rng = np.random.default_rng(0)
    runs = np.concatenate([np.sort(rng.integers(0, 500, n)) for n in (5, 300, 200)])
    assert chrome._sorted_distinct(runs).tolist() == np.unique(runs).tolist()
    assert chrome._sorted_distinct(np.empty(0, dtype=np.int64)).tolist() == []


def test_plain_dates_read_as_dateutil_reads_them():
    from dateutil import parser

    def slow(line: str):
        try:
            return parser.parse(line, fuzzy=True, default=None).date()
        except (ValueError, OverflowError, TypeError):
            return None

    names = ["Jan", "january", "FEB", "March", "apr", "May", "June", "jul", "Aug", "Sep", "Sept", "September",
             "oct", "November", "Dec", "Mai", "Marc", "Juli", "Sat"]
    years = ["0001", "0099", "0999", "1900", "2015", "2024", "9999", "0000"]
    lines = [f"{y}-{m:02d}-{d:02d}" for y in years for m in range(14) for d in (0, 1, 9, 12, 28, 29, 30, 31, 32)]
    for name in names:
        for y in years:
            for d in ("0", "1", "01", "9", "12", "13", "28", "29", "30", "31", "32", "99"):
                lines += [f"{d} {name} {y}", f"{name} {d}, {y}"]
    for line in lines:
        fast = text._plain_date(line)
        assert fast is None or fast == slow(line), line
        assert text.parse_date(line) == slow(line), line
    assert text._plain_date("12 March 2015") == text._plain_date("March 12, 2015") == text._plain_date("2015-03-12")


def test_folds_to_ascii_lists_every_character_ignorecase_reads_as_an_ascii_letter():
    from pipeline import patterns

    letter = re.compile("[a-z]", re.IGNORECASE)
    found = [chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c < 0xE000 and letter.fullmatch(chr(c))]
    assert found and all(patterns._FOLDS_TO_ASCII.fullmatch(c) for c in found)
    assert not any(patterns._FOLDS_TO_ASCII.search(chr(c)) for c in range(0x80, 0x3000) if chr(c) not in found)


def test_follow_prompt_is_follow_search():
    words = ["follow", "Follow", "FOLLOW", "fo", "llow", " ", "us", "him", "on", "twitter", "X", "@", "@ab", "ab", ".",
             "é", "İ", "ſ", "\u212a", "\n", "me", "Instagram"]
    rng = random.Random(2)
    for _ in range(20000):
        line = "".join(rng.choice(words) for _ in range(rng.randint(1, 9)))
        assert follow_prompt(line) == bool(FOLLOW.search(line)), line


def test_words_noted_per_page_are_the_words_of_each_line_lower_cased():
    from pipeline import patterns

    words = ["©", "Copyright", "(C) ", "rights RESERVED", "terms of", "This Site", "this website", "subscri", "SIGN UP",
             "newsletter", "Inbox", "mailing list", "journalism", "become a", "ccount", "Donate", "enter your",
             "forgot", "remember me", "Account", " in as", "sign in with", "be", "come", " ", "x", "é", "’", "\u212a",
             "ı", "SUBSCRİBE", "ſign up", "\n", "Σ", "ß", "\ud800"]
    rng = random.Random(3)
    noted = 0
    for _ in range(3000):
        weights = [1.0] * len(words) if rng.random() < 0.3 else [0.0 if w in "ıİſ\n\ud800" or "İ" in w or "ſ" in w
                                                                 else 1.0 for w in words]
        lines = ["".join(rng.choices(words, weights, k=rng.randint(0, 6))) for _ in range(rng.randint(1, 6))]
        patterns.note_page(lines)
        noted += bool(patterns._NOTED)
        for line in lines:
            for group, group_words in enumerate(patterns._WORD_GROUPS):
                want = any(word in line.lower() for word in group_words)
                assert patterns._holds_words(line, group) == want, lines
    assert noted > 1500
    patterns.note_page(["Forgot your password? Become a member", "x"])
    assert patterns._NOTED == {"Forgot your password? Become a member": 6, "x": 0}


def test_date_line_is_date_line_match():
    lines = ["12 March 2015", "March 12, 2015 10:32am", "Posted: 2015-03-12", "Monday, ١٢ March ٢٠١٥", "Published",
             "Updated March", "x 12/3/2015", "3/12/2015 | 10:32 ET", "By Ann Lee", ""]
    lines += [line for path in sorted((Path(__file__).parent / "fixtures").rglob("*.txt"))
              for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    assert sum(bool(patterns.DATE_LINE.match(line)) for line in lines) > 5
    for line in lines:
        assert patterns.date_line(line) == bool(patterns.DATE_LINE.match(line)), line


def test_line_heads_list_every_head_a_pattern_may_match():
    heads = text.LineHeads
    assert heads(re.compile("^ab", re.IGNORECASE)).heads is None  # a match of two characters: any head follows
    assert heads(re.compile("^ab$", re.IGNORECASE)).heads == {""}
    assert heads(re.compile("^(?:ab|abc)d", re.IGNORECASE)).heads == {"", "abd", "abc"}
    assert heads(re.compile("^(?:a?)*bcd")).heads == {"", "abc", "aaa", "aab", "bcd"}
    assert heads(re.compile(r"^x\b")).heads is None and heads(re.compile(r"^(?=a)abc")).heads is None
    assert heads(re.compile("^\u017fab", re.IGNORECASE)).heads == {"", "sab"}  # "ſ" reads as "s" to IGNORECASE
    words = ["share", "Related", "Stories", "more", "from", "by", "By", "Fwd:", "re:", "Advertisement", "latest news",
             "|", ":", " ", "  ", "Read", "also", "Lea", "también", "ſhare", "\u212a", "İ", "x", "Facebook", "twitter",
             "12", "comments", "via", "newsletter", "Thumbnail", "Skip", "to", "content", "Home", "·", "/", "the",
             "Top", "Stories:", "Sign", "in", "E-mail", "Trending", "Now", "Written", "Ann Lee", "\n", ".", "!"]
    rng = random.Random(2)
    lines = ["".join(rng.choice(words) + rng.choice(("", " ")) for _ in range(rng.randint(1, 6))) for _ in range(30000)]
    lines += [line for path in sorted((Path(__file__).parent / "fixtures").rglob("*.txt"))
              for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    lines += ["From the Daily Echo newsletter", "This story first appeared in our Morning Briefing newsletter.",
              "Via the X newsletter!", "As seen in the Y newsletter", "Appeared in Z newsletter"]
    for name in ("SOCIAL", "WIDGET", "NEWSLETTER_SOURCE", "EMAIL_SUBJECT", "BYLINE", "RELATED_HEADING"):
        pattern, listed = getattr(patterns, name), getattr(patterns, name + "_HEADS")
        assert listed is not None and sum(bool(pattern.match(line)) for line in lines) >= 5, name
        for line in lines:
            if text.line_head(line) not in listed:
                assert not pattern.match(line), (name, line)
    for line in lines:
        if text.line_head(line) not in patterns.NAV_OR_PROMO_HEADS:
            assert not patterns.NAV.match(line) and not patterns.PROMO.match(line), line


# The word lists and prefilters above were written by hand from their regexes, and the
# random-line tests only try the words someone thought of. These draw lines from the regexes
# themselves (hypothesis reads every alternative), so a new alternative added to a regex
# without its word in the shortcut fails here.
_FROM_REGEX = settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("name, group", [("COPYRIGHT", 0), ("NEWSLETTER", 1), ("LOGIN_BOX", 2)])
def test_every_match_of_a_word_group_regex_holds_a_word_of_its_group(name, group):
    regex = getattr(patterns, name)

    @_FROM_REGEX
    @given(st.from_regex(regex))
    def check(line):
        if regex.search(line):
            assert any(word in line.lower() for word in patterns._WORD_GROUPS[group]), line

    check()


@_FROM_REGEX
@given(st.from_regex(CREDIT))
def test_photo_credit_admits_every_line_credit_matches(line):
    assert photo_credit(line) == bool(CREDIT.match(line))


@_FROM_REGEX
@given(st.from_regex(FOLLOW))
def test_follow_prompt_admits_every_line_follow_finds(line):
    assert follow_prompt(line) == bool(FOLLOW.search(line))
