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
import os
import shutil
import signal
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from . import schema

LAKE = "lake"
DUCKDB_VERSION = "1.5.5"
WRITER_MEMORY_LIMIT = "3GB"  # DuckDB's share of the < 6 GiB a million-document ingest may use


def fault_point(name: str) -> None:
    """Test hook: NEWSFOLD_KILL_AT=<name> SIGKILLs the process here.

    The recovery tests use it to kill an ingest at exact points of a commit and
    prove the warehouse stays at the previous drop.
    """
    if os.environ.get("NEWSFOLD_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class StagedDrop:
    """A drop's big rows, still in the staging Parquet files its batches wrote.

    The commit inserts documents, articles, removed spans, signatures and the
    band index from these files with SQL, inside the drop's one transaction,
    so no process holds a drop's texts in memory. The small Arrow tables say
    which staged rows go where.
    """

    files: list[str]           # staging Parquet files (pipeline.drop.PROCESSED rows)
    chrome_files: list[str]    # chrome the batches learnt (pipeline.drop.CHROME_KEYS rows)
    drop_id: int
    ingested_at: datetime
    skip: pa.Table             # doc_id: documents the warehouse already holds
    new_articles: pa.Table     # article_id, doc_id: new articles and their canonical documents
    indexed: pa.Table          # doc_id, article_id: documents whose signature and bands are stored
    switches: pa.Table         # article_id, doc_id: articles whose canonical copy becomes doc_id
    # LSH band id of each position of the staged band list (dedup.band_ids: the lead windows
    # share ids); None: the position is the id
    band_ids: list[int] | None = None


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


def attach_sql(path: Path, read_only: bool = False, snapshot: int | None = None) -> str:
    options = [f"DATA_PATH '{(path / 'data').resolve()}/'", "OVERRIDE_DATA_PATH true",
               # never inline rows into the catalog: every row lives in Parquet
               "DATA_INLINING_ROW_LIMIT 0"]
    if read_only:
        options.append("READ_ONLY")
    if snapshot is not None:
        options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
    return f"ATTACH 'ducklake:sqlite:{(path / 'catalog.sqlite').resolve()}' AS {LAKE} ({', '.join(options)})"


class Warehouse:
    """A connection to one warehouse folder. Use as a context manager."""

    def __init__(self, path: str | os.PathLike, read_only: bool = False, snapshot: int | None = None):
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not (self.path / "catalog.sqlite").exists():
            raise WarehouseError(f"no warehouse at {self.path} (run `newsfold ingest` first)")
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "data").mkdir(exist_ok=True)
        self.con = duckdb.connect(config={"extension_directory": str(extension_directory())})
        try:
            self.con.execute(attach_sql(self.path, read_only, snapshot))
        except duckdb.Error as exc:
            self.con.close()
            raise WarehouseError(f"cannot open warehouse {self.path}: {exc}") from exc
        self.con.execute(f"USE {LAKE}")
        if not read_only:
            # DuckDB would take up to 80 % of RAM; the writer shares the machine with its workers
            self.con.execute(f"SET memory_limit = '{WRITER_MEMORY_LIMIT}'")
            for name in schema.TABLES:
                self.con.execute(schema.create_table_sql(name))

    def close(self) -> None:
        self.con.close()

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
        self.con.execute("BEGIN TRANSACTION")
        try:
            if staged is not None:
                self._insert_staged(staged)
            for name, rows in tables.items():
                if rows.num_rows:
                    self.con.register("_rows", rows.select(schema.TABLES[name].names))
                    self.con.execute(f"INSERT INTO {name} SELECT * FROM _rows")
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
            raise

    def _update_articles(self, source: str) -> None:
        self.con.execute(f"""
            UPDATE articles SET canonical_doc_id = u.canonical_doc_id, title = u.title,
                byline = u.byline, published_at = u.published_at, text = u.text,
                word_count = u.word_count, clean_sha256 = u.clean_sha256,
                updated_drop_id = u.updated_drop_id
            FROM {source} u WHERE articles.article_id = u.article_id""")

    def _insert_staged(self, st: StagedDrop) -> None:
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
            self.con.execute(f"INSERT INTO {table} SELECT {exprs} FROM {source}", params or [])
            fault_point(f"after_insert_{table}")

        same = lambda table, *but: {c: f's."{c}"' for c in schema.TABLES[table].names if c not in but}  # noqa: E731
        insert("documents", {**same("documents", "drop_id", "ingested_at"), "drop_id": str(drop),
                             "ingested_at": at[0]}, "_staged s", at[1])
        article = {"canonical_doc_id": "s.doc_id", "title": "s.title", "byline": "s.byline",
                   "published_at": "s.published_at", "text": "s.text", "word_count": "s.word_count",
                   "clean_sha256": "s.clean_sha256", "updated_drop_id": str(drop)}
        insert("articles", {**article, "article_id": "n.article_id", "first_drop_id": str(drop)},
               "_staged s JOIN _new_articles n USING (doc_id)")
        span_cols = [c for c in schema.TABLES["removed_spans"].names if c not in ("doc_id", "drop_id")]
        insert("removed_spans", {"doc_id": "s.doc_id", "drop_id": str(drop),
                                 **{c: f's.span."{c}"' for c in span_cols}},
               "(SELECT doc_id, unnest(spans) AS span FROM _staged) s")
        insert("signatures", {**same("signatures", "article_id"), "article_id": "i.article_id"},
               "_staged s JOIN _indexed i USING (doc_id)")
        band = ("s.band" if st.band_ids is None
                else f"list_extract([{', '.join(str(int(b)) for b in st.band_ids)}], s.band + 1)")
        insert("lsh_bands", {"band": "CAST(s.band AS SMALLINT)", "hash": "s.hash", "doc_id": "s.doc_id"},
               f"(SELECT DISTINCT s.doc_id, {band} AS band, s.hash FROM "
               "(SELECT s.doc_id, unnest(range(len(s.bands))) AS band, unnest(s.bands) AS hash "
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

    def drop_snapshots(self) -> dict[int, int]:
        """drop_id -> DuckLake snapshot id that committed it."""
        rows = self.sql(f"SELECT snapshot_id, commit_message FROM {LAKE}.snapshots() "
                        "WHERE commit_message LIKE 'drop %'").fetchall()
        return {int(msg.split()[1]): sid for sid, msg in rows}


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
