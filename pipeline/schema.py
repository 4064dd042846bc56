"""The warehouse schema: the one place that names every table and column.

The first five tables are the public contract (README, checks and users query
them by name). The others are newsfold's own index and history tables;
they are queryable too but may change between versions.
"""
from __future__ import annotations

import pyarrow as pa

# provenance.relation values
CANONICAL = "canonical"
EXACT_DUPLICATE = "exact_duplicate"
NEAR_DUPLICATE = "near_duplicate"
CONTAINED = "contained"
RELATIONS = (CANONICAL, EXACT_DUPLICATE, NEAR_DUPLICATE, CONTAINED)
# dedup's verdict for a later, more complete copy that takes over an article's canonical copy
# (recorded as canonical; the old canonical becomes contained)
TAKES_OVER = "takes_over"

# documents.status values
ACCEPTED = "accepted"
REJECTED = "rejected"

# documents.reject_reason values of the clean stage (the readers add their own, e.g. "html_without_text")
NO_ARTICLE_TEXT = "no_article_text"   # fewer than min_words words of article text left
DEGENERATE_TEXT = "degenerate_text"   # one token repeated, no sentence at all, or mostly base64/hex

TABLES: dict[str, pa.Schema] = {
    # Every input seen, accepted or rejected (with the reason).
    "documents": pa.schema([
        ("doc_id", pa.string()),          # sha256(path, content) prefix: same file again = same id
        ("drop_id", pa.int64()),          # the drop that first saw this document
        ("source_path", pa.string()),
        ("source_name", pa.string()),     # site / folder the document came from
        ("format", pa.string()),          # text | html | jsonl | json | csv | parquet | warc
        ("content_sha256", pa.string()),  # of the raw bytes
        ("size_bytes", pa.int64()),
        ("encoding", pa.string()),
        ("status", pa.string()),          # accepted | rejected
        ("reject_reason", pa.string()),
        ("title", pa.string()),
        ("byline", pa.string()),
        ("published_at", pa.date32()),
        ("raw_chars", pa.int64()),
        ("clean_chars", pa.int64()),
        ("clean_sha256", pa.string()),    # of the clean text; equal = exact duplicate
        ("n_shingles", pa.int32()),
        ("ingested_at", pa.timestamp("us", tz="UTC")),
        ("error", pa.string()),           # details of reject reasons unreadable / internal_error, etc.
        ("clean_text", pa.string()),      # the text after cleaning and repeat collapse (accepted only)
        # --- records of containers (pipeline/readers.py) ---
        ("source_uri", pa.string()),      # source_path, plus "#L<line>" (JSONL, CSV) or "#<WARC-Record-ID>"
        ("url", pa.string()),             # the URL the record or page carried
        ("canonical_url", pa.string()),   # normalised canonical URL: a strong duplicate signal
        ("fetched_at", pa.timestamp("us", tz="UTC")),  # crawl time (WARC-Date, news-please date_download)
    ]),
    # One row per story: the canonical copy's clean text and metadata.
    "articles": pa.schema([
        ("article_id", pa.string()),      # issued once, never changes
        ("canonical_doc_id", pa.string()),
        ("title", pa.string()),
        ("byline", pa.string()),
        ("published_at", pa.date32()),
        ("text", pa.string()),
        ("word_count", pa.int32()),
        ("clean_sha256", pa.string()),
        ("first_drop_id", pa.int64()),
        ("updated_drop_id", pa.int64()),  # last drop that changed the canonical copy
    ]),
    # Which accepted document became which article, and how.
    "provenance": pa.schema([
        ("doc_id", pa.string()),
        ("article_id", pa.string()),
        ("drop_id", pa.int64()),
        ("relation", pa.string()),        # canonical | exact_duplicate | near_duplicate | contained
        ("similarity", pa.float64()),     # estimated Jaccard with the canonical copy (1.0 for itself)
        ("containment", pa.float64()),    # share of this document's shingles found in the canonical
        ("matched_doc_id", pa.string()),  # the canonical document it was compared with
    ]),
    # Everything cleaning and repeat collapse took out, with raw-text offsets.
    "removed_spans": pa.schema([
        ("doc_id", pa.string()),
        ("drop_id", pa.int64()),
        ("stage", pa.string()),           # clean | chrome | repeats
        ("reason", pa.string()),
        ("start", pa.int64()),            # character offsets into the decoded raw text
        ("end", pa.int64()),
        ("text", pa.string()),
        ("repeat_of_start", pa.int64()),  # for repeats: the earlier span this one repeated
        ("repeat_of_end", pa.int64()),
    ]),
    # One row per ingest run.
    "drops": pa.schema([
        ("drop_id", pa.int64()),
        ("label", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("finished_at", pa.timestamp("us", tz="UTC")),
        ("inputs", pa.string()),          # the paths given, as JSON
        ("n_files", pa.int64()),          # files found in the inputs (a JSONL/CSV/WARC/zip file: its records)
        ("n_seen_before", pa.int64()),    # identical path+content (or record) already in the warehouse
        ("n_documents", pa.int64()),      # new documents recorded by this drop
        ("n_accepted", pa.int64()),
        ("n_rejected", pa.int64()),
        ("n_new_articles", pa.int64()),
        ("n_exact_duplicates", pa.int64()),
        ("n_near_duplicates", pa.int64()),
        ("n_contained", pa.int64()),
        ("n_canonical_switches", pa.int64()),
        ("n_spans_removed", pa.int64()),
        ("elapsed_s", pa.float64()),
        ("parameters", pa.string()),      # dedup parameters, as JSON
        ("newsfold_version", pa.string()),
    ]),
    # --- newsfold's index and history ---
    # MinHash signature of every accepted document, for verifying later candidates.
    "signatures": pa.schema([
        ("doc_id", pa.string()),
        ("article_id", pa.string()),
        ("n_shingles", pa.int32()),
        ("minhash", pa.binary()),         # num_perm little-endian uint32 values
    ]),
    # LSH band hashes of every accepted document: the persistent candidate index.
    "lsh_bands": pa.schema([
        ("band", pa.int16()),
        ("hash", pa.uint64()),
        ("doc_id", pa.string()),
    ]),
    # Site chrome learnt per source (pipeline/chrome.py): hashes of folded sentences and word
    # 8-grams that many different articles of the source carry. Later drops start from them,
    # so a small drop from a known site is cleaned like a big one.
    "chrome_keys": pa.schema([
        ("source_name", pa.string()),
        ("key", pa.uint64()),
        ("drop_id", pa.int64()),          # the drop that learnt it
    ]),
    # Each time a more complete copy took over an article.
    "canonical_switches": pa.schema([
        ("article_id", pa.string()),
        ("drop_id", pa.int64()),
        ("old_doc_id", pa.string()),
        ("new_doc_id", pa.string()),
    ]),
    # Document frequency of MinHash signature minima (pipeline/dedup.py, common content): key =
    # signature position << 32 | minimum hash; n = how many different stories of a drop carry it
    # (copies of one story count once). Sum n over drops for the warehouse's count. Only keys two
    # stories share are kept. A key that many stories carry is boilerplate (a site's headline list,
    # a wire footer) and decides nothing in verification, also for a small later drop.
    "minima_df": pa.schema([
        ("key", pa.uint64()),
        ("n", pa.int32()),
        ("drop_id", pa.int64()),
    ]),
}

PUBLIC_TABLES = ("documents", "articles", "provenance", "removed_spans", "drops")

_DUCKDB_TYPES = {
    pa.string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.int16(): "SMALLINT",
    pa.uint64(): "UBIGINT",
    pa.float64(): "DOUBLE",
    pa.date32(): "DATE",
    pa.binary(): "BLOB",
    pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
}


def create_table_sql(name: str, qualifier: str = "") -> str:
    cols = ", ".join(f'"{f.name}" {_DUCKDB_TYPES[f.type]}' for f in TABLES[name])
    return f"CREATE TABLE IF NOT EXISTS {qualifier}{name} ({cols})"


def add_columns_sql(name: str, existing: set[str], qualifier: str = "") -> list[str]:
    """ALTER statements adding the columns a table made by an older version lacks (new
    columns are only ever appended, so older warehouses migrate by adding them)."""
    return [f'ALTER TABLE {qualifier}{name} ADD COLUMN "{f.name}" {_DUCKDB_TYPES[f.type]}'
            for f in TABLES[name] if f.name not in existing]


def empty(name: str) -> pa.Table:
    return TABLES[name].empty_table()


def table(name: str, rows: list[dict]) -> pa.Table:
    """Build a table of the named schema from row dicts (missing keys are null)."""
    return pa.Table.from_pylist(rows, schema=TABLES[name])
