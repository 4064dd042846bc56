"""End to end: the ingest flow on the seeds, copies, re-ingest and bad input."""
import json
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, SEED
from flows.cli import main
from flows.ingest import ingest_flow
from pipeline.warehouse import Warehouse

CHROME = ["Skip to main content", "Thumbnail", "Share this post", "Comment this post", "Tyler Durden's Photo",
          "Related articles", "Subscribe to our evening newsletter", "is the news editor of Antiwar.com"]

pytestmark = pytest.mark.usefixtures("prefect_harness")


def q(warehouse, sql):
    with Warehouse(warehouse, read_only=True) as wh:
        cur = wh.sql(sql)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def syndicated_copy_of_001() -> str:
    """001 as another site would carry it: other chrome, and two sentences reworded."""
    text = SEED["001"].read_text(encoding="utf-8")
    body = text.split("\n\n", 2)[2].rsplit("Author:", 1)[0].strip()
    body = body.replace("Russia on Tuesday issued a strong warning against",
                        "On Tuesday, Moscow sent a stern warning against")
    body = body.replace("Pakistani officials have repeatedly dismissed the idea.",
                        "officials in Islamabad have rejected the idea more than once.")
    return "\n\n".join([
        "Home | World | Politics | Opinion", "Skip to main content", "World News",
        "Russia Warns US Against Central Asia Troop Presence", "By Dave DeCamp", "July 14, 2021",
        body, "Share this article", "Read more:", "Biden signs infrastructure deal",
        "Markets close higher on tech rally", "Sign up for our daily newsletter to get the news in your inbox",
    ])


@pytest.fixture
def seeds_wh(tmp_path, seeds_copy):
    wh = tmp_path / "wh"
    summary = ingest_flow(paths=[str(seeds_copy)], warehouse=str(wh))
    return wh, seeds_copy, summary


def test_seeds_make_five_articles(seeds_wh):
    wh, _, summary = seeds_wh
    assert summary["n_files"] == 5 and summary["n_accepted"] == 5 and summary["n_new_articles"] == 5
    docs = q(wh, "SELECT * FROM documents")
    assert len(docs) == 5 and {d["status"] for d in docs} == {"accepted"}
    assert all(len(d["content_sha256"]) == 64 for d in docs)
    arts = q(wh, "SELECT a.*, d.source_path FROM articles a JOIN documents d ON d.doc_id = a.canonical_doc_id")
    assert len(arts) == 5
    by_seed = {a["source_path"].rsplit("/", 1)[1][:3]: a for a in arts}
    for a in arts:
        for phrase in CHROME:
            assert phrase not in a["text"], (phrase, a["source_path"])
    assert by_seed["004"]["text"].count(
        "Russian Foreign Minister Sergey Lavrov said that the presence of over 100,000") == 1
    assert by_seed["000"]["title"] == "Russia Warns Pentagon: Don't Deploy Troops In Central Asia Near Afghanistan"
    assert by_seed["001"]["title"] == "Russia Warns Against US Military Presence in Central Asia Near Afghanistan"
    assert by_seed["003"]["title"] == "Kremlin Is Worried US Troops Might Actually Leave Afghanistan"
    assert by_seed["004"]["title"] == "Russia Opposes Possible US Military Deployment in Central Asia"
    assert by_seed["000"]["byline"] == "Tyler Durden" and by_seed["001"]["byline"] == "Dave DeCamp"
    assert str(by_seed["000"]["published_at"]) == "2021-07-14"
    assert "strongly warned the United States against deploying" in by_seed["002"]["text"]
    prov = q(wh, "SELECT relation, count(*) AS n FROM provenance GROUP BY ALL")
    assert prov == [{"relation": "canonical", "n": 5}]
    repeats = q(wh, """SELECT r.* FROM removed_spans r JOIN documents d USING (doc_id)
                       WHERE r.stage = 'repeats' AND d.source_path LIKE '%004_%'""")
    assert len(repeats) >= 9 and all(r["repeat_of_start"] is not None for r in repeats)
    drops = q(wh, "SELECT * FROM drops")
    assert len(drops) == 1 and drops[0]["n_new_articles"] == 5 and drops[0]["n_spans_removed"] > 20


