"""Planning a drop against an in-memory warehouse (the WarehouseReader Protocol, no DuckLake)."""
import json
import shutil
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import SEED
from pipeline import dedup, plan, schema
from pipeline.config import IngestConfig
from pipeline.drop import stage_batch
from pipeline.warehouse import Warehouse

P = dedup.DedupParams()
NO_PAIRS = pa.table({"query": pa.array([], pa.string()), "article_id": pa.array([], pa.string())})


class FakeWarehouse:
    """What planning reads, from dicts: documents seen, exact texts, and articles whose
    canonical signature every query's bands and URL lead to."""

    def __init__(self, doc_ids=(), exact=None, articles=None):
        self.doc_ids = set(doc_ids)
        self.exact = exact or {}                 # clean_sha256 -> (doc_id, article_id)
        self.articles = articles or {}           # article_id -> (canonical doc_id, n_shingles, minhash bytes)

    def known_doc_ids(self, doc_ids):
        return self.doc_ids & set(doc_ids)

    def exact_matches(self, clean_hashes):
        return {h: self.exact[h] for h in clean_hashes if h in self.exact}

    def has_band_index(self):
        return bool(self.articles)

    def band_matches(self, bands):
        queries = sorted(set(bands.column("query").to_pylist()))
        return pa.table({"query": pa.array([q for q in queries for _ in self.articles], pa.int64()),
                         "article_id": pa.array([a for _ in queries for a in self.articles], pa.string())})

    def url_matches(self, keys):
        return NO_PAIRS

    def canonical_signatures(self, article_ids):
        rows = [{"article_id": a, "canonical_doc_id": self.articles[a][0], "n_shingles": self.articles[a][1],
                 "minhash": self.articles[a][2]} for a in article_ids if a in self.articles]
        return pa.Table.from_pylist(rows, schema=pa.schema([("article_id", pa.string()),
                                                            ("canonical_doc_id", pa.string()),
                                                            ("n_shingles", pa.int32()), ("minhash", pa.binary())]))

    def minima_counts(self, keys):
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """The seeds' staging file and its rows."""
    tmp = tmp_path_factory.mktemp("plan")
    for p in SEED.values():
        shutil.copy(p, tmp / p.name)
    path = tmp / "staging" / "batch-000000.parquet"
    stage_batch(sorted(tmp.glob("*.txt")), IngestConfig(dedup=P), path)
    return path, pq.read_table(path).to_pylist()


def check_counts(p: plan.DropPlan):
    c = p.counts
    assert c["n_documents"] == c["n_accepted"] + c["n_rejected"]
    assert c["n_files"] == c["n_seen_before"] + c["n_documents"]
    assert c["n_accepted"] == p.tables["provenance"].num_rows == (
        c["n_new_articles"] + c["n_canonical_switches"] + c["n_exact_duplicates"] + c["n_near_duplicates"]
        + c["n_contained"])
    drops = p.tables["drops"].to_pylist()
    assert len(drops) == 1 and {k: drops[0][k] for k in c} == c


def test_a_first_drop_is_planned_whole_with_its_drops_row(staged):
    path, rows = staged
    started = datetime(2026, 1, 2, tzinfo=timezone.utc)
    info = plan.DropInfo(label="first", inputs=("in",), started_at=started, n_found=len(rows), version="9.9")
    p = plan.plan_drop([path], FakeWarehouse(), P, 7, info=info)
    check_counts(p)
    assert p.counts["n_files"] == len(rows) and p.counts["n_seen_before"] == 0
    drop = p.tables["drops"].to_pylist()[0]
    assert (drop["drop_id"], drop["label"], drop["inputs"], drop["started_at"], drop["newsfold_version"]) == (
        7, "first", '["in"]', started, "9.9")
    assert json.loads(drop["parameters"]) == P.to_dict()
    assert p.counts["n_spans_removed"] == sum(r["n_spans"] for r in rows)
    assert p.staged.files == [str(path)] and p.staged.skip.num_rows == 0
    assert set(p.staged.new_articles["doc_id"].to_pylist()) <= {r["doc_id"] for r in rows}


def test_documents_the_warehouse_holds_or_the_flow_skipped_count_as_seen_before(staged):
    path, rows = staged
    held = rows[0]["doc_id"]
    # two more were skipped before staging (files known by path and bytes, records of containers)
    p = plan.plan_drop([path], FakeWarehouse(doc_ids=[held]), P, 2, info=plan.DropInfo(n_found=len(rows) + 2))
    check_counts(p)
    assert p.counts["n_seen_before"] == 3 and p.counts["n_files"] == len(rows) + 2
    assert p.staged.skip.column("doc_id").to_pylist() == [held]
    assert held not in p.tables["provenance"].column("doc_id").to_pylist()


