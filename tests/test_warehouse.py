import os
import subprocess
import sys
import textwrap

import pyarrow as pa
import pytest

from conftest import REPO
from pipeline import schema
from pipeline.warehouse import Warehouse, WarehouseError, writer_busy, writer_lock


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


def test_a_creation_cut_short_leaves_no_catalog_and_the_next_writer_starts_afresh(tmp_path, monkeypatch):
    # A Ctrl-C during a first ingest's commit (the warehouse being created) left a catalog.sqlite
    # without the lake or with some tables, which every later command failed to open ("Existing
    # DuckLake ... does not exist", "Table with name drops does not exist"; session 23)
    made = []

    def cut_after_two_tables(name, qualifier=""):
        if len(made) == 2:
            raise KeyboardInterrupt
        made.append(name)
        return create_table_sql(name, qualifier)

    create_table_sql = schema.create_table_sql
    monkeypatch.setattr(schema, "create_table_sql", cut_after_two_tables)
    with pytest.raises(KeyboardInterrupt):
        Warehouse(tmp_path / "wh")
    monkeypatch.undo()
    assert not (tmp_path / "wh" / "catalog.sqlite").exists()
    with pytest.raises(WarehouseError, match="no warehouse at"):
        Warehouse(tmp_path / "wh", read_only=True)
    with Warehouse(tmp_path / "wh") as wh:
        wh.commit_drop(1, drop_rows(1))
    assert count(tmp_path / "wh", "documents") == 1
    assert sorted(p.name for p in (tmp_path / "wh").iterdir()) == ["catalog.sqlite", "data"]


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
        assert writer_busy(tmp_path)
    finally:
        holder.kill()
        holder.wait()
    with writer_lock(tmp_path, wait_s=5):  # released by the kernel when the holder died
        pass
    assert not writer_busy(tmp_path)


def test_status_and_check_only_look_at_the_writer_lock(tmp_path, capsys):
    # they took the lock to see whether an ingest was writing, opening writer.lock to write it:
    # on a warehouse the user may only read, `newsfold status` printed everything, then
    # "newsfold: error: Permission denied: .../writer.lock" (exit 1), and check failed (session 23)
    with writer_lock(tmp_path), Warehouse(tmp_path) as wh:
        wh.commit_drop(1, drop_rows(1))
    lock = tmp_path / "writer.lock"
    os.utime(lock, ns=(0, 0))
    lock.write_bytes(b"12345\n")
    os.utime(lock, ns=(0, 0))
    assert main(["check", "-w", str(tmp_path)]) == 0 and main(["status", "-w", str(tmp_path)]) == 0
    assert lock.read_bytes() == b"12345\n" and lock.stat().st_mtime_ns == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes whatever the permissions say")
def test_a_read_only_warehouse_can_be_read_and_checked(tmp_path, capsys):
    with writer_lock(tmp_path), Warehouse(tmp_path) as wh:
        wh.commit_drop(1, drop_rows(1))
    for p in [tmp_path, *tmp_path.rglob("*")]:
        p.chmod(p.stat().st_mode & ~0o222)
    try:
        assert main(["status", "-w", str(tmp_path)]) == 0
        assert main(["check", "-w", str(tmp_path)]) == 0
        assert main(["sql", "SELECT count(*) FROM documents", "-w", str(tmp_path)]) == 0
    finally:
        for p in [tmp_path, *tmp_path.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)


# --- read-only sql, damage check, repair ----------------------------------------

import json  # noqa: E402

from flows.cli import main  # noqa: E402
from pipeline.warehouse import check_warehouse, plan_repair, repair_warehouse  # noqa: E402


def drop_with_files(drop_id, paths):
    return {
        "drops": schema.table("drops", [{"drop_id": drop_id, "label": f"d{drop_id}",
                                         "inputs": json.dumps([f"/in/drop{drop_id}"])}]),
        "documents": schema.table("documents", [{"doc_id": f"doc{drop_id}-{i}", "drop_id": drop_id,
                                                 "status": "accepted", "source_path": p}
                                                for i, p in enumerate(paths)]),
    }


@pytest.fixture(scope="module")
def three_drops_template(tmp_path_factory):
    wh = tmp_path_factory.mktemp("template") / "wh"
    with Warehouse(wh) as w:
        for d in (1, 2, 3):
            w.commit_drop(d, drop_with_files(d, [f"/in/drop{d}/a.txt", f"/in/drop{d}/b.txt"]))
    return wh


