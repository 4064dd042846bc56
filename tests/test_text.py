"""pipeline/text.py: normalisation, units and paragraphs, word counts, sentence ends."""
from pipeline import text
from pipeline.model import Unit


def test_unicode_normalisation_and_mojibake():
    assert text.normalise("a\u00a0b\u2009c  d\u200b") == "a b c d"
    # UTF-8 read as cp1252 is repaired; curly quotes are kept (NFC, not uncurled)
    broken = "“Itâ€™s done,â€ he said".encode("utf-8").decode("utf-8")
    assert text.normalise("itâ€™s") == "it’s"
    assert "’" in text.normalise(broken)
    assert text.normalise("Tom &amp; Jerry&#8217;s") == "Tom & Jerry’s"
    assert text.normalise("ﬁne") == "ﬁne"  # NFC keeps ligatures; the matcher folds them (NFKC)


def test_scan_agrees_with_re_on_random_text():
    # text.Scan searches whole documents with RE2: same verdicts as `re` on the same
    # character classes, also on text RE2 cannot take (a lone surrogate)
    import random

    from pipeline.text import CONTROL, ODD_CHAR, UNSPACED_CHAR, Scan

    pool = "aZ09 \t\n\r.\u201c\u2014é\u00c3\u00a9\u00c2\u0080\u009f\x00\x0b\x1f\x7f\u00ad\u200b\ufeff\u0e01\u4e2d\u3042\ud800"
    rng = random.Random(5)
    scans = [(p, Scan(p)) for p in (CONTROL, ODD_CHAR, UNSPACED_CHAR)]
    for _ in range(3000):
        text = "".join(rng.choices(pool, k=rng.randint(0, 6)))
        for pattern, scan in scans:
            assert scan(text) == bool(pattern.search(text)), (pattern.pattern, text)


def test_a_flattened_page_is_cut_into_sentences_with_raw_offsets():
    raw = "Menu Home News " + "The council met on Monday. " * 100 + "It voted."
    units = text.split_units(raw)
    assert len(units) > 100 and all(u.sentence for u in units)
    for u in units:
        assert raw[u.start:u.end].strip() == u.text


def test_hard_wrapped_lines_are_joined_and_deliberate_breaks_kept():
    wrapped = ("The city council approved the new transit budget on Monday after\n"
               "a long debate about bus routes and the cost of running the night\n"
               "service, which riders had asked for since the last election.\n"
               "The mayor said the vote was a good day for the whole city and its\n"
               "people, who had waited for better buses for years.\n"
               "Opponents said the plan was too expensive and would raise fares by\n"
               "a fifth within two years, a claim the transit agency disputed.")
    paragraphs = text.paragraphs(wrapped)
    assert [p.text.split(" ", 1)[0] for p in paragraphs] == ["The", "The", "Opponents"]
    assert paragraphs[0].text.endswith("since the last election.")


def test_a_page_of_short_lines_is_not_a_hard_wrap():
    menu = "\n".join(["Home", "World news today", "Business and markets", "Sport results", "Culture",
                      "Opinion and analysis", "Weather"])
    assert len(text.paragraphs(menu)) == 7


def test_word_count_in_scripts_without_spaces():
    assert text.word_count("one two three") == 3
    assert text.word_count("") == 0
    assert text.word_count("北京今天下雨") == 1 + 6 // text.CJK_CHARS_PER_WORD


def test_sentence_ends_and_capitalised_share():
    assert text.ends_sentence('What she said: "Have you heard of this thing called Tinder?"')
    assert text.ends_sentence("He left (and never came back.)")
    # a full stop inside straight single quotes, but not a headline's closing question in them
    assert text.ends_sentence("It was searched 7x more than 'i am thirsty.'")
    assert not text.ends_sentence("Fact-Checker David Emery: 'Are There Any Un-Angry Trump Supporters?'")
    assert not text.ends_sentence("Home News Sport")
    assert text.capitalised_share("Home News Sport Weather") == 1.0
    assert text.capitalised_share("the council met on Monday") == 0.2


def test_a_headline_run_glued_in_front_of_a_sentence_is_cut_off():
    run = "Home News Sport Business Jobs Fall As Rates Rise Markets Close Higher Again"
    raw = f"{run} The council said on Monday that it would review the budget again next week before the vote."
    units = text.split_headline_runs(raw, [Unit(0, len(raw), raw, sentence=True)])
    assert [u.text for u in units][0] == run
    assert units[1].text == raw[len(run) + 1:]


