"""serve on a hostile inbox: files still being written, files that make runs fail, symlink loops."""
import os
import threading
import time

import psutil
import pytest

import flows.serve as serve
from conftest import SEED
from flows.serve import serve_inbox
from pipeline.config import IngestConfig
from pipeline.warehouse import Warehouse

pytestmark = pytest.mark.usefixtures("prefect_harness")


class Enough(Exception):
    pass


def documents(wh):
    with Warehouse(wh, read_only=True) as w:
        return w.sql("SELECT source_path, size_bytes, reject_reason FROM documents ORDER BY 1").fetchall()


def test_a_slowly_written_file_is_ingested_once_whole(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    inbox.mkdir()
    text = SEED["001"].read_bytes()
    chunks = [text[i:i + len(text) // 8 + 1] for i in range(0, len(text), len(text) // 8 + 1)]
    target = inbox / "slow.txt"

    def writer():
        with open(target, "ab") as fh:
            for chunk in chunks:
                fh.write(chunk)
                fh.flush()
                time.sleep(0.3)

    runs = []

    def on_run(summary):
        runs.append(summary)
        if summary.get("drop_id") is not None or len(runs) > 40:
            raise Enough

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with pytest.raises(Enough):
            serve_inbox(str(inbox), str(wh), interval=0.2, settle_s=1.0, on_run=on_run,
                        config=IngestConfig().with_values(workers=1))
    finally:
        thread.join()
    assert any(r.get("n_settling") for r in runs), "the file was seen while it was being written"
    assert documents(wh) == [(str(target), len(text), None)]


def test_a_file_that_fails_twice_is_quarantined_and_the_rest_lands(tmp_path, monkeypatch):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    inbox.mkdir()
    for name, seed in (("a.txt", "001"), ("b.txt", "003"), ("poison.txt", "004")):
        (inbox / name).write_bytes(SEED[seed].read_bytes())
    real = serve.ingest_flow

    def ingest_flow(**kw):  # stands for any bug one file triggers (in a stage, or before any batch runs)
        names = [n for p in kw["paths"] for n in (os.listdir(p) if os.path.isdir(p) else [os.path.basename(p)])]
        if "poison.txt" in names:
            raise IndexError("index 0 is out of bounds")
        return real(**kw)

    monkeypatch.setattr(serve, "ingest_flow", ingest_flow)
    runs, children = [], []

    def on_run(summary):
        runs.append(summary)
        children.append(len(psutil.Process().children(recursive=True)))

    # two worker processes: a failing run must not leave its pool (or anything else) behind
    serve_inbox(str(inbox), str(wh), interval=0.1, settle_s=0, max_runs=3, on_run=on_run,
                config=IngestConfig().with_values(workers=2))
    assert children[-1] <= children[0], children
    # run 1: the good files land although the inbox run failed; the poison file has failed once
    assert runs[0]["n_documents"] == 2 and "poison.txt: IndexError" in runs[0]["error"]
    assert runs[0]["n_quarantined"] == 0
    # run 2: it fails alone again and is quarantined; run 3 skips it: no error, nothing new
    assert runs[1]["newly_quarantined"] == [str(inbox / "poison.txt")] and runs[1]["n_quarantined"] == 1
    assert "error" not in runs[2] and runs[2]["n_quarantined"] == 1
    assert [os.path.basename(p) for p, _, _ in documents(wh)] == ["a.txt", "b.txt"]
    # a changed file gets a new chance
    (inbox / "poison.txt").write_text("fixed now", encoding="utf-8")
    q = serve.Quarantine(wh / serve.QUARANTINE_FILE)
    st = os.stat(inbox / "poison.txt")
    assert not q.is_quarantined(str(inbox / "poison.txt"), (st.st_size, st.st_mtime_ns))


def test_looping_symlinks_do_not_make_every_run_fail(tmp_path):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    inbox.mkdir()
    (inbox / "good.txt").write_bytes(SEED["003"].read_bytes())
    os.symlink(inbox / "b.txt", inbox / "a.txt")
    os.symlink(inbox / "a.txt", inbox / "b.txt")
    runs = []
    serve_inbox(str(inbox), str(wh), interval=0.1, settle_s=0, max_runs=3, on_run=runs.append,
                config=IngestConfig().with_values(workers=1))
    assert runs[0]["n_documents"] >= 1
    assert "error" not in runs[-1]
    assert str(inbox / "good.txt") in [p for p, _, _ in documents(wh)]


def test_a_warehouse_inside_the_inbox_is_not_inbox_files(tmp_path):
    # its files change with every commit: the inbox scan listed them, forever "still settling"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "good.txt").write_bytes(SEED["003"].read_bytes())
    os.utime(inbox / "good.txt", (time.time() - 60, time.time() - 60))  # settled at first sight
    runs = []
    serve_inbox(str(inbox), str(inbox / "warehouse"), interval=0.1, settle_s=30, max_runs=3, on_run=runs.append,
                config=IngestConfig().with_values(workers=1))
    assert runs[0]["n_documents"] == 1
    assert [r["n_settling"] for r in runs] == [0, 0, 0] and "error" not in runs[-1]
    assert [p for p, _, _ in documents(inbox / "warehouse")] == [str(inbox / "good.txt")]


def test_an_inbox_that_is_a_file_is_named_so(tmp_path):
    # `newsfold serve --inbox feed.jsonl` said "no such inbox folder: feed.jsonl" (session 23)
    (tmp_path / "feed.jsonl").write_text("{}\n")
    with pytest.raises(ValueError, match="feed.jsonl is a file, not a folder"):
        serve_inbox(str(tmp_path / "feed.jsonl"), str(tmp_path / "wh"), IngestConfig(), interval=1, max_runs=1)
    with pytest.raises(FileNotFoundError, match="no such inbox folder"):
        serve_inbox(str(tmp_path / "nowhere"), str(tmp_path / "wh"), IngestConfig(), interval=1, max_runs=1)
