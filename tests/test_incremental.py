"""Re-ingesting drops: stable ids, canonical switches, kill-and-rerun, concurrent writers, serve."""
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import REPO, SEED, run_cli
from flows.ingest import ingest_flow
from pipeline import schema
from pipeline.warehouse import Warehouse, writer_lock

STATE_SQL = {
    # everything that must converge, without run-specific columns (timestamps, elapsed)
    "documents": "SELECT doc_id, source_path, status, reject_reason, clean_sha256 FROM documents ORDER BY doc_id",
    "articles": "SELECT article_id, canonical_doc_id, text FROM articles ORDER BY article_id",
    "provenance": "SELECT doc_id, article_id, relation, similarity FROM provenance ORDER BY doc_id",
    "removed_spans": "SELECT doc_id, stage, reason, start, \"end\" FROM removed_spans ORDER BY ALL",
    "signatures": "SELECT doc_id, article_id FROM signatures ORDER BY doc_id",
    "lsh_bands": "SELECT count(*), count(DISTINCT doc_id) FROM lsh_bands",
    "chrome_keys": "SELECT source_name, count(*) FROM chrome_keys GROUP BY ALL ORDER BY ALL",
    "drops": "SELECT count(*) FROM drops",
}

pytestmark = pytest.mark.usefixtures("prefect_harness")


def state(wh_path):
    with Warehouse(wh_path, read_only=True) as wh:
        return {t: wh.sql(q).fetchall() for t, q in STATE_SQL.items()}


def q(wh_path, sql):
    with Warehouse(wh_path, read_only=True) as wh:
        return wh.sql(sql).fetchall()


