from datetime import date

import pytest

from conftest import SEED
from pipeline import clean, repeats, sources

CHROME = ["Skip to main content", "Thumbnail", "Share this post", "Comment this post", "Tyler Durden's Photo",
          "Related articles", "Subscribe to our evening newsletter", "is the news editor of Antiwar.com"]


def cleaned(key):
    return repeats.collapse_repeats(clean.clean_document(sources.read_document(SEED[key])))


@pytest.mark.parametrize("key", sorted(SEED))
def test_seed_chrome_is_stripped(key):
    doc = cleaned(key)
    assert doc.accepted
    for phrase in CHROME:
        assert phrase not in doc.text


def test_seed_metadata():
    assert cleaned("000").title == "Russia Warns Pentagon: Don't Deploy Troops In Central Asia Near Afghanistan"
    assert cleaned("001").title == "Russia Warns Against US Military Presence in Central Asia Near Afghanistan"
    assert cleaned("003").title == "Kremlin Is Worried US Troops Might Actually Leave Afghanistan"
    assert cleaned("004").title == "Russia Opposes Possible US Military Deployment in Central Asia"
    assert cleaned("000").byline == "Tyler Durden"
    assert cleaned("001").byline == "Dave DeCamp"
    assert cleaned("000").published_at == date(2021, 7, 14)
    assert cleaned("002").title is None  # 002 starts straight with its body


def test_hard_wrapped_lines_are_rejoined():
    doc = cleaned("002")
    assert "strongly warned the United States against deploying" in doc.text
    # paragraphs are re-formed, not the whole file glued into one
    assert 5 < len(doc.units) < 40


def test_removed_spans_point_into_raw_text():
    doc = cleaned("003")
    assert doc.removed
    for span in doc.removed:
        assert doc.raw_text[span.start:span.end] == span.text
    reasons = {s.reason for s in doc.removed}
    assert {"related_links", "photo_credit", "metadata_title"} <= reasons


def test_unicode_normalisation_and_mojibake():
    assert clean.normalise("a\u00a0b\u2009c  d\u200b") == "a b c d"
    # UTF-8 read as cp1252 is repaired; curly quotes are kept (NFC, not uncurled)
    broken = "“Itâ€™s done,â€ he said".encode("utf-8").decode("utf-8")
    assert clean.normalise("itâ€™s") == "it’s"
    assert "’" in clean.normalise(broken)
    assert clean.normalise("Tom &amp; Jerry&#8217;s") == "Tom & Jerry’s"
    assert clean.normalise("ﬁne") == "ﬁne"  # NFC keeps ligatures; the matcher folds them (NFKC)


def _doc_from(text, tmp_path):
    p = tmp_path / "x.txt"
    p.write_text(text)
    return repeats.collapse_repeats(clean.clean_document(sources.read_document(p)))


BODY = ("The city council approved the new transit budget on Monday after a long debate about bus routes. "
        "Officials said the plan adds twelve routes and extends service hours on weekends across the region.")


def test_general_chrome_rules_not_just_seed_strings(tmp_path):
    text = "\n\n".join([
        "Menu", "Search", "Sign in", "Local News", "Transit budget approved after marathon session",
        "By Maria Lopez | Staff Writer", "March 3, 2023 at 4:15 p.m. EST", "Photo: John Doe/Getty Images",
        BODY, BODY.replace("council", "board"),
        "Advertisement", "Share on Facebook", "Read more:", "Mayor opens new library", "Schools close early",
        "Sign up for our daily newsletter and get the news in your inbox",
        "Maria Lopez is a staff reporter covering city hall. Follow her on Twitter @mlopez.",
    ])
    doc = _doc_from(text, tmp_path)
    assert doc.title == "Transit budget approved after marathon session"
    assert doc.byline == "Maria Lopez"
    assert doc.published_at == date(2023, 3, 3)
    assert "The city council approved" in doc.text and "The city board approved" in doc.text
    for junk in ("Menu", "Sign in", "Getty", "Advertisement", "Facebook", "library", "newsletter", "Follow her"):
        assert junk not in doc.text


