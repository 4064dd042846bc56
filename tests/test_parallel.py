"""Batches in worker processes and on a Dask cluster give the same warehouse as one process."""

import pytest
from distributed import LocalCluster

from conftest import SEED
from flows.ingest import STAGING, ingest_flow
from pipeline.config import IngestConfig
from pipeline.warehouse import Warehouse

pytestmark = pytest.mark.usefixtures("prefect_harness")

STATE_SQL = {
    "documents": "SELECT doc_id, status, reject_reason, title, clean_sha256, n_shingles, drop_id FROM documents "
                 "ORDER BY doc_id",
    "articles": "SELECT article_id, canonical_doc_id, text, word_count FROM articles ORDER BY article_id",
    "provenance": "SELECT doc_id, article_id, relation, similarity FROM provenance ORDER BY doc_id",
    "removed_spans": 'SELECT doc_id, stage, reason, start, "end", text FROM removed_spans ORDER BY ALL',
    "signatures": "SELECT doc_id, article_id, n_shingles, minhash FROM signatures ORDER BY doc_id",
    "lsh_bands": "SELECT band, hash, doc_id FROM lsh_bands ORDER BY ALL",
}


def state(wh_path):
    with Warehouse(wh_path, read_only=True) as wh:
        return {t: wh.sql(q).fetchall() for t, q in STATE_SQL.items()}


@pytest.fixture
def drop(tmp_path, seeds_copy):
    """The seeds plus an exact copy, a teaser and a file that is rejected: several batches of 2."""
    (seeds_copy / "copy_of_003.txt").write_bytes(SEED["003"].read_bytes())
    paragraphs = SEED["000"].read_text(encoding="utf-8").split("\n\n")
    (seeds_copy / "teaser.txt").write_text("\n\n".join(paragraphs[: len(paragraphs) // 2]), encoding="utf-8")
    (seeds_copy / "empty.txt").write_bytes(b"")
    return seeds_copy


def test_worker_processes_and_dask_match_one_process(tmp_path, drop):
    one = ingest_flow(paths=[str(drop)], warehouse=str(tmp_path / "one"), config=IngestConfig().with_values(batch_size=2, workers=1))
    procs = ingest_flow(paths=[str(drop)], warehouse=str(tmp_path / "procs"), config=IngestConfig().with_values(batch_size=2, workers=2))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        before = cluster.scheduler.transition_counter
        dask = ingest_flow(paths=[str(drop)], warehouse=str(tmp_path / "dask"), config=IngestConfig().with_values(batch_size=2, dask_address=cluster.scheduler_address))
        assert cluster.scheduler.transition_counter > before  # the batches really went through the cluster
    counts = {k: v for k, v in one.items() if k.startswith("n_")}
    assert counts["n_files"] == 8 and counts["n_rejected"] == 1 and counts["n_exact_duplicates"] == 1
    assert counts["n_contained"] == 1
    for summary in (procs, dask):
        assert {k: v for k, v in summary.items() if k.startswith("n_")} == counts
    reference = state(tmp_path / "one")
    assert reference["articles"] and reference["removed_spans"] and reference["lsh_bands"]
    assert state(tmp_path / "procs") == reference
    assert state(tmp_path / "dask") == reference
    for wh in ("one", "procs", "dask"):
        assert not (tmp_path / wh / STAGING).exists()  # staging is removed after the commit


def test_stale_staging_from_a_killed_run_is_removed(tmp_path, drop):
    wh = tmp_path / "wh"
    stale = wh / STAGING / "deadbeef"
    stale.mkdir(parents=True)
    (stale / "batch-000000.parquet").write_bytes(b"half a file")
    s = ingest_flow(paths=[str(drop)], warehouse=str(wh), config=IngestConfig().with_values(batch_size=4, workers=1))
    assert s["n_files"] == 8
    assert not (wh / STAGING).exists()


@pytest.mark.parametrize("files, expected", [
    ({"cpu.max": "200000 100000\n"}, 2),  # cgroup v2, `docker run --cpus 2`
    ({"cpu.max": "150000 100000\n"}, 2),  # 1.5 CPUs: a second worker still gets half a CPU
    ({"cpu.max": "50000 100000\n"}, 1),
    ({"cpu.max": "max 100000\n"}, None),  # no quota: the affinity mask decides
    ({"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3),  # cgroup v1
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),  # no cgroup files (not Linux, or not mounted)
])
def test_default_workers_follow_a_containers_cpu_quota_not_the_hosts_cores(tmp_path, monkeypatch, files, expected):
    from flows import ingest

    monkeypatch.setattr(ingest.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert ingest.usable_cpus(tmp_path) == (expected or 64)
