"""Chrome stage (pipeline/chrome.py): site chrome learnt across the documents of one source."""
from pathlib import Path

import numpy as np

from pipeline import chrome
from pipeline.sources import read_document

FIXTURES = Path(__file__).parent / "fixtures"


def _docs(folder: Path):
    return [read_document(p) for p in sorted(folder.glob("*.txt"))]


def test_short_chrome_line_without_a_chrome_gram_is_removed_not_a_crash():
    # Four articles of one folder share "subscribe now", a line of under 8 words: it is
    # chrome by its sentence key, but no 8-word gram is. This used to raise IndexError in
    # _Source.cut and cost the whole drop (shared/repro/chrome-indexerror).
    docs = _docs(FIXTURES / "chrome_short_line")
    learnt = chrome.strip_batch(docs)
    assert learnt, "the shared line is learnt as chrome"
    for d in docs:
        assert d.accepted
        assert "subscribe now" not in d.text
        assert any(r.stage == "chrome" and r.text == "subscribe now" for r in d.removed)


def test_short_chrome_line_learnt_earlier_cleans_a_one_file_drop():
    # once learnt, the line must also be cut from a later one-file drop of the source
    docs = _docs(FIXTURES / "chrome_short_line")
    learnt = chrome.strip_batch(docs)
    [later] = _docs(FIXTURES / "chrome_short_line")[:1]
    chrome.strip_batch([later], known={k: np.sort(v) for k, v in learnt.items()})
    assert later.accepted and "subscribe now" not in later.text


def test_a_comments_heading_that_recurs_is_left_to_end_the_article():
    # Four real pages of one folder (two dailycaller.com, two pewresearch.org, flattened a line
    # per block) share the line "Leave a Comment" under their articles: chrome by the sentence
    # key. Cut alone, it left pewresearch.org1's 24 readers' comments looking like body text
    # (the drop kept 2,637 words of a ~800-word article); left for the clean stage, the article
    # ends there.
    from pipeline import clean

    docs = _docs(FIXTURES / "real_pages" / "leave_a_comment")
    chrome.strip_batch(docs)
    pew = next(d for d in docs if d.source_path.endswith("pewresearch.org1.lines.txt"))
    assert any(u.text == "Leave a Comment" for u in pew.units)
    clean.clean_document(pew)
    assert pew.text.endswith("He has taken executive action.")
    assert "MA Sullivan" not in pew.text and "24 Comments" not in pew.text
