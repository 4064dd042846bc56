"""Warehouse I/O: a DuckLake lake of Parquet files with a SQLite catalog.

Why DuckLake: one drop touches five tables and must land all together or not
at all. DuckLake writes Parquet data files first and then commits the catalog
in one SQLite transaction, so a killed ingest leaves the lake at the previous
drop (orphan Parquet files at worst, never half a drop). It also gives UPDATE
(an article's canonical copy can switch), snapshots (query the warehouse as of
an earlier drop) and readers that work while a writer is busy. DuckDB 1.5.5 is
pinned because its DuckLake and SQLite extensions ship on PyPI, so everything
works offline.

Layout of a warehouse folder:
    catalog.sqlite   DuckLake catalog (table versions, snapshots)
    data/            Parquet data files, one folder per table
    writer.lock      held by the one process allowed to write
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import signal
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa

from . import schema

if TYPE_CHECKING:  # the plan module imports dedup: `newsfold sql` must start without it
    from .plan import StagedDrop

LAKE = "lake"
DUCKDB_VERSION = "1.5.5"
WRITER_MEMORY_LIMIT = "2GB"  # DuckDB's share of the <= 4 GiB a million-document ingest may use


def fault_point(name: str) -> None:
    """Test hooks: NEWSFOLD_KILL_AT=<name> SIGKILLs the process here;
    NEWSFOLD_FAIL_AT=<name> raises an exception here.

    The recovery tests use them to kill or fail an ingest at exact points of a
    commit and prove the warehouse stays at the previous drop (and that a failed
    ingest leaves no process behind).
    """
    if os.environ.get("NEWSFOLD_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("NEWSFOLD_FAIL_AT") == name:
        raise InjectedFault(f"injected fault at {name} (NEWSFOLD_FAIL_AT)")


class InjectedFault(RuntimeError):
    """Raised by fault_point for NEWSFOLD_FAIL_AT: stands for any bug in a stage."""


class WarehouseError(Exception):
    """A problem the user can act on (missing warehouse, busy writer, bad SQL)."""


def extension_directory() -> Path:
    """A DuckDB extension directory holding the PyPI builds of ducklake and sqlite.

    DuckDB autoloads extensions from `<dir>/v<version>/<platform>/`. Laying the
    wheel-shipped files out that way lets both newsfold and a user's stock
    DuckDB (`SET extension_directory = '...'`) attach the lake offline.
    """
    import duckdb_extension_ducklake
    import duckdb_extension_sqlite

    base = Path(os.environ.get("NEWSFOLD_EXTENSION_DIR")
                or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "newsfold" / "duckdb_extensions")
    platform = duckdb.execute("PRAGMA platform").fetchone()[0]
    target = base / f"v{DUCKDB_VERSION}" / platform
    wanted = {
        "ducklake.duckdb_extension": duckdb_extension_ducklake,
        # the sqlite extension's canonical name (and entry point) is sqlite_scanner
        "sqlite_scanner.duckdb_extension": duckdb_extension_sqlite,
    }
    for name, package in wanted.items():
        dest = target / name
        if not dest.exists():
            src = next(Path(package.__file__).parent.glob("extensions/*/*.duckdb_extension"))
            target.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(f".tmp{os.getpid()}")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)  # atomic: concurrent first runs never see half a file
    return base


class _Databases:
    """The process's DuckDB database, lent to one Warehouse session at a time.

    Why: a new DuckDB database loads the ducklake and sqlite extensions again, and each load
    checks the extension file's signature (~0.13 CPU s each, so ~0.27 a session), while a small
    ingest opens the warehouse three times (the CLI's parameter check, the flow's reads, the
    commit). Attaching the lake to a database that has them loaded costs ~0.03. A session gets
    a connection of its own (its registered tables, temporary views and transaction are that
    connection's); when it ends, the lake is detached and the settings sessions change are
    reset, or, if that fails, the database is dropped. A session opened while another one
    holds the database (reindex reads one warehouse while writing another), and one that
    locked its database down (`newsfold sql`), use a database of their own, closed after.
    """

    SESSION_SETTINGS = ("memory_limit", "temp_directory", "preserve_insertion_order")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: duckdb.DuckDBPyConnection | None = None
        self._lent: dict[int, duckdb.DuckDBPyConnection] = {}  # id(session connection) -> its database
        self._pid = os.getpid()

    def borrow(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's database is not its own
                self._free, self._lent, self._pid = None, {}, os.getpid()
            database, self._free = self._free, None
        if database is None:
            database = duckdb.connect(config={"extension_directory": str(extension_directory())})
        session = database.cursor()
        with self._lock:
            self._lent[id(session)] = database
        return session

    def give_back(self, session: duckdb.DuckDBPyConnection, attached: bool = True, reuse: bool = True) -> None:
        with self._lock:
            database = self._lent.pop(id(session), None)
        try:
            if reuse and attached:
                session.execute("USE memory")
                session.execute(f"DETACH {LAKE}")
            if reuse:
                for setting in self.SESSION_SETTINGS:
                    session.execute(f"RESET {setting}")
        except duckdb.Error:
            reuse = False
        session.close()
        if database is None:
            return
        with self._lock:
            if reuse and self._free is None and self._pid == os.getpid():
                self._free, database = database, None
        if database is not None:
            database.close()


_DATABASES = _Databases()


def attach_sql(path: Path, read_only: bool = False, snapshot: int | None = None, catalog: Path | None = None) -> str:
    options = [f"DATA_PATH '{(path / 'data').resolve()}/'", "OVERRIDE_DATA_PATH true",
               # never inline rows into the catalog: every row lives in Parquet
               "DATA_INLINING_ROW_LIMIT 0"]
    if read_only:
        options.append("READ_ONLY")
    if snapshot is not None:
        options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
    return f"ATTACH 'ducklake:sqlite:{(catalog or path / 'catalog.sqlite').resolve()}' AS {LAKE} ({', '.join(options)})"


def _create_catalog(path: Path) -> None:
    """A new warehouse's catalog, made with its tables under a temporary name and then renamed.
    Made in place, a creation cut short (Ctrl-C during a first ingest's commit) left a
    catalog.sqlite holding no lake or only some tables, which every later command, the next
    ingest too, failed to open; now it leaves no catalog, and the next ingest starts afresh."""
    creating = path / "catalog.sqlite.creating"
    for stale in (creating, path / "catalog.sqlite.creating-journal"):  # from a creation cut short
        stale.unlink(missing_ok=True)
    con = _DATABASES.borrow()
    try:
        con.execute(attach_sql(path, catalog=creating))
        for name in schema.TABLES:
            con.execute(schema.create_table_sql(name, qualifier=f"{LAKE}."))
        con.execute(f"DETACH {LAKE}")
    except BaseException:  # the lake may be attached or not: this database is not lent again
        _DATABASES.give_back(con, attached=False, reuse=False)
        raise
    _DATABASES.give_back(con, attached=False)
    os.replace(creating, path / "catalog.sqlite")


class Warehouse:
    """A connection to one warehouse folder. Use as a context manager."""

    def __init__(self, path: str | os.PathLike, read_only: bool = False, snapshot: int | None = None):
        self.path = Path(path)
        self.read_only = read_only
        if self.path.exists() and not self.path.is_dir():
            raise WarehouseError(f"{self.path} is a file, not a warehouse folder")
        if read_only and not (self.path / "catalog.sqlite").exists():
            raise WarehouseError(f"no warehouse at {self.path} (run `newsfold ingest` first)")
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "data").mkdir(exist_ok=True)
        if not read_only and not (self.path / "catalog.sqlite").exists():
            _create_catalog(self.path)
        self.con = _DATABASES.borrow()
        try:
            self.con.execute(attach_sql(self.path, read_only, snapshot))
        except duckdb.Error as exc:
            _DATABASES.give_back(self.con, attached=False)
            raise WarehouseError(f"cannot open warehouse {self.path}: {exc}") from exc
        self.con.execute(f"USE {LAKE}")
        if not read_only:
            # DuckDB would take up to 80 % of RAM; the writer shares the machine with its workers
            self.con.execute(f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'")
            for name in schema.TABLES:
                self.con.execute(schema.create_table_sql(name))
            self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """Columns newer newsfold versions appended to a table (schema.py) are added to
        a warehouse made before them; older rows read them as NULL."""
        have: dict[str, set[str]] = {}
        for t, c in self.sql("SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = ?",
                             [LAKE]).fetchall():
            have.setdefault(t, set()).add(c)
        for name in schema.TABLES:
            for statement in schema.add_columns_sql(name, have.get(name, set())):
                self.con.execute(statement)

    def close(self) -> None:
        # a locked-down database keeps its sandbox and locked settings: never lent again
        _DATABASES.give_back(self.con, reuse=not getattr(self, "locked", False))

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- reads -----------------------------------------------------------

    def sql(self, query: str, params: list | None = None) -> duckdb.DuckDBPyConnection:
        return self.con.execute(query, params or [])

    def next_drop_id(self) -> int:
        return self.sql("SELECT coalesce(max(drop_id), 0) + 1 FROM drops").fetchone()[0]

    def known_doc_ids(self, doc_ids: list[str]) -> set[str]:
        ids = pa.table({"doc_id": pa.array(doc_ids, pa.string())})
        self.con.register("_ids", ids)
        try:
            return {r[0] for r in self.sql("SELECT d.doc_id FROM documents d JOIN _ids USING (doc_id)").fetchall()}
        finally:
            self.con.unregister("_ids")

    def url_matches(self, keys: pa.Table) -> pa.Table:
        """(query, article_id) pairs: articles holding a document whose canonical URL equals
        the query's (keys: columns query, canonical_url)."""
        self.con.register("_urls", keys)
        try:
            return self.sql("""
                SELECT DISTINCT u.query, p.article_id
                FROM _urls u JOIN documents d ON d.canonical_url = u.canonical_url
                JOIN provenance p USING (doc_id)""").arrow().read_all()
        finally:
            self.con.unregister("_urls")

    def write_known_records(self, path: str | os.PathLike, source_paths: list[str]) -> int:
        """Write the doc_ids the warehouse holds for records of these container files to a
        Parquet file (source_path, doc_id), so batch workers skip them before any work."""
        self.con.register("_paths", pa.table({"source_path": pa.array(source_paths, pa.string())}))
        try:
            path = str(path).replace("'", "''")
            self.con.execute(f"""COPY (SELECT d.source_path, d.doc_id FROM documents d SEMI JOIN _paths USING (source_path))
                                 TO '{path}' (FORMAT parquet)""")
            return self.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]
        finally:
            self.con.unregister("_paths")

    def write_chrome_keys(self, path: str | os.PathLike, sources: Collection[str] | None = None) -> int:
        """Write the chrome learnt so far (source_name, key) for `sources` (None: all) to a
        Parquet file; returns rows (0, and no file, for a warehouse made before newsfold
        learnt chrome)."""
        if not self.sql("SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = 'chrome_keys'",
                        [LAKE]).fetchone()[0]:
            return 0
        path = str(path).replace("'", "''")
        where, params = ("", []) if sources is None else ("WHERE list_contains(?, source_name)", [sorted(sources)])
        self.con.execute(f"COPY (SELECT source_name, key FROM chrome_keys {where}) TO '{path}' (FORMAT parquet)",
                         params)
        return self.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]

    def exact_matches(self, clean_hashes: list[str]) -> dict[str, tuple[str, str]]:
        """clean_sha256 -> (doc_id, article_id) of an earlier accepted document with that text."""
        hashes = pa.table({"clean_sha256": pa.array(clean_hashes, pa.string())})
        self.con.register("_hashes", hashes)
        try:
            rows = self.sql("""
                SELECT d.clean_sha256, min(p.doc_id), min(p.article_id)
                FROM documents d JOIN _hashes USING (clean_sha256) JOIN provenance p USING (doc_id)
                GROUP BY d.clean_sha256""").fetchall()
        finally:
            self.con.unregister("_hashes")
        return {h: (doc, art) for h, doc, art in rows}

    def index_parameters(self) -> dict | None:
        """The parameters this warehouse's signatures and band index were made with (see
        config.INDEX_KEYS): those its first drop recorded in drops.parameters. Warehouses from
        before the algorithm version was recorded lack that key; num_perm, if missing, is read
        off the stored signatures. None: no drop yet."""
        from .config import INDEX_KEYS

        row = self.sql("SELECT parameters FROM drops WHERE parameters IS NOT NULL ORDER BY drop_id LIMIT 1"
                       ).fetchone()
        recorded = json.loads(row[0]) if row else {}
        stored = {k: recorded[k] for k in (*INDEX_KEYS, "algorithm_version") if k in recorded}
        if "num_perm" not in stored:
            width = self.sql("SELECT octet_length(minhash) FROM signatures LIMIT 1").fetchone()
            if width:
                stored["num_perm"] = width[0] // 4
        return stored or None

    def has_band_index(self) -> bool:
        return self.sql("SELECT EXISTS (SELECT 1 FROM lsh_bands)").fetchone()[0]

    def band_matches(self, bands: pa.Table, max_bucket: int = 256) -> pa.Table:
        """Join query band hashes (columns query, band, hash) with the stored index.

        Returns (query, article_id) pairs: each article one of whose documents
        shares at least one LSH band with the query document. A bucket of more
        than `max_bucket` stored documents (a site's chrome in the lead bands
        can put tens of thousands of documents in one bucket) stands for its
        first document only, as in `signatures.candidate_pairs`: otherwise one
        query would drag in every article of that site, and a 1 % drop against a
        million documents joined hundreds of millions of rows.
        """
        self.con.register("_bands", bands)
        try:
            return self.sql(f"""
                WITH keys AS (SELECT DISTINCT band, hash FROM _bands),
                buckets AS (
                    SELECT b.band, b.hash, count(*) AS n, min(b.doc_id) AS first_doc
                    FROM lsh_bands b SEMI JOIN keys k ON b.band = k.band AND b.hash = k.hash
                    GROUP BY b.band, b.hash),
                members AS (
                    SELECT b.band, b.hash, b.doc_id
                    FROM lsh_bands b JOIN buckets k ON b.band = k.band AND b.hash = k.hash
                    WHERE k.n <= {int(max_bucket)} OR b.doc_id = k.first_doc)
                SELECT DISTINCT q.query, s.article_id
                FROM _bands q JOIN members m ON m.band = q.band AND m.hash = q.hash
                JOIN signatures s ON s.doc_id = m.doc_id""").arrow().read_all()
        finally:
            self.con.unregister("_bands")

    def canonical_signatures(self, article_ids: list[str]) -> pa.Table:
        """For each article: its canonical doc, that doc's signature and size, and the
        headlines its copies carry."""
        ids = pa.table({"article_id": pa.array(article_ids, pa.string())})
        self.con.register("_arts", ids)
        try:
            return self.sql("""
                WITH titles AS (
                    SELECT p.article_id, list(DISTINCT d.title) AS titles
                    FROM provenance p JOIN _arts USING (article_id) JOIN documents d USING (doc_id)
                    WHERE d.title IS NOT NULL GROUP BY p.article_id)
                SELECT a.article_id, a.canonical_doc_id, s.n_shingles, s.minhash, t.titles
                FROM articles a JOIN _arts USING (article_id)
                JOIN signatures s ON s.doc_id = a.canonical_doc_id
                LEFT JOIN titles t USING (article_id)""").arrow().read_all()
        finally:
            self.con.unregister("_arts")

    def minima_counts(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(keys, stories) for those of `keys` (uint64 signature minima, see dedup) that the
        warehouse's minima_df holds, counts summed over drops."""
        self.con.register("_keys", pa.table({"key": pa.array(np.asarray(keys, dtype=np.uint64), pa.uint64())}))
        try:
            found = self.sql("""SELECT m.key, sum(m.n)::BIGINT AS n FROM minima_df m
                                SEMI JOIN _keys k ON m.key = k.key GROUP BY m.key""").arrow().read_all()
        finally:
            self.con.unregister("_keys")
        return found.column("key").to_numpy(), found.column("n").to_numpy()

    # --- the one write ----------------------------------------------------

    def commit_drop(self, drop_id: int, tables: dict[str, pa.Table],
                    relation_updates: pa.Table | None = None,
                    staged: StagedDrop | None = None) -> None:
        """Append a drop's rows to every table and apply canonical switches, atomically.

        `tables` are inserted as they are; `staged` rows come from the staging
        files, in the same transaction.
        """
        before = self._data_files_on_disk()
        self.con.execute("BEGIN TRANSACTION")
        try:
            if staged is not None:
                self._insert_staged(staged)
            for name, rows in tables.items():
                if name == "drops":
                    rows = _stamp_finished(rows)
                if rows.num_rows:
                    self.con.register("_rows", rows.select(schema.TABLES[name].names))
                    # by name: a migrated warehouse has its newer columns in the order they were added
                    self.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _rows")
                    self.con.unregister("_rows")
                    fault_point(f"after_insert_{name}")
            if relation_updates is not None and relation_updates.num_rows:
                self.con.register("_rel", relation_updates)
                self.con.execute("""
                    UPDATE provenance SET relation = r.relation, similarity = r.similarity,
                        containment = r.containment, matched_doc_id = r.matched_doc_id
                    FROM _rel r WHERE provenance.doc_id = r.doc_id""")
                self.con.unregister("_rel")
            self.con.execute(f"CALL {LAKE}.set_commit_message('newsfold', 'drop {int(drop_id)}')")
            fault_point("before_commit")
            self.con.execute("COMMIT")
            fault_point("after_commit")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            self._remove_files_of_failed_commit(before)
            raise

    def _update_articles(self, source: str) -> None:
        self.con.execute(f"""
            UPDATE articles SET canonical_doc_id = u.canonical_doc_id, title = u.title,
                byline = u.byline, published_at = u.published_at, text = u.text,
                word_count = u.word_count, clean_sha256 = u.clean_sha256,
                updated_drop_id = u.updated_drop_id
            FROM {source} u WHERE articles.article_id = u.article_id""")

    def _insert_staged(self, st: StagedDrop) -> None:
        from . import plan  # the staging schema; imported here, see the TYPE_CHECKING import

        if not st.files:
            return
        for name, table in (("_skip", st.skip), ("_new_articles", st.new_articles), ("_indexed", st.indexed),
                            ("_switches", st.switches)):
            self.con.register(name, table)
        # Bounded memory for a million-document drop: DuckDB spills to disk beyond its
        # memory limit, and without insertion order it streams the inserts instead of buffering.
        tmp = Path(st.files[0]).parent / "duckdb_tmp"
        self.con.execute(f"SET temp_directory = '{str(tmp).replace(chr(39), chr(39) * 2)}'")
        self.con.execute("SET preserve_insertion_order = false")
        files = _sql_list(st.files)
        self.con.execute(f"""CREATE OR REPLACE TEMP VIEW _staged AS
                             SELECT * FROM read_parquet({files}) WHERE doc_id NOT IN (SELECT doc_id FROM _skip)""")
        drop = int(st.drop_id)
        at = ("?", [st.ingested_at])

        def insert(table: str, select: dict[str, str], source: str, params: list | None = None) -> None:
            # select: column -> SQL expression; every column of the table must be given
            cols = schema.TABLES[table].names
            exprs = ", ".join(f'{select[c]} AS "{c}"' for c in cols)
            self.con.execute(f"INSERT INTO {table} BY NAME SELECT {exprs} FROM {source}", params or [])
            fault_point(f"after_insert_{table}")

        # which staging column fills which warehouse column is the plan's (plan.STAGED_AS)
        staged = lambda table: {c: f's."{src}"' for c, src in plan.STAGED_AS[table].items()}  # noqa: E731
        insert("documents", {**staged("documents"), "drop_id": str(drop), "ingested_at": at[0]}, "_staged s", at[1])
        article = {**staged("articles"), "updated_drop_id": str(drop)}
        insert("articles", {**article, "article_id": "n.article_id", "first_drop_id": str(drop)},
               "_staged s JOIN _new_articles n USING (doc_id)")
        insert("removed_spans", {"doc_id": "s.doc_id", "drop_id": str(drop),
                                 **{c: f's.span."{c}"' for c in plan.SPAN_TYPE.names}},
               f'(SELECT doc_id, unnest("{plan.SPANS}") AS span FROM _staged) s')
        insert("signatures", {**staged("signatures"), "article_id": "i.article_id"},
               "_staged s JOIN _indexed i USING (doc_id)")
        band = ("s.band" if st.band_ids is None
                else f"list_extract([{', '.join(str(int(b)) for b in st.band_ids)}], s.band + 1)")
        insert("lsh_bands", {"band": "CAST(s.band AS SMALLINT)", "hash": "s.hash", "doc_id": "s.doc_id"},
               f"(SELECT DISTINCT s.doc_id, {band} AS band, s.hash FROM "
               f'(SELECT s.doc_id, unnest(range(len(s."{plan.BANDS}"))) AS band, unnest(s."{plan.BANDS}") AS hash '
               " FROM _staged s JOIN _indexed i USING (doc_id)) s) s")
        if st.chrome_files:
            self.con.execute(f"""
                INSERT INTO chrome_keys
                SELECT DISTINCT c.source_name, c.key, {drop} FROM read_parquet({_sql_list(st.chrome_files)}) c
                WHERE NOT EXISTS (SELECT 1 FROM chrome_keys k
                                  WHERE k.source_name = c.source_name AND k.key = c.key)""")
            fault_point("after_insert_chrome_keys")
        if st.switches.num_rows:
            self.con.execute(f"""CREATE OR REPLACE TEMP VIEW _switched AS
                SELECT w.article_id, {", ".join(f"{e} AS {c}" for c, e in article.items())}
                FROM _staged s JOIN _switches w USING (doc_id)""")
            self._update_articles("_switched")
        for name in ("_skip", "_new_articles", "_indexed", "_switches"):
            self.con.unregister(name)

    # --- maintenance (`newsfold compact`) ---------------------------------

    def compact(self, older_than: timedelta | None = None) -> dict[str, int]:
        """DuckLake's own maintenance: expire snapshots older than `older_than` (None:
        keep every snapshot; the latest drop's snapshot is always kept), rewrite files
        that are mostly deleted rows, merge small adjacent files, and delete the files no
        kept snapshot references. Time travel to every kept drop still works (merged
        files keep each row's snapshot range). Run it under the writer lock. A reader
        that opened an older file list just before may fail once and can simply retry.
        """
        before = len(self._data_files_on_disk())
        expired = 0
        if older_than is not None:
            latest_drop = max(self.drop_snapshots().values(), default=None)
            if latest_drop is not None:
                ids = [r[0] for r in self.sql(
                    f"SELECT snapshot_id FROM {LAKE}.snapshots() WHERE snapshot_id < ? AND snapshot_time < now() - ?",
                    [latest_drop, older_than]).fetchall()]
                if ids:
                    # explicit versions: older_than alone would expire the latest snapshot too
                    self.sql(f"CALL ducklake_expire_snapshots('{LAKE}', versions => ?)", [ids]).fetchall()
                    expired = len(ids)
        self.sql(f"CALL ducklake_rewrite_data_files('{LAKE}')").fetchall()
        self.sql(f"CALL ducklake_merge_adjacent_files('{LAKE}')").fetchall()
        deleted = len(self.sql(f"CALL ducklake_cleanup_old_files('{LAKE}', cleanup_all => true)").fetchall())
        return {"files_before": before, "files_after": len(self._data_files_on_disk()), "snapshots_expired": expired,
                "files_deleted": deleted}

    def drop_snapshots(self) -> dict[int, int]:
        """drop_id -> DuckLake snapshot id that committed it."""
        rows = self.sql(f"SELECT snapshot_id, commit_message FROM {LAKE}.snapshots() "
                        "WHERE commit_message LIKE 'drop %'").fetchall()
        return {int(msg.split()[1]): sid for sid, msg in rows}

    # --- safety: read-only user queries ---------------------------------------

    def lock_down(self) -> None:
        """Make this read-only connection safe for queries typed by a user (`newsfold sql`).

        The lake is attached READ_ONLY (no INSERT/UPDATE/DELETE/CREATE on it). On
        top, DuckDB's own sandbox: no file outside the lake's data folder can be
        read or written, no extension installed or loaded, and the configuration
        is locked so no statement can undo this. DuckDB cannot make a directory
        read-only, and it lets the sqlite extension ATTACH the catalog whatever
        the settings, so `query()` also refuses every statement that is not a
        query and the table functions that write (see `check_read_only_query`).
        """
        data = str((self.path / "data").resolve()).replace("'", "''") + "/"
        for setting in (f"allowed_directories = ['{data}']", "enable_external_access = false",
                        "autoinstall_known_extensions = false", "autoload_known_extensions = false",
                        "lock_configuration = true"):
            self.con.execute(f"SET {setting}")
        self.locked = True

    def query(self, query: str) -> duckdb.DuckDBPyConnection:
        """Run a user's query on a locked-down connection; the last statement's result."""
        if not getattr(self, "locked", False):
            raise RuntimeError("Warehouse.query needs a connection made with lock_down()")
        check_read_only_query(self.con, query)
        return self.con.execute(query)

    # --- safety: damage check and repair --------------------------------------

    def data_files(self) -> list[DataFile]:
        """Every file the catalog references, for any kept snapshot."""
        return catalog_files(self.path)

    def _data_files_on_disk(self) -> set[Path]:
        return set((self.path / "data").resolve().rglob("*.parquet"))

    def _remove_files_of_failed_commit(self, before: set[Path]) -> None:
        """Delete the Parquet files a failed commit left: DuckLake's rollback removes the
        files it finished, not one whose write failed (a full disk). We hold the writer
        lock, so a new file the catalog does not reference is this commit's."""
        with contextlib.suppress(Exception):
            for p in unreferenced_files(self.path):
                if p not in before:
                    p.unlink(missing_ok=True)


# Table functions that write (files or the catalog) even inside a SELECT; a lake's
# `lake.merge_adjacent_files()` is the same function as `ducklake_merge_adjacent_files`.
WRITING_TABLE_FUNCTIONS = frozenset({
    "commit", "cleanup_old_files", "add_data_files", "delete_orphaned_files", "set_commit_message",
    "set_option", "rewrite_data_files", "merge_adjacent_files", "flush_inlined_data", "expire_snapshots",
    # run SQL given as a string, which the checks below cannot see into
    "sqlite_attach", "sqlite_query", "query", "query_table",
})


def check_read_only_query(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Raise WarehouseError unless every statement of `query` only reads.

    Allowed: SELECT in all its forms (FROM-first, WITH, VALUES, DESCRIBE, SHOW,
    SUMMARIZE, PIVOT without ENUM creation) and EXPLAIN [ANALYZE] of a SELECT.
    Refused: everything else (ATTACH, DETACH, COPY, CREATE, INSERT, SET, USE,
    INSTALL, LOAD, CALL, EXPORT, PRAGMA, transactions, …) and table functions
    that write (WRITING_TABLE_FUNCTIONS).
    """
    if not query.strip():
        raise WarehouseError("empty query: give a SQL query, e.g. \"SELECT title FROM articles\"")
    statements = con.extract_statements(query)
    if not statements:
        raise WarehouseError("empty query: give a SQL query, e.g. \"SELECT title FROM articles\"")
    for st in statements:
        try:
            sql = st.query
        except IndexError:  # one statement expanded into several (PIVOT creating an ENUM)
            sql = None
        if st.type == duckdb.StatementType.EXPLAIN and sql is not None:
            inner = re.match(r"\s*EXPLAIN\s+(?:ANALYZE\s+)?(.*)", sql, re.IGNORECASE | re.DOTALL)
            sql = inner.group(1) if inner else None
            sub = con.extract_statements(sql) if sql else []
            kind = sub[0].type if len(sub) == 1 else st.type
        else:
            kind = st.type
        if kind != duckdb.StatementType.SELECT or sql is None:
            name = _keyword(sql) or str(kind).rsplit(".", 1)[-1]
            raise WarehouseError(f"`newsfold sql` only reads: {name} statements are not allowed "
                                 "(the warehouse changes only through `newsfold ingest`)")
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
        if tree.get("error"):
            raise WarehouseError(f"cannot check the query: {tree.get('error_message')}")
        for name in _table_functions(tree):
            if name.lower().removeprefix("ducklake_") in WRITING_TABLE_FUNCTIONS:
                raise WarehouseError(f"`newsfold sql` only reads: {name}() is not allowed")


def _keyword(sql: str | None) -> str | None:
    """The statement's first keyword as the user wrote it: DuckDB files INSTALL under LOAD,
    BEGIN under TRANSACTION, USE under SET. None for WITH …, where the type says what it does."""
    m = re.match(r"\s*([A-Za-z]+)", sql or "")
    return m.group(1).upper() if m and m.group(1).upper() != "WITH" else None


def _table_functions(node) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "TABLE_FUNCTION" and isinstance(node.get("function"), dict):
            yield str(node["function"].get("function_name", ""))
        for value in node.values():
            yield from _table_functions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _table_functions(value)


# --- safety: damage check and repair ------------------------------------------
#
# These read and (repair) rewrite the DuckLake catalog with sqlite3 directly: a
# damaged lake may fail to attach or to scan, and DuckLake has no rollback to an
# earlier snapshot. The catalog format is the one of the pinned ducklake 1.5.5
# extension (catalog version 1.0, checked before any repair).

CATALOG_VERSION = "1.0"


@dataclass
class DataFile:
    """A Parquet file the catalog references (a data file or a delete file)."""

    table: str
    kind: str                  # data | delete
    path: Path
    size_bytes: int
    record_count: int          # rows (data file) or deleted rows (delete file)
    begin_snapshot: int
    end_snapshot: int | None   # None: part of the current snapshot

    @property
    def current(self) -> bool:
        return self.end_snapshot is None


@dataclass
class FileProblem:
    file: DataFile
    problem: str               # "missing", "size … (catalog: …)", "unreadable: …", "… rows (catalog: …)"

    def __str__(self) -> str:
        when = ("current snapshot" if self.file.current
                else f"snapshots {self.file.begin_snapshot}-{self.file.end_snapshot - 1} only")
        return f"{self.file.table}: {self.file.path}: {self.problem} ({when})"


@dataclass
class CheckReport:
    files: int                 # files the catalog references
    problems: list[FileProblem]
    unreferenced: list[Path]   # Parquet files under data/ no snapshot references
    writer_busy: bool          # an ingest was running: its unfinished files are not counted as unreferenced

    @property
    def ok(self) -> bool:
        return not self.problems


def _catalog(path: Path, write: bool = False) -> sqlite3.Connection:
    catalog = (path / "catalog.sqlite").resolve()
    if path.exists() and not path.is_dir():
        raise WarehouseError(f"{path} is a file, not a warehouse folder")
    if not catalog.is_file():
        raise WarehouseError(f"no warehouse at {path} (run `newsfold ingest` first)")
    con = sqlite3.connect(f"file:{catalog}?mode={'rw' if write else 'ro'}", uri=True, timeout=60,
                          isolation_level=None)
    try:
        version = con.execute("SELECT value FROM ducklake_metadata WHERE key = 'version'").fetchone()
    except sqlite3.DatabaseError as exc:
        con.close()
        raise WarehouseError(f"catalog {catalog} is not readable: {exc}") from None
    if write and (not version or version[0] != CATALOG_VERSION):
        con.close()
        raise WarehouseError(f"catalog version {version and version[0]} is not {CATALOG_VERSION}: "
                             "this newsfold cannot repair it")
    return con


def _resolve(base: Path, part: str, relative: bool) -> Path:
    return base / part if relative else Path(part)


def catalog_files(path: str | os.PathLike, con: sqlite3.Connection | None = None) -> list[DataFile]:
    """Every data and delete file the catalog references, with where it lives.

    Paths resolve as DuckLake resolves them with OVERRIDE_DATA_PATH: the
    warehouse's data/ folder, then the schema's, the table's and the file's
    relative paths.
    """
    path = Path(path)
    own = con is None
    con = con or _catalog(path)
    try:
        tables = {tid: (name, sid, tpath, bool(trel)) for tid, name, sid, tpath, trel in con.execute(
            "SELECT table_id, table_name, schema_id, path, path_is_relative FROM ducklake_table "
            "ORDER BY begin_snapshot")}
        schemas = {sid: (spath, bool(srel)) for sid, spath, srel in con.execute(
            "SELECT schema_id, path, path_is_relative FROM ducklake_schema ORDER BY begin_snapshot")}
        rows = con.execute("""
            SELECT 'data', table_id, path, path_is_relative, file_size_bytes, record_count, begin_snapshot,
                   end_snapshot FROM ducklake_data_file
            UNION ALL
            SELECT 'delete', table_id, path, path_is_relative, file_size_bytes, delete_count, begin_snapshot,
                   end_snapshot FROM ducklake_delete_file""").fetchall()
    finally:
        if own:
            con.close()
    data = (path / "data").resolve()
    files = []
    for kind, tid, fpath, frel, size, count, begin, end in rows:
        name, sid, tpath, trel = tables[tid]
        spath, srel = schemas[sid]
        table_dir = _resolve(_resolve(data, spath, srel), tpath, trel)
        files.append(DataFile(name, kind, _resolve(table_dir, fpath, bool(frel)), int(size or 0), int(count or 0),
                              int(begin), None if end is None else int(end)))
    return files


def check_file(f: DataFile, deep: bool = False, footer: bool = True) -> str | None:
    """What is wrong with one referenced file, or None.

    Cheap (footer=False): it exists with the size the catalog recorded.
    Default: also its Parquet footer reads and holds the catalog's row count.
    Deep: also every row group decodes (every page is read).
    """
    try:
        size = f.path.stat().st_size
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    if size != f.size_bytes:
        return f"size {size} bytes (catalog: {f.size_bytes})"
    if not footer:
        return None
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(f.path)
        rows = pf.metadata.num_rows
        if rows != f.record_count:
            return f"{rows} rows (catalog: {f.record_count})"
        if deep:
            read = sum(pf.read_row_group(i).num_rows for i in range(pf.num_row_groups))
            if read != f.record_count:
                return f"{read} rows read (catalog: {f.record_count})"
    except (OSError, pa.ArrowException) as exc:
        return f"unreadable: {str(exc).splitlines()[0]}"
    return None


def unreferenced_files(path: str | os.PathLike, files: list[DataFile] | None = None) -> list[Path]:
    """Parquet files under data/ that no kept snapshot references (and that are not
    scheduled for deletion): left by a killed or failed commit, or by a repair.

    Only meaningful while no ingest is writing: a running ingest's files are
    unreferenced until its commit.
    """
    path = Path(path)
    with contextlib.closing(_catalog(path)) as con:
        files = files if files is not None else catalog_files(path, con)
        scheduled = [p for p, in con.execute("SELECT path FROM ducklake_files_scheduled_for_deletion")]
    known = {f.path for f in files}
    pending = {Path(p).name for p in scheduled}  # DuckLake deletes these itself (file names are unique)
    data = (path / "data").resolve()
    return sorted(p for p in data.rglob("*.parquet") if p not in known and p.name not in pending)


def check_warehouse(path: str | os.PathLike, deep: bool = False, footer: bool = True) -> CheckReport:
    """Verify every file the catalog references, in every kept snapshot (see `check_file`)."""
    path = Path(path)
    files = catalog_files(path)
    problems = [FileProblem(f, why) for f in files if (why := check_file(f, deep, footer))]
    busy = writer_busy(path)
    return CheckReport(len(files), problems, [] if busy else unreferenced_files(path, files), busy)


def writer_busy(path: str | os.PathLike) -> bool:
    """True when another process holds the warehouse's writer lock. It only looks: taking the
    lock opened writer.lock to write, so `status` and `check` of a warehouse the user may only
    read failed with "Permission denied: .../writer.lock"."""
    path = Path(path).resolve()
    if _held_locks.get(path):
        return False
    try:
        fd = os.open(path / "writer.lock", os.O_RDONLY)
    except OSError:  # no lock file: no writer has ever held it; unreadable: cannot tell
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return True
        raise
    finally:
        os.close(fd)  # and with it the shared lock
    return False


@dataclass
class RepairPlan:
    """What `repair_warehouse` does: see its docstring."""

    current_snapshot: int
    rewind_to: int | None              # snapshot to go back to (None: the current one is intact)
    lost_drops: list[int]              # drops committed after rewind_to: rolled back
    expire: list[int]                  # older snapshots that reference a damaged file: time travel to them ends
    reingest: list[str]                # source paths (or drop inputs) of the rolled-back drops' documents
    unreadable_lost_files: int         # damaged files of rolled-back drops (their documents are listed by input)
    unreferenced: list[Path]           # files to delete

    @property
    def changes_anything(self) -> bool:
        return bool(self.rewind_to is not None or self.expire or self.unreferenced)


def plan_repair(path: str | os.PathLike) -> RepairPlan:
    """Work out the repair without changing anything (see `repair_warehouse`)."""
    import pyarrow.parquet as pq

    path = Path(path)
    with contextlib.closing(_catalog(path)) as con:
        current = con.execute("SELECT max(snapshot_id) FROM ducklake_snapshot").fetchone()[0]
        snapshots = [s for s, in con.execute("SELECT snapshot_id FROM ducklake_snapshot ORDER BY 1")]
        messages = dict(con.execute("SELECT snapshot_id, commit_message FROM ducklake_snapshot_changes "
                                    "WHERE commit_message LIKE 'drop %'").fetchall())
        files = catalog_files(path, con)
    bad = [f for f in files if check_file(f)]

    def damaged(snapshot: int) -> bool:
        return any(f.begin_snapshot <= snapshot and (f.end_snapshot is None or snapshot < f.end_snapshot)
                   for f in bad)

    rewind_to = None
    if damaged(current):
        intact = [s for s in snapshots if s < current and not damaged(s)]
        if not intact:
            raise WarehouseError("no snapshot of the warehouse has all its files: nothing to go back to "
                                 "(ingest again into a new warehouse)")
        rewind_to = intact[-1]
    kept = rewind_to if rewind_to is not None else current
    expire = [s for s in snapshots if s <= kept and damaged(s)]
    lost_snapshots = {s for s in snapshots if s > kept}
    lost_drops = sorted(int(messages[s].split()[1]) for s in lost_snapshots if s in messages)

    # What to ingest again: the documents the rolled-back drops recorded (read from their
    # intact documents files) and, for a drop whose documents file is damaged, the inputs
    # its `drops` row names.
    reingest: set[str] = set()
    unreadable = 0
    damaged_docs = set()
    for f in files:
        if f.begin_snapshot in lost_snapshots and f.kind == "data" and f.table == "documents":
            if f in bad:
                unreadable += 1
                damaged_docs.add(f.begin_snapshot)
            else:
                reingest.update(pq.read_table(f.path, columns=["source_path"]).column(0).to_pylist())
    for f in files:
        if f.begin_snapshot in damaged_docs and f.table == "drops" and f.kind == "data" and f not in bad:
            for inputs in pq.read_table(f.path, columns=["inputs"]).column(0).to_pylist():
                reingest.update(json.loads(inputs or "[]"))
    after = {f.path for f in files if f.begin_snapshot <= kept}
    orphans = [p for p in unreferenced_files(path, files) if p not in after]
    # files only the rolled-back snapshots reference become unreferenced by the rewind
    orphans += sorted(f.path for f in files if f.begin_snapshot > kept and f.path.exists())
    return RepairPlan(current, rewind_to, lost_drops, expire, sorted(p for p in reingest if p), unreadable,
                      sorted(set(orphans)))


# Catalog tables whose rows are versioned by begin_snapshot/end_snapshot.
_VERSIONED = ("ducklake_schema", "ducklake_table", "ducklake_view", "ducklake_tag", "ducklake_column_tag",
              "ducklake_data_file", "ducklake_delete_file", "ducklake_column", "ducklake_partition_info",
              "ducklake_macro", "ducklake_sort_info")
_PER_DATA_FILE = ("ducklake_file_column_stats", "ducklake_file_variant_stats", "ducklake_file_partition_value")


def repair_warehouse(path: str | os.PathLike, plan: RepairPlan | None = None, wait_s: float = 0.0) -> RepairPlan:
    """Bring a damaged warehouse back to its last snapshot whose files are all present.

    Under the writer lock:
    1. If the current snapshot references a missing or unreadable file, the
       catalog is rewound to the last snapshot whose files are all intact: every
       snapshot after it is removed (its drops are rolled back: `lost_drops`,
       and their documents are listed in `reingest` so they can be ingested
       again). A copy of the catalog is kept as catalog.sqlite.before-repair-<time>.
    2. Older snapshots that reference a damaged file (time travel to them would
       fail) are expired; the current data does not need them.
    3. Parquet files no kept snapshot references are deleted (left by killed
       commits, and those of the rolled-back drops).
    """
    path = Path(path)
    with writer_lock(path, wait_s):
        plan = plan or plan_repair(path)
        if plan.rewind_to is not None:
            stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
            shutil.copyfile(path / "catalog.sqlite", path / f"catalog.sqlite.before-repair-{stamp}")
            _rewind_catalog(path, plan.rewind_to)
        if plan.expire:
            with Warehouse(path) as wh:
                wh.con.execute(f"CALL ducklake_expire_snapshots('{LAKE}', versions => ?)", [plan.expire])
                wh.con.execute(f"CALL ducklake_cleanup_old_files('{LAKE}', cleanup_all => true)")
        for p in plan.unreferenced:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
    return plan


def _stat_key(column_type: str):
    """Order of DuckLake's min/max strings: numbers by value, everything else as text
    (ISO dates and timestamps sort as text; DuckDB compares strings by their bytes)."""
    if column_type.startswith(("int", "uint", "float", "decimal")):
        return lambda v: float(v) if column_type.startswith("float") else Decimal(v)
    return lambda v: v


def _recompute_column_stats(con: sqlite3.Connection) -> None:
    """Table-wide column stats from the current data files' stats.

    They must be exact, not merely wide enough: DuckDB answers `max(drop_id)`
    from them without reading a file.
    """
    types = {(t, c): ty for t, c, ty in con.execute(
        "SELECT table_id, column_id, column_type FROM ducklake_column WHERE end_snapshot IS NULL")}
    rows = con.execute("""
        SELECT s.table_id, s.column_id, s.null_count, s.min_value, s.max_value, s.contains_nan
        FROM ducklake_file_column_stats s JOIN ducklake_data_file f USING (data_file_id)
        WHERE f.end_snapshot IS NULL""").fetchall()
    stats: dict[tuple[int, int], list] = {}
    for table, column, nulls, lo, hi, nan in rows:
        key = _stat_key(types.get((table, column), "varchar"))
        st = stats.setdefault((table, column), [False, None, None, None])
        st[0] = st[0] or bool(nulls)
        if lo is not None and (st[1] is None or key(lo) < key(st[1])):
            st[1] = lo
        if hi is not None and (st[2] is None or key(hi) > key(st[2])):
            st[2] = hi
        if nan is not None:
            st[3] = bool(st[3]) or bool(nan)
    for (table, column), (has_null, lo, hi, nan) in stats.items():
        con.execute("UPDATE ducklake_table_column_stats SET contains_null = ?, min_value = ?, max_value = ?, "
                    "contains_nan = ? WHERE table_id = ? AND column_id = ?",
                    [int(has_null), lo, hi, None if nan is None else int(nan), table, column])
    # a table left without data files: no values, so no min/max
    con.execute("""UPDATE ducklake_table_column_stats SET contains_null = 0, min_value = NULL, max_value = NULL
                   WHERE table_id NOT IN (SELECT table_id FROM ducklake_data_file WHERE end_snapshot IS NULL)""")


def _rewind_catalog(path: Path, snapshot: int) -> None:
    """Make the catalog exactly what it was right after `snapshot` (one SQLite transaction)."""
    con = _catalog(path, write=True)
    try:
        con.execute("BEGIN IMMEDIATE")
        s = int(snapshot)
        inlined = con.execute("SELECT count(*) FROM ducklake_inlined_data_tables").fetchone()[0]
        if inlined:
            raise WarehouseError("the catalog holds inlined rows; this newsfold cannot rewind it")
        con.execute(f"""DELETE FROM {_PER_DATA_FILE[0]} WHERE data_file_id IN
                        (SELECT data_file_id FROM ducklake_data_file WHERE begin_snapshot > {s})""")
        for table in _PER_DATA_FILE[1:]:
            con.execute(f"""DELETE FROM {table} WHERE data_file_id IN
                            (SELECT data_file_id FROM ducklake_data_file WHERE begin_snapshot > {s})""")
        for table in _VERSIONED:
            con.execute(f"DELETE FROM {table} WHERE begin_snapshot > {s}")
            con.execute(f"UPDATE {table} SET end_snapshot = NULL WHERE end_snapshot > {s}")
        con.execute(f"DELETE FROM ducklake_schema_versions WHERE begin_snapshot > {s}")
        con.execute(f"DELETE FROM ducklake_snapshot_changes WHERE snapshot_id > {s}")
        con.execute(f"DELETE FROM ducklake_snapshot WHERE snapshot_id > {s}")
        # table totals as DuckLake keeps them: rows and bytes of the current data files
        # (deleted rows included), and the next row id past every file's rows
        con.execute("""
            UPDATE ducklake_table_stats SET
                record_count = (SELECT coalesce(sum(record_count), 0) FROM ducklake_data_file f
                                WHERE f.table_id = ducklake_table_stats.table_id AND f.end_snapshot IS NULL),
                file_size_bytes = (SELECT coalesce(sum(file_size_bytes), 0) FROM ducklake_data_file f
                                   WHERE f.table_id = ducklake_table_stats.table_id AND f.end_snapshot IS NULL),
                next_row_id = (SELECT coalesce(max(row_id_start + record_count), 0) FROM ducklake_data_file f
                               WHERE f.table_id = ducklake_table_stats.table_id)""")
        con.execute("DELETE FROM ducklake_table_stats WHERE table_id NOT IN (SELECT table_id FROM ducklake_table)")
        con.execute("DELETE FROM ducklake_table_column_stats WHERE table_id NOT IN "
                    "(SELECT table_id FROM ducklake_table)")
        _recompute_column_stats(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def _stamp_finished(drops: pa.Table) -> pa.Table:
    """finished_at = now (the drop's rows are written, its commit is next), elapsed_s =
    finished_at - started_at: the one elapsed figure of a drop (status, the ingest
    summary and serve's run line all show this one)."""
    now = datetime.now(timezone.utc)
    started = drops.column("started_at").to_pylist()
    elapsed = [None if t is None else round((now - t).total_seconds(), 3) for t in started]
    drops = drops.set_column(drops.schema.get_field_index("finished_at"), "finished_at",
                             pa.array([now] * drops.num_rows, drops.schema.field("finished_at").type))
    return drops.set_column(drops.schema.get_field_index("elapsed_s"), "elapsed_s",
                            pa.array(elapsed, pa.float64()))


def _sql_list(paths: list[str]) -> str:
    """A SQL list literal of file paths."""
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


_held_locks: dict[Path, int] = {}  # warehouse -> depth, so a process can re-enter its own lock


@contextlib.contextmanager
def writer_lock(path: str | os.PathLike, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the warehouse's single-writer lock, waiting up to `wait_s` seconds.

    The lock is an flock on writer.lock: the kernel releases it when the
    process dies, so a killed ingest never leaves a stale lock behind. It is
    re-entrant within a process (the CLI takes it before starting the flow, so
    a busy warehouse is reported before any flow run starts).
    """
    path = Path(path).resolve()
    if path.exists() and not path.is_dir():
        raise WarehouseError(f"{path} is a file, not a warehouse folder")
    if _held_locks.get(path):
        _held_locks[path] += 1
        try:
            yield
        finally:
            _held_locks[path] -= 1
        return
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "writer.lock", "a+") as fh:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise WarehouseError(
                        f"warehouse {path} is busy: another newsfold ingest is writing to it "
                        "(wait for it, or pass --wait SECONDS)") from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        _held_locks[path] = 1
        try:
            yield
        finally:
            del _held_locks[path]
            fcntl.flock(fh, fcntl.LOCK_UN)
