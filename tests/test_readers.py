"""Container inputs: JSONL, CSV/TSV and WARC records as documents, gzipped drops, parts of big
files, record-level re-ingest and the canonical-URL duplicate signal."""
import gzip
import io
import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import SEED
from pipeline import dedup, readers, schema, sources
from pipeline.config import IngestConfig
from pipeline.drop import process_batch, stage_batch
from pipeline.readers import FieldMap, Part

P = dedup.DedupParams()
BODY = SEED["000"].read_text(encoding="utf-8")
PARAGRAPHS = [p.strip() for p in BODY.split("\n\n")[3:] if len(p.split()) > 12]


def words(n: int, seed: int = 0) -> str:
    return " ".join(f"w{(i * 7919 + seed) % 5003}" for i in range(n))


def news_please(line: int, **extra) -> dict:
    rec = {"authors": ["Jane Roe", "John Doe"], "date_publish": "2021-07-14 22:00:00",
           "date_download": "2021-07-15T01:02:03", "source_domain": "example.com",
           "title": f"Headline number {line}", "url": f"https://www.example.com/story-{line}?utm_source=feed",
           "text": f"Paragraph {line}. " + words(80, line)}
    rec.update(extra)
    return rec


def write_jsonl(path: Path, lines: list) -> Path:
    with (gzip.open(path, "wt", encoding="utf-8") if path.suffix == ".gz" else open(path, "w", encoding="utf-8")) as fh:
        for rec in lines:
            fh.write((rec if isinstance(rec, str) else json.dumps(rec)) + "\n")
    return path


def read_all(path, fields=FieldMap(), max_bytes=sources.DEFAULT_MAX_BYTES):
    return list(readers.read_part(Part(str(path)), fields, max_bytes))


# --- JSONL -------------------------------------------------------------------------------------

def test_jsonl_bad_lines_are_rejected_alone_with_their_line_number(tmp_path):
    path = write_jsonl(tmp_path / "export.jsonl", [
        news_please(1), '{"text": "cut off', "", news_please(4, text=["not", "a", "string"]),
        news_please(5, text=None), "[1, 2]", news_please(7)])
    docs = read_all(path)
    assert [d.source_uri.rsplit("#", 1)[1] for d in docs] == ["L1", "L2", "L4", "L5", "L6", "L7"]
    reasons = {d.source_uri.rsplit("#", 1)[1]: (d.reject_reason, d.error) for d in docs}
    assert reasons["L1"] == reasons["L7"] == (None, None)
    assert reasons["L2"][0] == "invalid_json" and reasons["L2"][1].startswith("line 2: ")
    assert reasons["L4"] == ("wrong_field_type", "line 4: 'text' is list, not a string")
    assert reasons["L5"] == ("no_text_field", "line 5: no 'text' or 'html' field")
    assert reasons["L6"] == ("not_a_json_object", "line 6")
    assert len({d.doc_id for d in docs}) == 6


def test_jsonl_reads_news_please_records_as_they_are(tmp_path):
    doc, = read_all(write_jsonl(tmp_path / "np.jsonl", [news_please(1)]))
    assert (doc.fmt, doc.source_path, doc.source_uri) == ("jsonl", str(tmp_path / "np.jsonl"),
                                                          f"{tmp_path / 'np.jsonl'}#L1")
    assert doc.title == "Headline number 1" and doc.byline == "Jane Roe, John Doe"
    assert str(doc.published_at) == "2021-07-14" and doc.fetched_at.isoformat() == "2021-07-15T01:02:03+00:00"
    assert doc.url == "https://www.example.com/story-1?utm_source=feed"
    assert doc.canonical_url == "example.com/story-1"
    assert doc.source_name == "example.com" and doc.raw_text.startswith("Paragraph 1.")