@pytest.fixture
def three_drops(three_drops_template, tmp_path):
    """A warehouse of three drops of two documents each (a copy: the catalog keeps
    its data path, which the attach overrides)."""
    import shutil

    wh = tmp_path / "wh"
    shutil.copytree(three_drops_template, wh)
    return wh


def documents_file(wh, drop_id):
    """The Parquet file holding drop `drop_id`'s documents."""
    files = sorted((f for f in check_warehouse(wh).problems), key=str)
    assert not files
    from pipeline.warehouse import catalog_files

    docs = sorted((f for f in catalog_files(wh) if f.table == "documents"), key=lambda f: f.begin_snapshot)
    return docs[drop_id - 1].path


def tree(path):
    return {str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(path.rglob("*"))}


ATTACKS = [
    "DELETE FROM documents",
    "DETACH lake; ATTACH 'ducklake:sqlite:{wh}/catalog.sqlite' AS l2 (DATA_PATH '{wh}/data/'); DELETE FROM l2.documents",
    "ATTACH '{wh}/catalog.sqlite' AS s (TYPE sqlite); DELETE FROM s.ducklake_data_file",
    "COPY (SELECT 1) TO '{wh}/catalog.sqlite'",
    "COPY (SELECT 1) TO '{wh}/data/main/documents/x.parquet'",
    "EXPLAIN ANALYZE COPY (SELECT 1) TO '{wh}/data/x.csv'",
    "ATTACH '{wh}/data/new.duckdb' AS n",
    "EXPORT DATABASE '{wh}/data/export'",
    "CREATE TABLE x AS SELECT 1",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "USE memory",
    "CALL ducklake_expire_snapshots('lake', older_than => now())",
    "SELECT * FROM ducklake_cleanup_old_files('lake', cleanup_all => true)",
    "SELECT * FROM lake.merge_adjacent_files()",
    "SELECT * FROM query('SELECT 1')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT 1; DELETE FROM documents",
    "",
    "   ",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_sql_cannot_change_the_warehouse_or_write_into_it(three_drops, attack, capsys):
    wh = three_drops
    before = tree(wh)
    assert main(["sql", attack.format(wh=wh), "-w", str(wh)]) == 1
    err = capsys.readouterr().err
    # one error, no traceback (a DuckDB error keeps its hint lines: the LINE and the caret)
    assert err.startswith("newsfold: error: ") and "Traceback" not in err, err
    assert err.count("\n") == 1 or "\nLINE 1:" in err, err
    assert tree(wh) == before
    assert count(wh, "documents") == 6 and check_warehouse(wh).ok


def test_sql_still_reads_tables_snapshots_and_lake_files(three_drops, capsys):
    wh = three_drops
    for query, expected in [("SELECT count(*) AS n FROM documents", "n\n6\n"),
                            ("SELECT count(*) AS n FROM (DESCRIBE documents)", f"n\n{len(schema.TABLES['documents'])}\n"),
                            ("SELECT count(*) AS n FROM lake.snapshots() WHERE commit_message LIKE 'drop %'", "n\n3\n"),
                            (f"SELECT count(*) AS n FROM read_parquet('{wh}/data/main/drops/*.parquet')", "n\n3\n")]:
        assert main(["sql", query, "-w", str(wh), "--format", "csv"]) == 0
        assert capsys.readouterr().out.split() == expected.split()
    assert main(["sql", "SELECT count(*) AS n FROM documents", "-w", str(wh), "--format", "csv",
                 "--as-of-drop", "1"]) == 0
    assert capsys.readouterr().out.split() == ["n", "2"]


def test_check_finds_missing_and_truncated_files_and_status_warns(three_drops, capsys):
    wh = three_drops
    assert main(["check", "-w", str(wh), "--deep"]) == 0
    assert "no damaged" in capsys.readouterr().out
    truncated, missing = documents_file(wh, 2), documents_file(wh, 3)
    truncated.write_bytes(truncated.read_bytes()[:-20])
    missing.unlink()
    (wh / "data" / "main" / "documents" / "left-by-a-kill.parquet").write_bytes(b"PAR1")
    assert main(["check", "-w", str(wh)]) == 1
    out = capsys.readouterr().out
    assert f"{missing}: missing (current snapshot)" in out and str(truncated) in out
    assert "2 damaged, 1 unreferenced" in out
    assert main(["status", "-w", str(wh)]) == 0
    assert "warning: 2 of the warehouse's files are missing or damaged" in capsys.readouterr().err
    # a query that reads the damaged file: one line, pointing at `newsfold check`
    assert main(["sql", "SELECT * FROM documents", "-w", str(wh)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run `newsfold check`" in err


def test_repair_goes_back_to_the_last_intact_snapshot_and_lists_what_to_reingest(three_drops, capsys):
    wh = three_drops
    damaged = documents_file(wh, 2)
    damaged.write_bytes(b"")
    (wh / "data" / "orphan.parquet").write_bytes(b"PAR1")
    assert main(["repair", "-w", str(wh)]) == 1  # the plan only
    assert "drops rolled back: 2, 3" in capsys.readouterr().out and damaged.exists()
    plan = plan_repair(wh)
    # drop 3's documents are read from its intact file; drop 2's file is damaged: its input is listed
    assert plan.lost_drops == [2, 3] and plan.reingest == ["/in/drop2", "/in/drop3/a.txt", "/in/drop3/b.txt"]
    assert main(["repair", "-w", str(wh), "--yes"]) == 0
    listing = next(wh.glob("repair-reingest-*.txt")).read_text().split()
    assert listing == plan.reingest
    report = check_warehouse(wh, deep=True)
    assert report.ok and not report.unreferenced and not damaged.exists()
    assert count(wh, "documents") == 2
    with Warehouse(wh) as w:
        assert w.next_drop_id() == 2  # answered from the column stats, which the rewind recomputed
        w.commit_drop(2, drop_with_files(2, ["/in/drop2/a.txt"]))
        assert sorted(w.drop_snapshots()) == [1, 2]
    assert count(wh, "documents") == 3 and check_warehouse(wh, deep=True).ok
    assert main(["repair", "-w", str(wh)]) == 0
    assert "nothing to repair" in capsys.readouterr().out


def test_repair_expires_old_snapshots_whose_files_are_lost(tmp_path):
    wh = tmp_path / "wh"
    with Warehouse(wh) as w:
        w.commit_drop(1, drop_with_files(1, ["/a"]))
        w.sql("UPDATE documents SET status = 'rejected'")  # the first documents file ends here
        w.commit_drop(2, drop_with_files(2, ["/b"]))
    from pipeline.warehouse import catalog_files

    old = [f for f in catalog_files(wh) if not f.current]
    assert old
    old[0].path.unlink()
    report = check_warehouse(wh)
    assert len(report.problems) == 1 and "only" in str(report.problems[0])
    plan = repair_warehouse(wh)
    assert plan.rewind_to is None and plan.expire
    assert check_warehouse(wh).ok
    assert count(wh, "documents") == 2


@pytest.fixture
def tiny_disk(tmp_path):
    """A 512 KiB tmpfs (needs root and mount; skipped where neither is available)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_during_a_commit_is_one_line_and_leaves_nothing_behind(tiny_disk):
    import os

    from flows.cli import describe_error

    wh = tiny_disk / "wh"
    with Warehouse(wh) as w:
        w.commit_drop(1, drop_rows(1))
    before = sorted(p.name for p in wh.rglob("*.parquet"))
    big = drop_rows(2)
    big["documents"] = schema.table("documents", [{"doc_id": f"d{i}", "drop_id": 2, "source_path": os.urandom(
        20_000).hex()} for i in range(40)])  # 1.6 MB that does not compress
    with Warehouse(wh) as w, pytest.raises(Exception) as failed:
        w.commit_drop(2, big)
    message = describe_error(failed.value, str(wh))
    assert message.startswith("disk full") and "nothing was committed" in message and "\n" not in message
    assert sorted(p.name for p in wh.rglob("*.parquet")) == before  # not even the file whose write failed
    assert count(wh, "documents") == 1 and check_warehouse(wh).ok


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


@pytest.mark.parametrize("query, named", [("INSTALL httpfs", "INSTALL"), ("BEGIN TRANSACTION", "BEGIN"),
                                          ("USE memory", "USE"), ("EXPLAIN DELETE FROM drops", "DELETE"),
                                          ("WITH x AS (SELECT 1) DELETE FROM drops", "DELETE")])
def test_a_refused_statement_is_named_as_written(query, named):
    # DuckDB's statement types called INSTALL "LOAD", BEGIN "TRANSACTION" and USE "SET"
    import duckdb

    from pipeline.warehouse import check_read_only_query

    con = duckdb.connect()
    con.execute("CREATE TABLE drops (drop_id INTEGER)")
    with pytest.raises(WarehouseError, match=f"only reads: {named} statements are not allowed"):
        check_read_only_query(con, query)
