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