def test_newer_news_please_records_keep_the_body_in_maintext(tmp_path):
    rec = news_please(1, text=None, maintext="The body as news-please writes it now. " + words(60))
    doc, = read_all(write_jsonl(tmp_path / "np.jsonl", [rec]))
    assert doc.reject_reason is None and doc.raw_text.startswith("The body as news-please writes it now.")
    # a text field the user names is read alone: maintext is news-please's, not a general fallback
    doc, = read_all(write_jsonl(tmp_path / "other.jsonl", [rec]), FieldMap(text="body"))
    assert doc.reject_reason == "no_text_field"


# --- JSON files ----------------------------------------------------------------------------------

def test_a_json_file_of_one_article_as_news_please_writes_it(tmp_path):
    path = tmp_path / "page.html.json"
    path.write_text(json.dumps(news_please(1, text=None, maintext="Body. " + words(60))), encoding="utf-8")
    doc, = read_all(path)
    assert (doc.fmt, doc.source_uri, doc.reject_reason) == ("json", f"{path}#R1", None)
    assert doc.title == "Headline number 1" and doc.byline == "Jane Roe, John Doe"
    assert doc.canonical_url == "example.com/story-1" and doc.raw_text.startswith("Body. ")


@pytest.mark.parametrize("layout", ["array", "json lines", "array, gzipped"])
def test_a_json_array_or_json_lines_in_a_json_file_are_one_document_per_record(tmp_path, layout):
    recs = [news_please(1), news_please(2), [1, 2], news_please(4, text=7)]
    if layout == "json lines":
        path = tmp_path / "export.json"
        path.write_text("\n".join(json.dumps(r) for r in recs), encoding="utf-8")
    else:
        path = tmp_path / ("items.json.gz" if "gzipped" in layout else "items.json")
        data = ("\ufeff  [\n" + ",\n".join(json.dumps(r) for r in recs) + "\n]\n").encode()  # with a BOM
        path.write_bytes(gzip.compress(data) if "gzipped" in layout else data)
    docs = read_all(path)
    assert [d.source_uri.rsplit("#", 1)[1] for d in docs] == ["R1", "R2", "R3", "R4"]
    assert [d.reject_reason for d in docs] == [None, None, "not_a_json_object", "wrong_field_type"]
    assert docs[3].error == "record 4: 'text' is int, not a string"
    assert [d.raw_text for d in docs[:2]] == [r["text"] for r in recs[:2]]
    assert len({d.doc_id for d in docs}) == 4
    assert [d.doc_id for d in read_all(path)] == [d.doc_id for d in docs]  # read again: the same ids


def test_a_json_file_that_stops_parsing_keeps_the_records_before_it(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text("[" + json.dumps(news_please(1)) + "," + json.dumps(news_please(2))[:40], encoding="utf-8")
    docs = read_all(path)
    assert [d.reject_reason for d in docs] == [None, "invalid_json"]
    assert docs[1].source_uri.endswith("#R2") and docs[1].error.startswith("record 2: ")
    (tmp_path / "scalar.json").write_text("42")
    (tmp_path / "blank.json").write_text(" \n")
    (tmp_path / "bad-utf8.json").write_bytes(b'{"text": "caf\xe9"}')
    assert [(d.reject_reason, d.error) for d in read_all(tmp_path / "scalar.json")] == [
        ("invalid_json", "not a JSON object or array")]
    assert read_all(tmp_path / "blank.json") == []
    bad, = read_all(tmp_path / "bad-utf8.json")
    assert bad.reject_reason == "invalid_json" and bad.error.startswith("record 1: ")


def test_a_json_record_the_warehouse_holds_is_skipped_before_it_is_read(tmp_path):
    path = tmp_path / "items.json"
    path.write_text(json.dumps([news_please(1), news_please(2)]), encoding="utf-8")
    first, second = read_all(path)
    again = list(readers.read_part(Part(str(path)), skip_ids={first.doc_id}))
    assert again[0] is None and again[1].doc_id == second.doc_id


# --- Parquet -------------------------------------------------------------------------------------

def write_parquet(path: Path, records: list[dict], row_group_size: int = 2) -> Path:
    import datetime

    import pyarrow as pa

    rows = [{**r, "date_publish": datetime.datetime(2021, 7, 14, 22, 0)} for r in records]
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=row_group_size)
    return path