def test_a_text_the_warehouse_has_is_an_exact_duplicate_of_its_article(staged):
    path, rows = staged
    row = next(r for r in rows if r["status"] == schema.ACCEPTED)
    wh = FakeWarehouse(exact={row["clean_sha256"]: ("old-doc", "a_old")})
    p = plan.plan_drop([path], wh, P, 2)
    check_counts(p)
    prov = {r["doc_id"]: r for r in p.tables["provenance"].to_pylist()}
    assert (prov[row["doc_id"]]["relation"], prov[row["doc_id"]]["article_id"],
            prov[row["doc_id"]]["matched_doc_id"]) == (schema.EXACT_DUPLICATE, "a_old", "old-doc")
    # an exact duplicate adds nothing to the index
    assert row["doc_id"] not in p.staged.indexed.column("doc_id").to_pylist()


def test_a_band_candidate_that_verifies_joins_the_warehouses_article(staged):
    path, rows = staged
    row = max((r for r in rows if r["status"] == schema.ACCEPTED), key=lambda r: r["n_shingles"])
    # the warehouse holds an article whose canonical copy has this document's signature and size
    wh = FakeWarehouse(articles={"a_old": ("old-doc", row["n_shingles"], row["minhash"])})
    p = plan.plan_drop([path], wh, P, 2)
    check_counts(p)
    prov = {r["doc_id"]: r for r in p.tables["provenance"].to_pylist()}[row["doc_id"]]
    assert (prov["relation"], prov["article_id"], prov["matched_doc_id"]) == (
        schema.NEAR_DUPLICATE, "a_old", "old-doc")
    assert p.counts["n_near_duplicates"] >= 1 and "a_old" not in p.staged.new_articles["article_id"].to_pylist()


def test_a_longer_copy_takes_over_the_warehouses_article(staged):
    path, rows = staged
    row = max((r for r in rows if r["status"] == schema.ACCEPTED), key=lambda r: r["n_shingles"])
    # the warehouse's canonical copy: the same text, but much smaller than this one
    wh = FakeWarehouse(articles={"a_old": ("old-doc", row["n_shingles"] // 2, row["minhash"])})
    p = plan.plan_drop([path], wh, P, 2)
    check_counts(p)
    assert p.counts["n_canonical_switches"] == 1
    assert p.tables["canonical_switches"].to_pylist() == [
        {"article_id": "a_old", "drop_id": 2, "old_doc_id": "old-doc", "new_doc_id": row["doc_id"]}]
    assert p.relation_updates.to_pylist()[0]["doc_id"] == "old-doc"
    assert p.relation_updates.to_pylist()[0]["relation"] == schema.CONTAINED


def test_the_warehouse_implements_what_planning_reads():
    wanted = [name for name in vars(plan.WarehouseReader) if not name.startswith("_")]
    assert wanted and all(callable(getattr(Warehouse, name, None)) for name in wanted)


def test_the_staging_columns_the_commit_copies_exist_in_the_staging_schema():
    for table, columns in plan.STAGED_AS.items():
        assert set(columns) <= set(schema.TABLES[table].names), table
        assert set(columns.values()) <= set(plan.PROCESSED.names), table
    assert {plan.SPANS, plan.BANDS} <= set(plan.PROCESSED.names)


def test_fingerprints_are_read_file_by_file_for_the_kept_rows_only(tmp_path):
    """read_fingerprints: the signature and band rows of exactly the rows planning keeps
    (not rejected, not known), across staging files, in order."""
    width = P.bands + P.lead_bands * P.lead_windows
    files, expected_sigs, expected_bands, keep = [], [], [], []
    rng = np.random.default_rng(0)
    for f in range(3):
        rows = []
        for r in range(4):
            accepted = (f + r) % 3 != 0
            sig = rng.integers(0, 2 ** 32, size=P.num_perm, dtype=np.uint32)
            bands = rng.integers(0, 2 ** 63, size=width, dtype=np.uint64)
            rows.append({"doc_id": f"{f}-{r}", "status": schema.ACCEPTED if accepted else schema.REJECTED,
                         "minhash": dedup.sig_to_bytes(sig) if accepted else None,
                         "bands": bands.tolist() if accepted else None, "n_spans": 0})
            kept = accepted and r != 1          # row 1 of each file: a document the warehouse has
            keep.append(kept)
            if kept:
                expected_sigs.append(sig)
                expected_bands.append(bands)
        path = tmp_path / f"batch-{f}.parquet"
        pq.write_table(pa.Table.from_pylist(rows, schema=plan.PROCESSED), path)
        files.append(path)
    sigs, bands = plan.read_fingerprints(files, np.array(keep), P)
    assert np.array_equal(sigs, np.array(expected_sigs)) and np.array_equal(bands, np.array(expected_bands))
    empty_sigs, empty_bands = plan.read_fingerprints([], np.array([], dtype=bool), P)
    assert empty_sigs.shape == (0, P.num_perm) and empty_bands.shape == (0, width)
