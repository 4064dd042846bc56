"""Property-based tests (hypothesis) for the read and clean stages: they never raise on any
bytes or any text, cleaning is idempotent, and what cleaning keeps plus what it records as
removed accounts for the whole input."""
import string

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from pipeline import chrome, clean, dedup, sources
from pipeline import text as text_model
from pipeline.model import Doc

FEW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text that looks like scraped news as often as like noise: words, line breaks, entities,
# controls, invisible characters, other scripts.
_PIECES = st.sampled_from([
    "The council voted on the budget. ", "By Jane Doe", "Share this article", "\n", "\n\n", "\r\n", " ",
    "\x00", "\x0b", "\x1b[31m", "\x7f", "\x85", "\u00ad", "\u200b", "\ufeff", "&amp;", "&#8217;", "Ã©", "“quoted”",
    "中文新闻报道。", "ข่าวภาษาไทย", "한국어 기사", "Related articles", "July 14, 2021", "word " * 5, "-\n",
])
NEWSY = st.lists(st.one_of(_PIECES, st.text(max_size=20)), max_size=60).map("".join)


def _doc(raw: str) -> Doc:
    return Doc("id", "/x/doc.txt", "x", "sha", len(raw.encode("utf-8", "surrogatepass")), raw_text=raw)


@FEW
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".txt", ".html", ".md"]))
def test_read_and_clean_never_raise_on_any_bytes(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("b") / f"doc{suffix}"
    path.write_bytes(data)
    doc = sources.read_document(path)
    assert doc.doc_id == sources.identify(path)
    chrome.strip_batch([doc])
    clean.clean_document(doc)
    if doc.accepted:
        dedup.fingerprint([doc.text], dedup.DedupParams())


@FEW
@given(raw=st.one_of(st.text(max_size=1500), NEWSY))
def test_clean_never_raises_and_its_text_holds_no_control_or_invisible_characters(raw):
    doc = clean.clean_document(_doc(raw))
    text = doc.text
    assert not text_model.CONTROL.search(text) and not text_model.ZERO_WIDTH.search(text)
    assert not (doc.title and (text_model.CONTROL.search(doc.title) or text_model.ZERO_WIDTH.search(doc.title)))
    dedup.fingerprint([text], dedup.DedupParams())


@FEW
@given(raw=st.one_of(st.text(max_size=1500), NEWSY))
def test_kept_text_and_removed_spans_account_for_the_input(raw):
    """Every raw character that is not white space lies in a kept paragraph's raw range or in a
    removed span, or is an invisible character (soft hyphen, zero-width) that normalisation
    drops without a record."""
    doc = _doc(raw)
    chrome.strip_batch([doc], min_docs=1)
    clean.clean_document(doc)
    covered = [False] * len(raw)
    for a, b in [(u.start, u.end) for u in doc.units] + [(r.start, r.end) for r in doc.removed]:
        covered[a:b] = [True] * (b - a)
    for r in doc.removed:
        assert raw[r.start:r.end] == r.text
    lost = [c for c, seen in zip(raw, covered) if not seen and not c.isspace() and not text_model.ZERO_WIDTH.match(c)]
    assert not lost, lost


@FEW
@given(text=st.one_of(st.text(max_size=500), NEWSY))
def test_normalise_is_idempotent(text):
    # entities are decoded once by design: "&amp;amp;" -> "&amp;" stays (see clean's docstring)
    assume("&" not in text)
    once = text_model.normalise(text)
    assert text_model.normalise(once) == once


@FEW
@given(raw=st.one_of(st.text(max_size=1500), NEWSY))
@example(raw="\xa0Â¡")  # found by hypothesis: ftfy saw the no-break space the kept text lost
def test_cutting_the_clean_text_into_paragraphs_again_changes_nothing(raw):
    """Cleaning's text model is idempotent: the clean paragraphs, joined as stored (blank
    lines between them), come back as the same paragraphs. (A stored paragraph longer than
    text_model.LONG_LINE would be cut into sentences, so inputs stay below it.)"""
    assume("&" not in raw and len(raw) < text_model.LONG_LINE)
    first = [u.text for u in text_model.paragraphs(raw)]
    assert [u.text for u in text_model.paragraphs("\n\n".join(first))] == first


@settings(max_examples=60, deadline=None)
@given(words=st.lists(st.text(alphabet=string.ascii_letters, min_size=1, max_size=8), min_size=30, max_size=80))
def test_latin_text_has_no_invisible_effect_on_matching(words):
    """A copy with soft hyphens and zero-width spaces inside its words is the same text to the matcher."""
    text = " ".join(words)
    hidden = " ".join(w[:1] + "\u00ad" + w[1:] if len(w) > 2 else w + "\u200b" for w in words)
    assert text_model.fold(hidden) == text_model.fold(text)
