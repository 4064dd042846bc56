import subprocess
import sys
import textwrap

import pyarrow as pa
import pytest

from conftest import REPO
from pipeline import schema
from pipeline.warehouse import Warehouse, WarehouseError, writer_lock


def drop_rows(drop_id):
    return {
        "drops": schema.table("drops", [{"drop_id": drop_id, "label": f"d{drop_id}"}]),
        "documents": schema.table("documents", [{"doc_id": f"doc{drop_id}", "drop_id": drop_id, "status": "accepted"}]),
    }


def count(path, table):
    with Warehouse(path, read_only=True) as wh:
        return wh.sql(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_all_tables_exist_and_are_parquet_backed(tmp_path):
    with Warehouse(tmp_path) as wh:
        wh.commit_drop(1, drop_rows(1))
        names = {r[0] for r in wh.sql("SELECT table_name FROM duckdb_tables() WHERE database_name = 'lake'").fetchall()}
    assert set(schema.TABLES) <= names
    assert list((tmp_path / "data").rglob("*.parquet")), "rows must live in Parquet files"
    assert count(tmp_path, "documents") == 1


def test_failed_commit_leaves_previous_drop(tmp_path):
    with Warehouse(tmp_path) as wh:
        wh.commit_drop(1, drop_rows(1))
    bad = drop_rows(2)
    bad["provenance"] = pa.table({"doc_id": ["x"]})  # wrong shape: the insert fails mid-commit
    with Warehouse(tmp_path) as wh, pytest.raises(Exception):
        wh.commit_drop(2, bad)
    assert count(tmp_path, "drops") == 1 and count(tmp_path, "documents") == 1
    with Warehouse(tmp_path) as wh:
        wh.commit_drop(2, drop_rows(2))
        assert sorted(wh.drop_snapshots()) == [1, 2]
    assert count(tmp_path, "documents") == 2


def test_reader_works_while_writer_holds_the_lake_open(tmp_path):
    with Warehouse(tmp_path) as wh:
        wh.commit_drop(1, drop_rows(1))
        wh.sql("BEGIN TRANSACTION")
        wh.sql("INSERT INTO documents (doc_id) VALUES ('uncommitted')")
        reader = subprocess.run([sys.executable, "-m", "flows.cli", "sql", "SELECT count(*) AS n FROM documents",
                                 "-w", str(tmp_path), "--format", "csv"], cwd=REPO, capture_output=True, text=True,
                                timeout=120)
        wh.sql("ROLLBACK")
    assert reader.returncode == 0, reader.stderr
    assert reader.stdout.split() == ["n", "1"]


def test_second_writer_fails_fast_with_a_clear_message(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from pipeline.warehouse import writer_lock
        with writer_lock({str(tmp_path)!r}):
            print("locked", flush=True)
            time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(WarehouseError, match="busy"):
            with writer_lock(tmp_path, wait_s=0.5):
                pass
    finally:
        holder.kill()
        holder.wait()
    with writer_lock(tmp_path, wait_s=5):  # released by the kernel when the holder died
        pass


def test_a_warehouse_from_before_a_new_column_gets_it_on_the_next_write(tmp_path):
    with Warehouse(tmp_path) as wh:
        wh.commit_drop(1, drop_rows(1))
        wh.sql("ALTER TABLE documents DROP COLUMN clean_text")  # as an older newsfold made it
    with Warehouse(tmp_path) as wh:
        rows = drop_rows(2)
        rows["documents"] = schema.table("documents", [{"doc_id": "doc2", "drop_id": 2, "clean_text": "kept"}])
        wh.commit_drop(2, rows)
    with Warehouse(tmp_path, read_only=True) as wh:
        assert wh.sql("SELECT doc_id, clean_text FROM documents ORDER BY doc_id").fetchall() == [
            ("doc1", None), ("doc2", "kept")]