def test_copies_fold_into_the_existing_article_and_reingest_is_a_noop(seeds_wh, tmp_path):
    wh, seeds, _ = seeds_wh
    art_001 = q(wh, """SELECT a.article_id FROM articles a JOIN documents d ON d.doc_id = a.canonical_doc_id
                      WHERE d.source_path LIKE '%001_%'""")[0]["article_id"]
    drop2 = tmp_path / "drop2"
    drop2.mkdir()
    shutil.copy(SEED["001"], drop2 / "copy_of_001.txt")
    (drop2 / "syndicated_001.txt").write_text(syndicated_copy_of_001(), encoding="utf-8")
    s = ingest_flow(paths=[str(drop2)], warehouse=str(wh), label="copies")
    assert s["n_new_articles"] == 0 and s["n_exact_duplicates"] == 1 and s["n_near_duplicates"] == 1
    rows = q(wh, """SELECT d.source_path, p.relation, p.article_id, p.similarity FROM provenance p
                    JOIN documents d USING (doc_id) WHERE p.drop_id = 2 ORDER BY 1""")
    assert [(r["relation"], r["article_id"]) for r in rows] == [
        ("exact_duplicate", art_001), ("near_duplicate", art_001)]
    assert 0.5 <= rows[1]["similarity"] < 1.0
    assert q(wh, "SELECT count(*) AS n FROM articles")[0]["n"] == 5

    # the same files again: recorded as a drop, nothing else changes
    before = {t: q(wh, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in ("documents", "articles", "provenance")}
    s = ingest_flow(paths=[str(seeds), str(drop2)], warehouse=str(wh))
    assert s["n_seen_before"] == 7 and s["n_documents"] == 0 and s["n_new_articles"] == 0
    after = {t: q(wh, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in ("documents", "articles", "provenance")}
    assert before == after
    assert q(wh, "SELECT count(*) AS n FROM drops")[0]["n"] == 3


def test_bad_inputs_are_recorded_and_the_rest_lands(tmp_path):
    drop = tmp_path / "bad"
    drop.mkdir()
    shutil.copy(SEED["003"], drop / "good.txt")
    (drop / "empty.txt").write_bytes(b"")
    (drop / "binary.txt").write_bytes(bytes(range(256)) * 50)
    (drop / "cp1252.txt").write_bytes(("Café owners say “trade is slow” this winter. " * 10).encode("cp1252"))
    (drop / "chrome_only.txt").write_text("Home\nMenu\nShare this post\n")
    (drop / "nothing.html").write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    (drop / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    wh = tmp_path / "wh"
    s = ingest_flow(paths=[str(drop)], warehouse=str(wh))
    assert s["n_files"] == 7 and s["n_accepted"] == 2 and s["n_rejected"] == 5
    reasons = {r["source_path"].rsplit("/", 1)[1]: r["reject_reason"]
               for r in q(wh, "SELECT source_path, reject_reason FROM documents")}
    assert reasons["empty.txt"] == "empty_file"
    assert reasons["binary.txt"] == "binary_file"
    assert reasons["image.png"] == "unsupported_format"
    assert reasons["chrome_only.txt"] == "no_article_text"
    assert reasons["nothing.html"] in ("html_without_text", "no_article_text")
    assert reasons["good.txt"] is None and reasons["cp1252.txt"] is None
    assert q(wh, "SELECT count(*) AS n FROM articles")[0]["n"] == 2


def test_a_drop_folder_holding_the_warehouse_does_not_read_it(tmp_path, monkeypatch):
    # `newsfold ingest .` beside the default ./warehouse: the second drop read the warehouse's
    # catalog, Parquet files and writer.lock as 10 rejected documents, the next ones more (session 23)
    for p in SEED.values():
        shutil.copy(p, tmp_path / p.name)
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        ingest_flow(paths=["."], warehouse="warehouse")
    rows = q(tmp_path / "warehouse", "SELECT drop_id, count(*) AS n FROM documents GROUP BY ALL ORDER BY 1")
    assert rows == [{"drop_id": 1, "n": 5}]
    assert q(tmp_path / "warehouse", "SELECT n_files FROM drops WHERE drop_id = 2") == [{"n_files": 5}]


def test_cli_sql_json_and_status(seeds_wh, capsys):
    wh, _, _ = seeds_wh
    assert main(["sql", "SELECT title FROM articles WHERE title IS NOT NULL ORDER BY title", "-w", str(wh),
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 4 and set(rows[0]) == {"title"}
    assert main(["status", "-w", str(wh)]) == 0
    out = capsys.readouterr().out
    assert "articles" in out and "removed_spans" in out


def test_cli_ingest_prints_summary(tmp_path, seeds_copy, capsys):
    assert main(["ingest", str(seeds_copy), "-w", str(tmp_path / "wh"), "--label", "seeds"]) == 0
    out = capsys.readouterr().out
    for word in ("documents read", "accepted", "rejected", "new articles", "duplicates folded",
                 "spans removed", "elapsed"):
        assert word in out


@pytest.mark.parametrize("args, message", [
    (["ingest", "/no/such/dir"], "no such file or folder"),
    (["sql", "SELECT 1", "-w", "/no/such/warehouse"], "no warehouse"),
    (["ingest", "seeds", "--num-perm", "100"], "must equal num_perm"),
])
def test_cli_errors_are_one_line(args, message):
    proc = subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_cli_bad_sql_is_duckdbs_message_without_a_traceback(seeds_wh):
    wh, _, _ = seeds_wh
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "sql", "SELEC nonsense", "-w", str(wh)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    # DuckDB's message in full (its LINE/caret lines point at the error), nothing else
    assert proc.stderr.startswith("newsfold: error: Parser Error") and proc.stderr.count("newsfold:") == 1


def test_flow_folds_a_long_update_into_its_original_as_canonical(tmp_path):
    """A later, longer version of a story under a new headline is the same article, and the
    longer one is its canonical copy (the original is contained in it)."""
    original = SEED["001"].read_text(encoding="utf-8")
    extra = SEED["003"].read_text(encoding="utf-8").split("Related articles")[0].split("\n\n")[4:9]
    update = original.replace("Russia Warns Against US Military Presence in Central Asia Near Afghanistan",
                              "Update: Kremlin Widens Warning As Lavrov Tours Central Asia", 1)
    update = update.replace("\n\nAuthor:", "\n\n" + "\n\n".join(extra) + "\n\nAuthor:", 1)
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "original.txt").write_text(original, encoding="utf-8")
    (drop / "update.txt").write_text(update, encoding="utf-8")
    wh = tmp_path / "wh"
    s = ingest_flow(paths=[str(drop)], warehouse=str(wh))
    assert s["n_new_articles"] == 1, q(wh, "SELECT * FROM provenance")
    rows = q(wh, "SELECT d.source_path, p.relation FROM provenance p JOIN documents d USING (doc_id)")
    assert {r["source_path"].rsplit("/", 1)[-1]: r["relation"] for r in rows} == {"update.txt": "canonical",
                                                                                "original.txt": "contained"}
    # the same text under the original's headline is the same article too
    (tmp_path / "drop2").mkdir()
    (tmp_path / "drop2" / "same_headline.txt").write_text(
        update.replace("Update: Kremlin Widens Warning As Lavrov Tours Central Asia",
                       "Russia Warns Against US Military Presence in Central Asia Near Afghanistan"), encoding="utf-8")
    s2 = ingest_flow(paths=[str(tmp_path / "drop2")], warehouse=str(wh))
    assert s2["n_new_articles"] == 0