def test_parquet_rows_are_documents_and_big_files_are_cut_at_row_groups(tmp_path):
    recs = [news_please(i, text=words(300, i)) for i in range(1, 8)]
    path = write_parquet(tmp_path / "cc-news.parquet", recs)
    docs = read_all(path)
    assert [d.source_uri.rsplit("#", 1)[1] for d in docs] == [f"R{i}" for i in range(1, 8)]
    assert {(d.fmt, d.reject_reason) for d in docs} == {("parquet", None)}
    assert [d.raw_text for d in docs] == [r["text"] for r in recs]
    assert str(docs[0].published_at) == "2021-07-14" and docs[0].byline == "Jane Roe, John Doe"  # a timestamp column
    parts = readers.split_parts(str(path), part_bytes=1)
    assert len(parts) == 4  # row groups of 2, 2, 2 and 1 rows
    pieces = [d for part in parts for d in readers.read_part(part)]
    assert [(d.doc_id, d.source_uri) for d in pieces] == [(d.doc_id, d.source_uri) for d in docs]
    known = list(readers.read_part(Part(str(path)), skip_ids={docs[1].doc_id}))
    assert known[1] is None and known[2].doc_id == docs[2].doc_id


def test_parquet_without_a_text_column_or_not_parquet_is_one_rejected_document(tmp_path):
    import pyarrow as pa

    pq.write_table(pa.table({"headline": ["a", "b"], "body": ["x", "y"]}), tmp_path / "other.parquet")
    doc, = read_all(tmp_path / "other.parquet")
    assert doc.reject_reason == "no_text_field" and doc.error == "no 'text' or 'html' column; it has: headline, body"
    assert [d.raw_text for d in read_all(tmp_path / "other.parquet", FieldMap(text="body"))] == ["x", "y"]
    (tmp_path / "fake.parquet").write_bytes(b"not parquet at all")
    doc, = read_all(tmp_path / "fake.parquet")
    assert doc.reject_reason == "unreadable" and doc.error.startswith("not a readable Parquet file")


def test_field_options_map_other_exports(tmp_path):
    rec = {"body": "Some body. " + words(60), "headline": "Other headline", "link": "https://x.org/a/b",
           "when": "2020-02-03", "uid": 42}
    fields = FieldMap(text="body", title="headline", url="link", date="when", id="uid")
    doc, = read_all(write_jsonl(tmp_path / "other.ndjson", [rec]), fields)
    assert (doc.title, doc.url, str(doc.published_at)) == ("Other headline", "https://x.org/a/b", "2020-02-03")
    # with an id field the record is known by its id, not its line: moving it keeps its doc_id
    moved, = [d for d in read_all(write_jsonl(tmp_path / "other.ndjson", [{"body": "x " * 30, "uid": 1}, rec]),
                                  fields) if d.title]
    assert moved.doc_id == doc.doc_id and moved.source_uri.endswith("#L2")
    assert read_all(tmp_path / "other.ndjson")[0].reject_reason == "no_text_field"  # default fields
    # the same id and bytes again: a line of its own, rejected (a doc_id never repeats)
    docs = read_all(write_jsonl(tmp_path / "dup.jsonl", [rec, rec]), fields)
    assert [d.reject_reason for d in docs] == [None, "duplicate_record_id"] and len({d.doc_id for d in docs}) == 2


def test_record_metadata_wins_over_what_cleaning_guesses(tmp_path):
    rec = {"title": "The Publisher's Headline", "authors": ["Ann Author"], "date_publish": "2021-07-20",
           "text": BODY}
    table = process_batch([str(write_jsonl(tmp_path / "a.jsonl", [rec]))], IngestConfig(dedup=P))
    row = table.to_pylist()[0]
    assert row["status"] == "accepted"
    assert (row["title"], row["byline"], str(row["published_at"])) == ("The Publisher's Headline", "Ann Author",
                                                                      "2021-07-20")
    # the same text as a file: cleaning finds the page's own headline and date
    plain = process_batch([SEED["000"]], IngestConfig(dedup=P)).to_pylist()[0]
    assert plain["title"].startswith("Russia Warns Pentagon") and str(plain["published_at"]) == "2021-07-14"