def test_text_without_article_is_rejected(tmp_path):
    doc = _doc_from("Home\n\nMenu\n\nShare this post\n\nLogin", tmp_path)
    assert doc.reject_reason == clean.NO_ARTICLE_TEXT


def test_flattened_page_is_split_into_sentences(tmp_path):
    flat = " ".join([BODY] * 1 + [f"Sentence {i} explains another detail of the plan in plain words." for i in range(60)])
    doc = _doc_from(flat, tmp_path)
    assert len(doc.units) > 10
    for u in doc.units:
        assert doc.raw_text[u.start:u.end].strip()


# Headline rules: lines that only look like a headline must never become the title.

def test_newsletter_source_line_is_not_the_headline(tmp_path):
    # a forwarded newsletter: "From the ... newsletter" sits where a headline would
    text = "\n\n".join(["From the Riverside Courier newsletter", "Transit budget approved after a long and bitter marathon session",
                        BODY, "From May the council will also post every resident a printed newsletter.", BODY])
    doc = _doc_from(text, tmp_path)
    assert doc.title == "Transit budget approved after a long and bitter marathon session"
    assert [s.reason for s in doc.removed if "Courier" in s.text] == ["newsletter_prompt"]
    assert "marathon session" not in doc.text  # the headline is lifted out, not left in the body
    assert "printed newsletter" in doc.text  # a body sentence about a newsletter stays


def test_email_subject_line_is_not_the_headline(tmp_path):
    text = "\n\n".join(["Fwd: Transit budget approved after a long and bitter marathon session",
                        "Transit budget approved after a long and bitter marathon session", BODY, BODY])
    doc = _doc_from(text, tmp_path)
    assert doc.title == "Transit budget approved after a long and bitter marathon session"
    assert [s.reason for s in doc.removed if s.text.startswith("Fwd:")] == ["email_header"]
    assert "marathon session" not in doc.text


def test_email_subject_names_the_headline_when_the_page_has_none(tmp_path):
    doc = _doc_from("\n\n".join(["RE: Fwd: Transit budget approved after marathon session", BODY, BODY]), tmp_path)
    assert doc.title == "Transit budget approved after marathon session"
    assert "marathon" not in doc.text


def test_prompt_between_headline_and_byline_is_skipped(tmp_path):
    # the headline sits above the byline, a newsletter prompt or a promoted story between them
    for prompt in ("Sign up to the Riverside Courier briefing", "Latest news: Mayor opens new library"):
        doc = _doc_from("\n\n".join(["Local News", "Transit budget approved after marathon session", prompt,
                                      "By Maria Lopez", "March 3, 2023", BODY, BODY]), tmp_path)
        assert doc.title == "Transit budget approved after marathon session", prompt
        assert doc.byline == "Maria Lopez"
        assert "Riverside" not in doc.text and "library" not in doc.text


def test_headlines_closing_the_page_are_a_related_block_and_the_bio_above_them_goes(tmp_path):
    body = ("The council approved the new budget on Tuesday after a long debate about the cost of "
            "repairing the old bridge, which has been closed to traffic since the spring floods.")
    related = ["Storm leaves thousands without power", "Harbour Wolves stunned in cup upset",
               "Parents angry over school closures"]
    text = "\n\n".join(["Council approves bridge budget", "By Ann Lee", body, body.replace("Tuesday", "Monday"),
                        "Ann Lee is a senior reporter at the Gazette covering local politics.", *related])
    doc = clean.clean_document(_doc_from(text, tmp_path))
    reasons = {r.text: r.reason for r in doc.removed}
    assert all(reasons[h] == "related_links" for h in related)
    assert reasons["Ann Lee is a senior reporter at the Gazette covering local politics."] == "author_bio"
    assert doc.text.endswith("spring floods.")
    # two headline-like lines at the end are not enough to call them a related block, but
    # they stand past the main body block, so a text page loses them all the same
    doc = clean.clean_document(_doc_from("\n\n".join(["Council approves bridge budget", "By Ann Lee", body,
                                                      body, *related[:2]]), tmp_path))
    reasons = {r.text: r.reason for r in doc.removed}
    assert doc.text.endswith("spring floods.") and reasons[related[1]] == "bottom_chrome"