def test_a_headline_run_is_cut_before_the_article_that_opens_the_leads_name():
    # thedailybeast.com flattened onto one line: the change point of the capitals alone cut
    # "... American Nuns The Catholic | Church released ...", losing the lead's first words
    run = "News Tech Health Women Books Sister Act The Vatican's Rare Nod to American Nuns"
    lead = "The Catholic Church released its final report on its investigation into American nuns and it took a softer stance."
    raw = f"{run} {lead}"
    units = text.split_headline_runs(raw, [Unit(0, len(raw), raw, sentence=True)])
    assert [u.text for u in units] == [run, lead]
    assert raw[units[1].start:units[1].end] == lead
    # an article further back than LEAD_ARTICLE_REACH capitalised words is the run's own
    tokens = ["Home", "News", "Sport", "Jobs", "Fall", "As", "Rates", "Rise", "The", "Board", "Of", "Trade", "Said"]
    assert text._lead_article_start(tokens, 12) == 12
    assert text._lead_article_start(tokens, 10) == 8


def test_a_headline_run_glued_after_a_sentence_is_cut_off():
    # globalnews.ca flattened onto one line: the lead ends in a full stop that no capital follows
    # (an embed's markup shown as text), so the video list runs on in the same unit
    prose = ("In a video posted to their Facebook page, Ashley and Tyson Gardner ask for prayers of support "
             "as they are about to welcome two sets of twins into the world 12 weeks early.")
    run = ("<iframe> More Videos Utah couple’s dream of parenthood comes true in the form of quadruplets 02:00 "
           "‘Quad Squad’ born in Utah 00:35 Camera captures birth of giant panda twins 00:38 Movie Trailer: "
           "The Walk 02:03 Three more fatalities confirmed in Maryland plane crash 01:21 Latest National Video "
           "Programs Global National Everyday Hero The West Block The Morning Show Categories Canada World Money")
    raw = f"{prose} {run}"
    units = text.split_headline_runs(raw, [Unit(0, len(raw), raw, sentence=True)])
    assert [u.text for u in units] == [prose, run]
    assert raw[units[1].start:units[1].end] == run
    # the run must follow a full stop: a sentence ending in names, or names after "U.S.", stays whole
    names = "Ann Lee, Tom Roe, Mia Park, Joe Doe, Kim Cho, Raj Patel, Eva Mayer, Li Wei, Ola Berg and Sam Cruz."
    for lead in ("The jury named its members at the end of the year:", "The jury sent its best wishes to the U.S."):
        assert text._trailing_run_at(f"{lead} {names}".split(" ")) == 0


def test_fold_is_how_text_is_compared():
    assert text.fold("“Don’t” — ﬁne") == text.fold('"don\'t" - fine') == '"don\'t" - fine'
    assert text.fold("co\u00adoperate") == "cooperate"  # a soft hyphen must not split a word
    assert text.fold("Straße") == "strasse"
    assert text.fold("北京 news").split() == ["北", "京", "news"]
    assert text.fold("Plain ASCII") == "plain ascii"


def test_the_same_folding_decides_copies_and_repeats():
    from pipeline import repeats, signatures

    curly, straight = "“It’s ﬁne,” the mayor said — twice.", '"it\'s fine," the mayor said - twice.'
    assert signatures.words(curly) == signatures.words(straight)
    assert list(signatures.shingle_hashes(curly)) == list(signatures.shingle_hashes(straight))
    assert repeats.paragraph_key(curly) == repeats.paragraph_key(straight)


def test_fold_keeping_offsets_keeps_every_character_in_place():
    assert text.fold_keeping_offsets("Home NEWS") == "home news"
    odd = "İstanbul"  # lower-casing İ adds a combining dot: the text stays as it is
    assert text.fold_keeping_offsets(odd) == odd


def test_sentences_cut_from_a_flattened_page_stay_marked_as_such():
    # the layout weighs them differently (a long capitalised run ending a sentence is a menu
    # glued to it); rejoin_wrapped used to drop the mark
    raw = "Home News Sport. " + "The council met on Monday and voted for the budget. " * 60
    paragraphs = text.paragraphs(raw)
    assert len(paragraphs) > 50 and all(p.sentence for p in paragraphs)