def test_more_complete_copy_takes_over_and_article_id_stays(tmp_path):
    full = SEED["000"].read_text(encoding="utf-8")
    paragraphs = full.split("\n\n")
    teaser = "\n\n".join(paragraphs[: len(paragraphs) * 2 // 5])
    (tmp_path / "d1").mkdir()
    (tmp_path / "d1" / "teaser.txt").write_text(teaser, encoding="utf-8")
    wh = tmp_path / "wh"
    ingest_flow(paths=[str(tmp_path / "d1")], warehouse=str(wh))
    [(article_id, teaser_doc)] = q(wh, "SELECT article_id, canonical_doc_id FROM articles")

    (tmp_path / "d2").mkdir()
    shutil.copy(SEED["000"], tmp_path / "d2" / "full.txt")
    s = ingest_flow(paths=[str(tmp_path / "d2")], warehouse=str(wh))
    assert s["n_canonical_switches"] == 1 and s["n_new_articles"] == 0
    [(same_id, new_doc, updated)] = q(wh, "SELECT article_id, canonical_doc_id, updated_drop_id FROM articles")
    assert same_id == article_id and new_doc != teaser_doc and updated == 2
    assert q(wh, "SELECT article_id, drop_id, old_doc_id, new_doc_id FROM canonical_switches") == [
        (article_id, 2, teaser_doc, new_doc)]
    rel = dict(q(wh, "SELECT doc_id, relation FROM provenance"))
    assert rel == {teaser_doc: schema.CONTAINED, new_doc: schema.CANONICAL}


def test_as_of_drop_sees_the_older_snapshot(tmp_path, seeds_copy):
    wh = tmp_path / "wh"
    (tmp_path / "one").mkdir()
    shutil.copy(SEED["001"], tmp_path / "one")
    ingest_flow(paths=[str(tmp_path / "one")], warehouse=str(wh))
    ingest_flow(paths=[str(seeds_copy)], warehouse=str(wh))
    now = run_cli("sql", "SELECT count(*) AS n FROM articles", "-w", wh, "--format", "csv")
    then = run_cli("sql", "SELECT count(*) AS n FROM articles", "-w", wh, "--format", "csv", "--as-of-drop", 1)
    assert now.stdout.split() == ["n", "5"] and then.stdout.split() == ["n", "1"], (now.stderr, then.stderr)
    missing = run_cli("sql", "SELECT 1", "-w", wh, "--as-of-drop", 9)
    assert missing.returncode == 1 and "no drop 9" in missing.stderr


@pytest.mark.parametrize("point", ["before_plan", "after_insert_documents", "after_insert_lsh_bands",
                                   "after_insert_chrome_keys", "before_commit"])
def test_killed_ingest_leaves_previous_drop_and_rerun_converges(tmp_path, seeds_copy, cli_env, point):
    drop1, drop2 = tmp_path / "drop1", tmp_path / "drop2"
    drop1.mkdir()
    shutil.copy(SEED["002"], drop1)
    shutil.copytree(seeds_copy, drop2)
    (drop2 / "copy_of_003.txt").write_bytes(SEED["003"].read_bytes())

    reference = tmp_path / "reference"
    ingest_flow(paths=[str(drop1)], warehouse=str(reference))
    ingest_flow(paths=[str(drop2)], warehouse=str(reference))

    wh = tmp_path / "wh"
    ingest_flow(paths=[str(drop1)], warehouse=str(wh))
    after_drop1 = state(wh)
    killed = run_cli("ingest", drop2, "-w", wh, env={**cli_env, "NEWSFOLD_KILL_AT": point})
    assert killed.returncode == -9, killed.stderr
    assert state(wh) == after_drop1  # nothing of the killed drop is visible
    assert run_cli("status", "-w", wh).returncode == 0  # and the warehouse still answers
    ingest_flow(paths=[str(drop2)], warehouse=str(wh))
    assert state(wh) == state(reference)


def test_kill_after_commit_keeps_the_drop_and_rerun_adds_nothing(tmp_path, seeds_copy, cli_env):
    wh = tmp_path / "wh"
    killed = run_cli("ingest", seeds_copy, "-w", wh, env={**cli_env, "NEWSFOLD_KILL_AT": "after_commit"})
    assert killed.returncode == -9
    committed = state(wh)
    assert len(committed["articles"]) == 5
    s = ingest_flow(paths=[str(seeds_copy)], warehouse=str(wh))
    assert s["n_seen_before"] == 5 and s["n_documents"] == 0
    after = state(wh)
    assert {k: v for k, v in after.items() if k != "drops"} == {k: v for k, v in committed.items() if k != "drops"}


def test_second_writer_fails_at_once_or_waits(tmp_path, seeds_copy, cli_env):
    wh = tmp_path / "wh"
    with writer_lock(wh):
        t0 = time.monotonic()
        busy = run_cli("ingest", seeds_copy, "-w", wh, env=cli_env)
        assert busy.returncode == 1 and "busy" in busy.stderr and "Traceback" not in busy.stderr
        assert len(busy.stderr.strip().splitlines()) == 1
        assert time.monotonic() - t0 < 120
        waiting = subprocess.Popen([sys.executable, "-m", "flows.cli", "ingest", str(seeds_copy), "-w", str(wh),
                                    "--wait", "120"], cwd=REPO, env=cli_env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        assert waiting.poll() is None  # still waiting for the lock
    out, err = waiting.communicate(timeout=180)
    assert waiting.returncode == 0, err
    assert len(q(wh, "SELECT * FROM articles")) == 5


def test_serve_picks_up_successive_files(tmp_path, cli_env):
    inbox, wh = tmp_path / "inbox", tmp_path / "wh"
    inbox.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "--inbox", str(inbox), "-w", str(wh),
                             "--interval", "1", "--scheduler", "local"], cwd=REPO, env=cli_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def wait_for_docs(n, timeout=120):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                assert proc.poll() is None, proc.communicate()
                if (wh / "catalog.sqlite").exists():
                    try:
                        if q(wh, "SELECT count(*) FROM documents")[0][0] >= n:
                            return
                    except Exception:
                        pass
                time.sleep(0.5)
            raise AssertionError(f"serve did not ingest {n} documents in time")

        shutil.copy(SEED["001"], inbox / "first.txt")
        wait_for_docs(1)
        shutil.copy(SEED["003"], inbox / "second.txt")
        wait_for_docs(2)
        time.sleep(2.5)  # more scheduled runs with nothing new
    finally:
        proc.terminate()  # SIGTERM ends serve like Ctrl-C; a run it cuts short commits nothing
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    drops = q(wh, "SELECT n_documents FROM drops ORDER BY drop_id")
    assert drops == [(1,), (1,)]  # one drop per new file, no empty drops
    assert len(q(wh, "SELECT * FROM documents")) == 2



def test_site_chrome_learnt_in_one_drop_cleans_a_small_later_drop(tmp_path):
    from test_quality import _article, _letters

    header = "Weatherby Gazette online edition | Regional desk | Letters to the editor | Puzzles and crosswords"
    footer = ("The Weatherby Gazette is printed and published by Weatherby Media Group, registered in England "
              "at Mill Lane, and is a member of the press standards body.")

    def page(i):
        return f"{header}\n\nHeadline {_letters(i)} for the day\n\n{_article(i)}\n\n{footer}\n"

    for i in range(6):
        folder = tmp_path / ("d1" if i < 5 else "d2") / "gazette"  # one source: the folder's name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"p{i}.txt").write_text(page(i), encoding="utf-8")
    chrome_of = ("SELECT r.text FROM removed_spans r JOIN documents d USING (doc_id) "
                 "WHERE d.source_path LIKE '%p5.txt' AND r.stage = 'chrome' ORDER BY r.start")

    alone = tmp_path / "alone"
    ingest_flow(paths=[str(tmp_path / "d2")], warehouse=str(alone))
    assert q(alone, chrome_of) == []  # one page alone: nothing repeats

    wh = tmp_path / "wh"
    ingest_flow(paths=[str(tmp_path / "d1")], warehouse=str(wh))
    learnt = q(wh, "SELECT DISTINCT source_name, drop_id FROM chrome_keys")
    assert learnt == [("gazette", 1)]
    ingest_flow(paths=[str(tmp_path / "d2")], warehouse=str(wh))
    assert q(wh, chrome_of) == [(header,), (footer,)]
    [(text,)] = q(wh, "SELECT a.text FROM articles a JOIN documents d ON d.doc_id = a.canonical_doc_id "
                      "WHERE d.source_path LIKE '%p5.txt'")
    assert header not in text and footer not in text and _article(5) in text


def test_only_the_chrome_of_a_drops_sources_is_staged(tmp_path):
    from pipeline import sources

    wh = tmp_path / "wh"
    ingest_flow(paths=[str(SEED["000"])], warehouse=str(wh))
    with Warehouse(wh) as w:
        w.sql("INSERT INTO chrome_keys VALUES ('gazette', 1, 1), ('gazette', 2, 1), ('courier', 3, 1)")
    out = tmp_path / "known.parquet"
    with Warehouse(wh, read_only=True) as w:
        assert w.write_chrome_keys(out, sources.source_names(["/in/gazette/a.txt", "/in/other/b.txt"])) == 2
        assert w.write_chrome_keys(out, sources.source_names(["/in/gazette/a.txt", "/in/x/page.html"])) == 3