def test_html_field_is_extracted_like_an_html_file(tmp_path):
    html = ("<html><head><title>Page title</title><link rel='canonical' href='https://news.example.org/p/1'>"
            "</head><body><nav>Home | World</nav><article><h1>Page title</h1>"
            + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</article></body></html>")
    doc, = read_all(write_jsonl(tmp_path / "h.jsonl", [{"html": html, "url": "https://mirror.example.net/x"}]))
    assert doc.reject_reason is None and doc.fmt == "jsonl"
    assert "Home | World" not in doc.raw_text and PARAGRAPHS[0][:20] in doc.raw_text
    assert doc.canonical_url == "news.example.org/p/1"  # the page's canonical link wins over the record URL


def test_gzipped_jsonl_and_text(tmp_path):
    recs = [news_please(1), news_please(2)]
    plain = read_all(write_jsonl(tmp_path / "a.jsonl", recs))
    zipped = read_all(write_jsonl(tmp_path / "b.jsonl.gz", recs))
    assert [d.raw_text for d in zipped] == [d.raw_text for d in plain]
    assert [d.content_sha256 for d in zipped] == [d.content_sha256 for d in plain]
    (tmp_path / "c.txt.gz").write_bytes(gzip.compress(BODY.encode()))
    doc, = read_all(tmp_path / "c.txt.gz")
    assert doc.fmt == "text" and doc.raw_text == BODY and doc.reject_reason is None
    assert list(readers.read_part(Part(str(tmp_path / "c.txt.gz")), skip_ids={doc.doc_id})) == [None]
    whole = write_jsonl(tmp_path / "d.jsonl.gz", [news_please(i, text=words(400, i)) for i in range(300)])
    whole.write_bytes(whole.read_bytes()[:-100])  # a download cut short
    docs = read_all(tmp_path / "d.jsonl.gz")
    assert docs[-1].reject_reason == "unreadable" and "EOFError" in docs[-1].error and docs[0].reject_reason is None


def test_giant_line_is_rejected_without_losing_the_next(tmp_path):
    path = write_jsonl(tmp_path / "big.jsonl", [news_please(1, text=words(3000)), news_please(2)])
    docs = read_all(path, max_bytes=2000)
    assert (docs[0].reject_reason, docs[0].error) == ("too_large", "line 1") and docs[0].size_bytes > 2000
    assert docs[1].source_uri.endswith("#L2") and docs[1].reject_reason is None


# --- CSV / TSV ---------------------------------------------------------------------------------

def test_csv_with_embedded_newline_and_a_2mb_field(tmp_path):
    import csv

    big = words(360_000)
    assert len(big) > 2_000_000
    path = tmp_path / "export.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["title", "url", "text"])
        w.writerow(["First", "https://a.example/1", "Line one.\nLine two of the same article.\n" + words(40)])
        w.writerow(["Second", "https://a.example/2", big])
        w.writerow(["Third", "https://a.example/3"])  # a short row
    docs = read_all(path)
    assert [d.source_uri.rsplit("#", 1)[1] for d in docs] == ["L2", "L5", "L6"]
    assert docs[0].raw_text.startswith("Line one.\nLine two") and docs[0].title == "First"
    assert docs[1].raw_text == big and docs[1].reject_reason is None
    assert (docs[2].reject_reason, docs[2].error) == ("bad_csv_row", "line 6: 2 fields, header has 3")
    assert {d.fmt for d in docs} == {"csv"}


def test_tsv_gz(tmp_path):
    (tmp_path / "x.tsv.gz").write_bytes(gzip.compress(
        f"text\ttitle\n{words(50)}\tA title\n".encode()))
    doc, = read_all(tmp_path / "x.tsv.gz")
    assert doc.title == "A title" and doc.raw_text == words(50) and doc.source_uri.endswith("#L2")


# --- WARC --------------------------------------------------------------------------------------

def page_html(title: str, url: str | None = None) -> bytes:
    link = f"<link rel='canonical' href='{url}'>" if url else ""
    return (f"<html><head><title>{title}</title>{link}</head><body><nav>Home | World | Sport</nav>"
            f"<article><h1>{title}</h1>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
            + "</article><footer>Copyright</footer></body></html>").encode()


def write_warc(path: Path, gzipped: bool, truncate_last: bool = False) -> Path:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gzipped)

    def response(url, body, ctype, status="200 OK"):
        http = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))

    writer.write_record(writer.create_warcinfo_record("x.warc", {"software": "test"}))
    writer.write_record(writer.create_warc_record("https://example.com/story", "request",
                                                  payload=io.BytesIO(b"GET /story HTTP/1.1\r\n\r\n")))
    response("https://example.com/story?fbclid=abc", page_html("A story"), "text/html; charset=utf-8")
    response("https://example.com/logo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "image/png")
    response("https://example.com/old", b"", "text/html", status="301 Moved Permanently")
    writer.write_record(writer.create_revisit_record("https://example.com/story", digest="sha1:AAAA",
                                                     refers_to_uri="https://example.com/story",
                                                     refers_to_date="2020-01-01T00:00:00Z"))
    response("https://example.com/clipped", page_html("Clipped story"), "text/html")
    data = buf.getvalue()
    if truncate_last:
        data = data[:-400]  # the file ends inside the last record
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("gzipped", [False, True])
def test_warc_records(tmp_path, gzipped):
    docs = read_all(write_warc(tmp_path / ("a.warc.gz" if gzipped else "a.warc"), gzipped, truncate_last=True))
    reasons = [(d.url, d.reject_reason or "ok") for d in docs]
    assert reasons == [("https://example.com/story?fbclid=abc", "ok"), ("https://example.com/logo.png", "not_html"),
                       ("https://example.com/old", "http_status"), ("https://example.com/story", "warc_revisit"),
                       ("https://example.com/clipped", "truncated_record")]
    story = docs[0]
    assert story.fmt == "warc" and story.source_uri.startswith(f"{tmp_path}/a.warc") and "#<urn:uuid:" in story.source_uri
    assert story.fetched_at is not None and story.canonical_url == "example.com/story"
    assert PARAGRAPHS[1][:20] in story.raw_text and "Home | World" not in story.raw_text


def test_a_warc_that_ends_inside_record_headers_keeps_its_records_and_says_where(tmp_path):
    # a plain .warc cut inside a record's WARC headers (`head -c 40000` of a real one): warcio
    # raised AttributeError, and the file's batch gave an internal_error row (session 23)
    path = write_warc(tmp_path / "a.warc", gzipped=False)
    data = path.read_bytes()
    last = data.rindex(b"WARC/1.")
    path.write_bytes(data[:last + 60])
    docs = read_all(path)
    assert [d.reject_reason or "ok" for d in docs] == ["ok", "not_html", "http_status", "warc_revisit", "unreadable"]
    assert docs[-1].error.startswith(f"WARC at byte {last}: record headers cut short"), docs[-1].error


def test_real_clipped_warc_record_is_rejected_as_truncated():
    # a real crawl record whose payload is cut (see fixtures/warc/PROVENANCE.md)
    doc, = read_all(Path(__file__).parent / "fixtures" / "warc" / "clipped.warc.gz")
    assert doc.reject_reason == "truncated_record" and doc.url.startswith("http://www.houstonpress.com/")


def test_zip_of_a_drop_folder(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "drop.zip", "w") as z:
        z.writestr("gazette/story.txt", BODY)
        z.writestr("gazette/page.html", page_html("A story"))
        z.writestr("gazette/.DS_Store", b"\x00\x01")
        z.writestr("__MACOSX/gazette/._story.txt", b"\x00")
        z.writestr("inner.jsonl", json.dumps(news_please(1)))
    docs = {d.source_uri.rsplit("#", 1)[1]: d for d in read_all(tmp_path / "drop.zip")}
    assert sorted(docs) == ["gazette/page.html", "gazette/story.txt", "inner.jsonl"]
    assert docs["gazette/story.txt"].raw_text == BODY and docs["gazette/story.txt"].source_name == "gazette"
    assert docs["gazette/page.html"].fmt == "html" and docs["gazette/page.html"].reject_reason is None
    assert docs["inner.jsonl"].reject_reason == "unsupported_format"
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really")
    assert [d.reject_reason for d in read_all(tmp_path / "bad.zip")] == ["unreadable"]


# --- parts of big files ------------------------------------------------------------------------

def test_split_jsonl_parts_read_like_the_whole_file(tmp_path):
    path = write_jsonl(tmp_path / "big.jsonl", [news_please(i) for i in range(1, 41)] + ["not json"])
    parts = readers.split_parts(str(path), part_bytes=3000)
    assert len(parts) > 5 and parts[0].start == 0 and parts[-1].end is None
    whole = [(d.doc_id, d.source_uri, d.reject_reason) for d in read_all(path)]
    pieces = [(d.doc_id, d.source_uri, d.reject_reason) for p in parts for d in readers.read_part(p)]
    assert pieces == whole and len(whole) == 41


def test_split_warc_parts_read_like_the_whole_file(tmp_path):
    path = write_warc(tmp_path / "w.warc.gz", gzipped=True)
    parts = readers.split_parts(str(path), part_bytes=600)
    assert len(parts) > 2
    whole = [(d.doc_id, d.reject_reason) for d in read_all(path)]
    assert [(d.doc_id, d.reject_reason) for p in parts for d in readers.read_part(p)] == whole


def test_stage_batch_streams_in_chunks_and_skips_known_records(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [news_please(i) for i in range(1, 6)])
    known = tmp_path / "known.parquet"
    first = read_all(path)[0].doc_id
    pq.write_table(__import__("pyarrow").table({"source_path": [str(path)], "doc_id": [first]}), known)
    receipt = stage_batch([str(path)], IngestConfig().with_values(batch_size=2),
                          tmp_path / "s" / "batch-000000.parquet", known_records=known)
    assert receipt["rows"] == 4 and receipt["skipped"] == 1 and len(receipt["paths"]) == 2
    staged = [r for f in receipt["paths"] for r in pq.read_table(f).to_pylist()]
    assert first not in {r["doc_id"] for r in staged}
    assert [r["source_uri"].rsplit("#", 1)[1] for r in staged] == ["L2", "L3", "L4", "L5"]


def test_known_warc_records_are_skipped_before_extraction(tmp_path, monkeypatch):
    path = write_warc(tmp_path / "w.warc", gzipped=False)
    ids = {d.doc_id for d in read_all(path)}
    monkeypatch.setattr(sources, "_extract_html", lambda *a: (_ for _ in ()).throw(AssertionError("extracted")))
    assert list(readers.read_part(Part(str(path)), skip_ids=ids)) == [None] * len(ids)


# --- URLs --------------------------------------------------------------------------------------

def test_canonical_url_drops_tracking_and_folds_scheme_and_www():
    key = readers.canonical_url
    same = ["https://www.example.com/news/a-story?utm_source=tw&utm_medium=social",
            "http://example.com/news/a-story/?fbclid=IwAR0", "https://example.com/news/a-story?ref=homepage#top",
            "https://example.com/news/a-story?gclid=xyz"]
    assert {key(u) for u in same} == {"example.com/news/a-story"}
    assert key("https://example.com/a?page=2") != key("https://example.com/a?page=3")
    assert key(None) is None and key("not a url") is None
    assert not dedup.url_key_is_specific(key("https://www.example.com/"))  # a home page names no article
    assert dedup.url_key_is_specific(key("https://www.japantimes.co.jp/?post_type=news&p=1352777"))


def _docs_table(texts, urls, titles=None):
    import pyarrow as pa

    sizes, sigs, bands = dedup.fingerprint(texts, P)
    return pa.table({"doc_id": [f"d{i}" for i in range(len(texts))],
                     "title": titles or [None] * len(texts),
                     "clean_sha256": [dedup.clean_sha256(t) for t in texts], "n_shingles": sizes,
                     "n_metadata": [0] * len(texts), "minhash": [dedup.sig_to_bytes(s) for s in sigs],
                     "bands": [list(b) for b in bands], "canonical_url": urls})


def test_same_canonical_url_folds_a_corrected_article_below_the_threshold():
    original = " ".join(PARAGRAPHS)
    sentences = original.split(". ")
    # a corrected republication: every other sentence rewritten
    corrected = ". ".join(s if k % 2 else f"Correction {k}: {words(len(s.split()), k)}"
                          for k, s in enumerate(sentences))
    table = _docs_table([original, corrected], ["example.com/news/a", "example.com/news/a"])
    j = dedup.compare(dedup.sig_from_bytes(table["minhash"][0].as_py()), dedup.sig_from_bytes(table["minhash"][1].as_py()))[0]
    assert P.url_jaccard_threshold <= j < P.jaccard_threshold
    with_url = dedup.assign(table, P, drop_id=1).provenance.to_pylist()
    assert len({r["article_id"] for r in with_url}) == 1
    assert sorted(r["relation"] for r in with_url) == ["canonical", "near_duplicate"]
    without = dedup.assign(table.drop_columns(["canonical_url"]), P, drop_id=1).provenance.to_pylist()
    assert len({r["article_id"] for r in without}) == 2
    unrelated = _docs_table([original, words(400, 9)], ["example.com/news/a", "example.com/news/a"])
    assert len({r["article_id"] for r in dedup.assign(unrelated, P, drop_id=1).provenance.to_pylist()}) == 2


# --- warehouses made before these columns ------------------------------------------------------

def test_old_warehouse_gets_the_new_document_columns(tmp_path, monkeypatch):
    import pyarrow as pa

    from pipeline.warehouse import Warehouse

    new_columns = ["source_uri", "url", "canonical_url", "fetched_at"]
    old = pa.schema([f for f in schema.TABLES["documents"] if f.name not in new_columns])
    monkeypatch.setitem(schema.TABLES, "documents", old)
    with Warehouse(tmp_path / "wh"):
        pass
    monkeypatch.undo()
    with Warehouse(tmp_path / "wh") as wh:
        cols = [r[0] for r in wh.sql("SELECT column_name FROM duckdb_columns() WHERE table_name = 'documents' "
                                     "AND database_name = 'lake' ORDER BY column_index").fetchall()]
    assert cols == schema.TABLES["documents"].names


# --- end to end ----------------------------------------------------------------------------------

@pytest.mark.usefixtures("prefect_harness")
def test_one_article_arriving_as_text_jsonl_and_warc(tmp_path):
    from flows.ingest import ingest_flow
    from pipeline.warehouse import Warehouse

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "story.txt").write_text(BODY, encoding="utf-8")
    write_jsonl(drop / "feed.jsonl", [news_please(1), {"title": "Russia Warns Pentagon", "text": BODY,
                                                       "url": "https://example.com/russia?utm_source=x"}])
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(drop / "crawl.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record("https://example.com/russia", "response",
                                                      payload=io.BytesIO(page_html("Russia Warns Pentagon")),
                                                      http_headers=http))
    wh = tmp_path / "wh"
    first = ingest_flow(paths=[str(drop)], warehouse=str(wh), config=IngestConfig().with_values(workers=1))
    assert first["n_files"] == 4 and first["n_accepted"] == 4
    with Warehouse(wh, read_only=True) as w:
        rows = w.sql("""SELECT d.format, d.source_uri, p.relation, p.article_id FROM provenance p
                        JOIN documents d USING (doc_id) WHERE d.title LIKE 'Russia%' OR d.format = 'text'
                        ORDER BY d.format""").fetchall()
    assert [r[0] for r in rows] == ["jsonl", "text", "warc"] and len({r[3] for r in rows}) == 1
    assert rows[0][1].endswith("feed.jsonl#L2") and "crawl.warc.gz#<urn:uuid:" in rows[2][1]

    # the export grows by one line: only that line is new; the rest is seen before, record by record
    with open(drop / "feed.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(news_please(3)) + "\n")
    second = ingest_flow(paths=[str(drop)], warehouse=str(wh), config=IngestConfig().with_values(workers=1))
    assert (second["n_files"], second["n_seen_before"], second["n_documents"]) == (5, 4, 1)
    with Warehouse(wh, read_only=True) as w:
        assert w.sql("SELECT source_uri FROM documents WHERE drop_id = 2").fetchall() == [
            (f"{drop / 'feed.jsonl'}#L3",)]
    # nothing new: the inbox schedule records no drop
    third = ingest_flow(paths=[str(drop)], warehouse=str(wh), config=IngestConfig().with_values(workers=1),
                        only_new=True)
    assert third["drop_id"] is None and third["n_seen_before"] == 5


def test_canonical_url_signal_reaches_the_warehouse(tmp_path):
    import pyarrow as pa

    from pipeline.warehouse import Warehouse

    original = " ".join(PARAGRAPHS)
    corrected = ". ".join(s if k % 2 else f"Correction {k}: {words(len(s.split()), k)}"
                          for k, s in enumerate(original.split(". ")))
    first = _docs_table([original], ["example.com/news/a"])
    with Warehouse(tmp_path / "wh") as wh:
        wh.commit_drop(1, {
            "documents": schema.table("documents", [{"doc_id": "d0", "drop_id": 1, "status": "accepted",
                                                     "canonical_url": "example.com/news/a"}]),
            "provenance": schema.table("provenance", [{"doc_id": "d0", "article_id": "a_1", "drop_id": 1,
                                                       "relation": "canonical"}])})
        found = wh.url_matches(pa.table({"query": ["q1", "q2"],
                                         "canonical_url": ["example.com/news/a", "example.com/news/b"]}))
    assert found.to_pylist() == [{"query": "q1", "article_id": "a_1"}]
    # the second drop's copy: only the URL pair links it to the stored article
    second = _docs_table([corrected], ["example.com/news/a"]).set_column(0, "doc_id", pa.array(["q1"]))
    stored = pa.table({"article_id": ["a_1"], "canonical_doc_id": ["d0"], "n_shingles": first["n_shingles"],
                       "minhash": first["minhash"], "titles": pa.array([None], pa.list_(pa.string()))})
    rows = dedup.assign(second, P, drop_id=2, warehouse_candidates=found, warehouse_articles=stored,
                        warehouse_url_candidates=found).provenance.to_pylist()
    assert [(r["article_id"], r["relation"]) for r in rows] == [("a_1", "near_duplicate")]
    rows = dedup.assign(second, P, drop_id=2, warehouse_candidates=found, warehouse_articles=stored
                        ).provenance.to_pylist()
    assert rows[0]["relation"] == "canonical"  # without the URL signal: a new article


def test_big_files_become_several_batches(tmp_path):
    from flows.ingest import make_batches

    big = write_jsonl(tmp_path / "big.jsonl", [news_please(i) for i in range(1, 41)])
    small = [tmp_path / f"s{i}.txt" for i in range(5)]
    for p in small:
        p.write_text(words(20))
    batches = make_batches([str(big)] + [str(p) for p in small], batch_size=3, part_bytes=4000)
    with_big = [[p for p in b if p.path == str(big)] for b in batches]
    assert sum(map(len, with_big)) > 2 and all(len(parts) <= 1 for parts in with_big)  # spread over workers
    assert sorted(p.path for b in batches for p in b if p.path != str(big)) == sorted(map(str, small))
    assert all(len(b) <= 3 for b in batches)
