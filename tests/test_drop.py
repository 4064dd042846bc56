"""pipeline/drop.py: reading, processing and staging one batch, without Prefect."""
import shutil

import pyarrow.parquet as pq

from conftest import SEED
from pipeline import drop, plan, schema
from pipeline.config import IngestConfig
from pipeline.stage import PipelineStats


def test_stage_batch_writes_a_staging_file_per_chunk_with_its_chrome_beside_it(tmp_path):
    files = [str(p) for p in SEED.values()]
    out = tmp_path / "staging" / "batch-000000.parquet"
    receipt = drop.stage_batch(files, IngestConfig().with_values(batch_size=2), out)
    assert len(receipt["paths"]) == -(-len(files) // 2) and receipt["paths"][0] == str(out)
    staged = [pq.read_table(p) for p in receipt["paths"]]
    assert all(t.schema.equals(plan.PROCESSED) for t in staged)
    assert receipt["rows"] == sum(t.num_rows for t in staged) == len(files)
    assert all(plan.chrome_path(p).exists() for p in receipt["paths"])
    # the receipt's stats count every document once: read saw them all
    assert PipelineStats.from_dict(receipt["stats"])["read"].documents_in == len(files)


def test_read_batch_turns_paths_it_cannot_read_into_rejections(tmp_path):
    good = tmp_path / "good.txt"
    shutil.copy(SEED["000"], good)
    docs = list(drop.read_batch([str(good), str(tmp_path / "gone.txt"), str(tmp_path)]))
    assert [d.accepted for d in docs] == [True, False, False]
    assert all(d.reject_reason for d in docs[1:])


def test_one_by_one_costs_only_the_document_that_kills_its_worker(tmp_path, monkeypatch):
    files = []
    for name, src in (("a.txt", SEED["000"]), ("killer.txt", SEED["001"]), ("b.txt", SEED["002"])):
        shutil.copy(src, tmp_path / name)
        files.append(str(tmp_path / name))
    monkeypatch.setenv("NEWSFOLD_KILL_AT", "read:killer.txt")  # the worker reading it is SIGKILLed
    receipts = drop.stage_one_by_one(files, IngestConfig(), tmp_path / "retry")
    rows = {r["source_path"].rsplit("/", 1)[1]: r for rc in receipts for r in pq.read_table(rc["path"]).to_pylist()}
    assert set(rows) == {"a.txt", "killer.txt", "b.txt"}
    assert rows["killer.txt"]["reject_reason"] == drop.INTERNAL_ERROR
    assert "worker process died" in rows["killer.txt"]["error"]
    assert rows["a.txt"]["status"] == rows["b.txt"]["status"] == schema.ACCEPTED


def _processed_docs(tmp_path):
    pages = {"cjk.txt": "東京で記者会見が開かれた。" * 40 + "\n\n" + "Tokyo news in English words here. " * 20,
             "thai.txt": "ข่าววันนี้ " * 60, "plain.txt": SEED["000"].read_text(encoding="utf-8"),
             "empty.txt": ""}
    for name, body in pages.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    paths = [str(p) for p in SEED.values()] + [str(tmp_path / name) for name in pages]
    docs = list(drop.read_batch(paths))
    drop.run_stages(docs, drop.stages(IngestConfig(), drop.ChromeStage()), PipelineStats())
    return docs


def test_staging_columns_are_the_staging_rows(tmp_path):
    docs = _processed_docs(tmp_path)
    assert any(d.removed for d in docs) and any(not d.accepted for d in docs)
    by_rows = plan.staging_table([plan.staging_row(d) for d in docs])
    by_columns = plan.staging_table_of(docs, [plan.accepted_values(d) for d in docs])
    assert by_columns.schema.equals(plan.PROCESSED) and by_columns.equals(by_rows)


def test_a_value_arrow_cannot_hold_costs_only_its_document(tmp_path):
    docs = _processed_docs(tmp_path)
    docs[0].title = "bad \ud800 title"  # a lone surrogate: no UTF-8 for Arrow
    values = [plan.accepted_values(d) for d in docs]
    table = plan.staging_table_of(docs, values)
    assert table.equals(plan.staging_table([plan.staging_row(d) for d in docs]))
    assert table.column("reject_reason").to_pylist()[0] == plan.INTERNAL_ERROR
    assert table.column("status").to_pylist()[1:] == [plan.staging_row(d)["status"] for d in docs[1:]]


def test_a_document_whose_row_raises_is_rejected_alone(tmp_path, monkeypatch):
    docs = _processed_docs(tmp_path)
    k = next(i for i, d in enumerate(docs) if d.accepted)
    docs[k].units[0].text += "\ud800"  # no UTF-8 for its clean_sha256
    monkeypatch.setattr(drop, "stages", lambda config, chrome_stage: [])  # the rows only
    table = drop.process_docs(docs)
    reasons = table.column("reject_reason").to_pylist()
    assert reasons[k] == plan.INTERNAL_ERROR and table.column("error").to_pylist()[k].startswith("rows: ")
    assert table.column("status").to_pylist().count(schema.ACCEPTED) == sum(d.accepted for d in docs)


def test_an_html_file_gets_the_same_url_key_as_a_gzipped_or_zipped_one(tmp_path):
    # a plain .html file was read past readers.read_part: its canonical_url stayed the raw
    # <link rel=canonical> ("http://www.…/?utm_source=…") and its url empty, unlike a .html.gz
    import gzip
    import zipfile

    body = "".join(f"<p>Paragraph {i} of the story says the river rose by {i} metres overnight and the town "
                   f"council met at dawn to plan the evacuation of the lower streets.</p>" for i in range(8))
    page = (f'<html><head><title>River rises</title><link rel="canonical" '
            f'href="http://www.example.com/news/river-rises/?utm_source=feed"></head>'
            f'<body><article><h1>River rises</h1>{body}</article></body></html>').encode()
    (tmp_path / "page.html").write_bytes(page)
    (tmp_path / "page2.html.gz").write_bytes(gzip.compress(page))
    with zipfile.ZipFile(tmp_path / "drop.zip", "w") as z:
        z.writestr("page3.html", page)
    docs = list(drop.read_batch([tmp_path / "page.html", tmp_path / "page2.html.gz", tmp_path / "drop.zip"]))
    assert [d.reject_reason for d in docs] == [None, None, None]
    assert [d.canonical_url for d in docs] == ["example.com/news/river-rises"] * 3
    assert all(d.url and d.url.startswith("http://www.example.com/news/river-rises") for d in docs)
