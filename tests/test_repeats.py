import random
import re

from conftest import SEED
from pipeline import clean, repeats, sources, text
from pipeline.model import Doc, Unit


def test_seed_004_second_copy_collapsed():
    doc = repeats.collapse_repeats(clean.clean_document(sources.read_document(SEED["004"])))
    phrase = "Russian Foreign Minister Sergey Lavrov said that the presence of over 100,000"
    assert doc.raw_text.count(phrase) == 2
    assert doc.text.count(phrase) == 1
    reps = [s for s in doc.removed if s.stage == "repeats"]
    assert len(reps) >= 9
    for s in reps:
        assert s.repeat_of_start is not None and s.repeat_of_start < s.start
        # the removed span repeats the span it points at (modulo spacing/NBSP)
        assert repeats.paragraph_key(doc.raw_text[s.start:s.end]) == repeats.paragraph_key(doc.raw_text[s.repeat_of_start:s.repeat_of_end])
    # the repeated title is recognised as a repeat of the title line
    assert any(s.text.startswith("Russia Opposes Possible") for s in reps)


def _doc(paragraphs):
    raw, units, pos = "", [], 0
    for p in paragraphs:
        units.append(Unit(pos, pos + len(p), p))
        raw += p + "\n\n"
        pos = len(raw)
    return Doc("d", "p", "s", "h", len(raw), raw_text=raw, units=units)


def test_short_repeats_alone_are_kept_but_not_inside_repeated_blocks():
    long_a = "Alpha paragraph with enough words to count as a real repeat of text."
    long_b = "Beta paragraph also has enough words to count as a real repeat here."
    doc = repeats.collapse_repeats(_doc(["Yes.", long_a, "Yes.", "No.", long_b, "No.", long_a, long_b]))
    kept = [u.text for u in doc.units]
    assert kept == ["Yes.", long_a, "Yes.", "No.", long_b]
    assert [s.text for s in doc.removed] == ["No.", long_a, long_b]


def test_no_repeats_no_change():
    doc = repeats.collapse_repeats(_doc(["One two three four five six seven.", "Eight nine ten eleven twelve."]))
    assert len(doc.units) == 2 and not doc.removed


def test_paragraph_key_is_the_regex_on_the_folded_text():
    # the byte-table shortcuts of paragraph_key stand in for this substitution
    def reference(t: str) -> str:
        return re.sub(r"[\W_]+", " ", text.fold(t)).strip()

    rnd = random.Random(7)
    samples = [f"a{chr(c)}b {chr(c)}" for c in list(range(0x3000)) + [0xD800, 0xFEFF, 0xFF10, 0x1D400, 0x20000]]
    samples += ["".join(chr(rnd.choice((rnd.randrange(0x80), rnd.randrange(0x80, 0x3000), rnd.randrange(0x110000))))
                        for _ in range(rnd.randrange(30))) for _ in range(3000)]
    samples += ["‘Quoted’ — text", "Ünïcödé  words_here", "ǅ ß ﬁ İ ı ſ K Σ ΣΑ ①½ ٣ ⅷ \u0301a a\u00adb \xa0x"]
    for t in samples:
        assert repeats.paragraph_key(t) == reference(t), repr(t)
