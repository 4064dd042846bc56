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


def test_discover_never_lists_what_lies_in_a_skipped_folder(tmp_path):
    (tmp_path / "warehouse" / "data").mkdir(parents=True)
    (tmp_path / "warehouse" / "data" / "articles-1.parquet").write_bytes(b"PAR1")
    (tmp_path / "warehouse" / "quarantine.json").write_text("[]")
    (tmp_path / "story.txt").write_text("s")
    skip = [tmp_path / "warehouse"]
    assert [p.name for p in sources.discover([tmp_path], skip=skip)] == ["story.txt"]
    # named one by one (as `newsfold serve` names its inbox files), they are dropped too
    named = [tmp_path / "story.txt", tmp_path / "warehouse" / "quarantine.json", tmp_path / "warehouse"]
    assert [p.name for p in sources.discover(named, skip=skip)] == ["story.txt"]


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
    from pipeline import clean, schema

    # a page of links only: trafilatura finds nothing, or so little that cleaning rejects it
    empty = clean.clean_document(sources.read_document(tmp_path / "empty.html"))
    assert empty.reject_reason in (sources.HTML_NO_TEXT, schema.NO_ARTICLE_TEXT)


# --- hostile paths: every one becomes a record with a reason, none raises or blocks ---

def _hostile_folder(tmp_path):
    """A drop folder with one good file and a path of every awkward kind, plus a file outside it."""
    import os

    drop, outside = tmp_path / "drop", tmp_path / "outside"
    drop.mkdir()
    outside.mkdir()
    (outside / "private.txt").write_text("private text that must stay private")
    (drop / "good.txt").write_text("good text")
    os.mkfifo(drop / "pipe.txt")
    (drop / "a.txt").symlink_to("b.txt")
    (drop / "b.txt").symlink_to("a.txt")
    (drop / "broken.txt").symlink_to("missing.txt")
    (drop / "leak.txt").symlink_to(outside / "private.txt")
    (drop / "outdir").symlink_to(outside)
    (drop / "inner.txt").symlink_to("good.txt")
    (drop / "zero.txt").symlink_to("/dev/zero")
    (tmp_path / "drop" / os.fsdecode(b"caf\xe9.txt")).write_text("latin-1 named file")
    return drop


def test_hostile_paths_get_reasons_without_opening_them(tmp_path):
    drop = _hostile_folder(tmp_path)
    docs = {d.source_path.rsplit("/", 1)[1]: d for d in map(sources.read_document, sources.discover([drop]))}
    assert docs["good.txt"].accepted
    assert docs["pipe.txt"].reject_reason == sources.NOT_REGULAR  # a FIFO: opening it would block
    assert docs["a.txt"].reject_reason == docs["b.txt"].reject_reason == sources.UNREADABLE
    assert docs["a.txt"].error == "symlink loop"
    assert docs["broken.txt"].reject_reason == sources.UNREADABLE and "broken symlink" in docs["broken.txt"].error
    assert docs["leak.txt"].reject_reason == sources.SYMLINK_OUTSIDE and not docs["leak.txt"].raw_text
    assert docs["outdir"].reject_reason == sources.SYMLINK_OUTSIDE
    assert docs["zero.txt"].reject_reason == sources.SYMLINK_OUTSIDE
    assert "inner.txt" not in docs  # a link inside the inputs is its target, read once
    # the undecodable name is stored as valid UTF-8 with the bad byte escaped, and read
    assert docs["caf\\xe9.txt"].accepted and docs["caf\\xe9.txt"].raw_text == "latin-1 named file"
    assert all(d.source_path.encode("utf-8") and d.doc_id for d in docs.values())
    for path in sources.discover([drop]):  # identify gives read_document's id, without blocking either
        assert sources.identify(path) == sources.read_document(path).doc_id


def test_follow_symlinks_reads_outside_targets_but_never_a_device(tmp_path):
    drop = _hostile_folder(tmp_path)
    docs = {d.source_path: d for d in map(sources.read_document, sources.discover([drop], follow_symlinks=True))}
    private = str((tmp_path / "outside" / "private.txt").resolve())
    assert docs[private].accepted and "private text" in docs[private].raw_text
    assert docs["/dev/zero"].reject_reason == sources.NOT_REGULAR  # an endless stream, never read
    assert docs[str(drop.resolve() / "a.txt")].reject_reason == sources.UNREADABLE


def test_a_named_fifo_is_recorded_not_read(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.txt")
    assert sources.discover([tmp_path / "pipe.txt"]) == [(tmp_path / "pipe.txt").resolve()]
    assert sources.read_document(tmp_path / "pipe.txt").reject_reason == sources.NOT_REGULAR


def test_size_limit_is_enforced_while_reading(tmp_path, monkeypatch):
    import os

    p = tmp_path / "grows.txt"
    p.write_bytes(b"word " * 100)
    real_lstat = os.lstat
    # the file looks small when checked, then turns out longer when read (it grew)
    monkeypatch.setattr(sources.os, "lstat", lambda path: os.stat_result(
        (*real_lstat(path)[:6], 10, *real_lstat(path)[7:])) if str(path) == str(p) else real_lstat(path))
    reads = []
    real_open = open

    def spy_open(fd, *args, **kwargs):
        f = real_open(fd, *args, **kwargs)
        read = f.read
        f.read = lambda n=-1: reads.append(n) or read(n)
        return f

    monkeypatch.setattr("builtins.open", spy_open)
    doc = sources.read_document(p, max_bytes=100)
    assert doc.reject_reason == sources.TOO_LARGE
    assert reads == [101]  # never more than the limit + 1


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_decoded(tmp_path, codec):
    text = "Grüße aus Köln: the council met on Tuesday and voted on the budget.\n" * 5
    p = tmp_path / "doc.txt"
    p.write_bytes(text.encode(codec))
    doc = sources.read_document(p)
    assert doc.accepted and doc.encoding == codec and doc.raw_text == text


def test_binary_with_nul_bytes_is_still_binary(tmp_path):
    import random

    rng = random.Random(0)
    p = tmp_path / "blob.txt"
    p.write_bytes(bytes(rng.randrange(256) for _ in range(4000)))
    assert sources.read_document(p).reject_reason == sources.BINARY


def test_a_page_without_text_is_rejected_without_trafilatura_warning_on_the_terminal(tmp_path, caplog):
    import logging

    page = tmp_path / "empty.html"
    page.write_text("<html><head><title>x</title></head><body><div></div></body></html>")
    with caplog.at_level(logging.WARNING):
        doc = sources.read_document(page)
    assert doc.reject_reason
    assert not [r for r in caplog.records if r.name.startswith("trafilatura")]
