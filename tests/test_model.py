"""pipeline/model.py: the in-flight records; removed spans point into the raw text."""
from pipeline.model import Doc, Unit


def test_a_removed_unit_is_recorded_with_its_raw_text_and_what_it_repeats():
    raw = "Top\u00a0story\n\nBody text here.\n\nTop\u00a0story"
    doc = Doc("d", "p", "s", "h", len(raw), raw_text=raw)
    first, last = Unit(0, 9, "Top story"), Unit(28, 37, "Top story")
    assert raw[last.start:last.end] == "Top\u00a0story"
    doc.remove(last, "repeats", "repeat", repeat_of=first)
    span = doc.removed[0]
    assert (span.start, span.end, span.text) == (28, 37, "Top\u00a0story")  # raw, not normalised
    assert (span.repeat_of_start, span.repeat_of_end) == (0, 9)
    assert doc.accepted
    doc.reject_reason = "too_short"
    assert not doc.accepted
