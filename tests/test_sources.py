import pytest

from pipeline import sources


def test_discover_recurses_sorted_and_skips_hidden(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.txt").write_text("x")
    (tmp_path / "y.txt").write_text("y")
    (tmp_path / ".hidden.txt").write_text("h")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "z.txt").write_text("z")
    found = sources.discover([tmp_path])
    assert [p.name for p in found] == ["x.txt", "y.txt"]


def test_discover_missing_path_is_a_clear_error(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        sources.discover([tmp_path / "nope"])


def test_bad_inputs_get_reasons(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_bytes(b"  \n\n ")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "big.txt").write_bytes(b"word " * 1000)
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    docs = {p.name: sources.read_document(p, max_bytes=4000) for p in sorted(tmp_path.iterdir())}
    assert docs["empty.txt"].reject_reason == sources.EMPTY
    assert docs["blank.txt"].reject_reason == sources.EMPTY
    assert docs["binary.txt"].reject_reason == sources.BINARY
    assert docs["big.txt"].reject_reason == sources.TOO_LARGE
    assert docs["photo.jpg"].reject_reason == sources.UNSUPPORTED
    assert all(d.content_sha256 and d.doc_id for d in docs.values())


@pytest.mark.parametrize("text, encoding", [
    ("Café in Zürich – “quoted”", "cp1252"),    # not UTF-8: decoded, the encoding recorded
    ("Grüße aus Köln – “news”", "utf-16"),      # UTF-16 with its BOM is text, not binary
], ids=["cp1252", "utf16_bom"])
def test_non_utf8_text_is_decoded_and_encoding_recorded(tmp_path, text, encoding):
    p = tmp_path / "doc.txt"
    p.write_bytes(text.encode(encoding))
    doc = sources.read_document(p)
    assert doc.accepted and doc.encoding == encoding
    assert doc.raw_text == text


def test_same_bytes_same_path_same_id_other_path_other_id(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("same text")
    b.write_text("same text")
    da, db = sources.read_document(a), sources.read_document(b)
    assert da.content_sha256 == db.content_sha256
    assert da.doc_id != db.doc_id
    assert sources.read_document(a).doc_id == da.doc_id


def test_html_goes_through_trafilatura(tmp_path):
    body = " ".join(f"Sentence number {i} of the report says the council voted on the budget." for i in range(12))
    html = (f"<html><head><title>Council passes budget</title></head><body><nav><a href='/'>Home</a>"
            f"<a href='/news'>News</a></nav><article><h1>Council passes budget</h1><p>{body}</p></article>"
            f"<footer>Copyright 2024 Example Gazette</footer></body></html>")
    (tmp_path / "page.html").write_text(html)
    (tmp_path / "empty.html").write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    doc = sources.read_document(tmp_path / "page.html")
    assert doc.accepted and doc.fmt == "html"
    assert "council voted on the budget" in doc.raw_text
    assert "Copyright" not in doc.raw_text
    assert doc.title == "Council passes budget"
    from pipeline import clean

    # a page of links only: trafilatura finds nothing, or so little that cleaning rejects it
    empty = clean.clean_document(sources.read_document(tmp_path / "empty.html"))
    assert empty.reject_reason in (sources.HTML_NO_TEXT, clean.NO_ARTICLE_TEXT)
