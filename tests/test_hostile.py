"""Hostile drops: one bad document never costs the drop. A generated drop folder holds good
articles alongside every kind of bad path and content; the good ones land, each bad one
gets its reason (issue 10)."""
import base64
import os
from pathlib import Path

import pytest

from conftest import SEED
from flows.ingest import ingest_flow
from pipeline import chrome, clean, dedup, drop, schema, signatures, sources
from pipeline import text as text_model
from pipeline.config import IngestConfig
from pipeline.warehouse import Warehouse

FIXTURES = Path(__file__).parent / "fixtures" / "hostile"
MAX_BYTES = 200_000


def q(warehouse, sql):
    with Warehouse(warehouse, read_only=True) as wh:
        cur = wh.sql(sql)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def chinese_copy(article: str) -> str:
    """The Chinese article as another site carries it: other chrome, no byline."""
    title, _byline, body = article.split("\n\n", 2)
    return "\n".join(["首页 | 新闻 | 社会 | 文化", "分享到微信", title, "2024年5月18日 来源：滨江日报", "", body,
                      "责任编辑：张伟", "相关阅读", "滨江市地铁三号线年底通车", "东区新建两所小学明年招生"])


def long_article() -> str:
    """An article of about 10 KB (a NUL byte after the first 8 KB is not taken for binary)."""
    return "Harbour works\n\nBy Ann Example\n\n" + "\n\n".join(
        f"Sentence {i} of the report says the harbour project passed stage {i * 7} on time and "
        f"under budget, the council said on day {i * 3}." for i in range(90))


def soft_hyphenated(text: str) -> str:
    return " ".join(w[:3] + "\u00ad" + w[3:] if len(w) > 6 else w for w in text.split(" "))


@pytest.fixture
def hostile_drop(tmp_path) -> Path:
    d, outside = tmp_path / "drop", tmp_path / "outside"
    (d / "zh").mkdir(parents=True)
    (d / "zh2").mkdir()
    outside.mkdir()
    (outside / "private.txt").write_text("A private note that is not part of the drop. " * 10)
    for name in ("000", "001", "002", "003", "004"):  # the good ones
        (d / SEED[name].name).write_bytes(SEED[name].read_bytes())
    article = (FIXTURES / "zh_article.txt").read_text(encoding="utf-8")
    (d / "zh" / "article.txt").write_text(article, encoding="utf-8")
    (d / "zh2" / "copy.txt").write_text(chinese_copy(article), encoding="utf-8")
    (d / "soft_hyphens.txt").write_text(soft_hyphenated(SEED["001"].read_text(encoding="utf-8")), encoding="utf-8")
    (d / "utf16.txt").write_bytes(SEED["003"].read_text(encoding="utf-8").encode("utf-16-le"))  # no BOM
    text = long_article()
    (d / "nul.txt").write_bytes(text[:9000].encode() + b"\x00" + text[9000:].encode())
    (d / "repeated.txt").write_text("lorem " * 30_000)  # 180 KB of one token
    (d / "giant.txt").write_text("word " * (MAX_BYTES // 4))
    os.mkfifo(d / "pipe.txt")
    (d / "loop_a.txt").symlink_to("loop_b.txt")
    (d / "loop_b.txt").symlink_to("loop_a.txt")
    (d / "broken.txt").symlink_to("missing.txt")
    (d / "leak.txt").symlink_to(outside / "private.txt")
    (d / "zero.txt").symlink_to("/dev/zero")
    (d / os.fsdecode(b"caf\xe9.txt")).write_bytes(SEED["002"].read_bytes())
    return d


@pytest.mark.usefixtures("prefect_harness")
def test_hostile_drop_lands_the_good_files_and_gives_each_bad_one_its_reason(tmp_path, hostile_drop):
    wh = tmp_path / "wh"
    summary = ingest_flow(paths=[str(hostile_drop)], warehouse=str(wh), 
                          config=IngestConfig().with_values(max_bytes=MAX_BYTES))
    docs = {d["source_path"].rsplit("/drop/", 1)[1]: d for d in q(wh, "SELECT * FROM documents")}
    assert summary["n_files"] == len(docs) == 19  # every path has its row
    reasons = {name: d["reject_reason"] for name, d in docs.items() if d["status"] == "rejected"}
    assert reasons == {
        "pipe.txt": sources.NOT_REGULAR, "loop_a.txt": sources.UNREADABLE, "loop_b.txt": sources.UNREADABLE,
        "broken.txt": sources.UNREADABLE, "leak.txt": sources.SYMLINK_OUTSIDE, "zero.txt": sources.SYMLINK_OUTSIDE,
        "giant.txt": sources.TOO_LARGE, "repeated.txt": schema.DEGENERATE_TEXT,
    }
    assert docs["loop_a.txt"]["error"] == "symlink loop" and "broken symlink" in docs["broken.txt"]["error"]
    assert docs["pipe.txt"]["error"] == "FIFO"
    assert "private" not in str(q(wh, "SELECT text FROM articles"))  # the link outside was not followed
    assert docs["utf16.txt"]["encoding"] == "utf-16-le"
    assert "caf\\xe9.txt" in docs  # the undecodable name, stored with its byte escaped

    prov = {r["source_path"].rsplit("/drop/", 1)[1]: r for r in q(wh, """
        SELECT d.source_path, p.relation, p.article_id FROM provenance p JOIN documents d USING (doc_id)""")}
    article_of = {name: r["article_id"] for name, r in prov.items()}
    # copies fold: the Chinese copy with other chrome, the soft-hyphen copy, the re-encoded ones
    assert article_of["zh/article.txt"] == article_of["zh2/copy.txt"]
    assert article_of["soft_hyphens.txt"] == article_of[SEED["001"].name]
    assert article_of["utf16.txt"] == article_of[SEED["003"].name]
    assert article_of["caf\\xe9.txt"] == article_of[SEED["002"].name]
    assert summary["n_new_articles"] == 7  # 5 seeds, the Chinese story, the long article
    texts = q(wh, "SELECT title, text FROM articles")
    assert not any("\x00" in a["text"] or "\u00ad" in a["text"] or "\u00ad" in (a["title"] or "") for a in texts)
    spans = q(wh, """SELECT r.reason, r.text FROM removed_spans r JOIN documents d USING (doc_id)
                     WHERE d.source_path LIKE '%nul.txt'""")
    assert {"reason": "control_chars", "text": "\x00"} in spans


def test_an_exception_in_the_chrome_stage_rejects_one_document_and_the_batch_still_learns(tmp_path, monkeypatch):
    import random

    rng = random.Random(5)
    vocab = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "pu", "ro", "sa", "ti") for b in ("bar", "den", "fil", "gon",
                                                                                          "han", "jor", "kel", "mun")]
    site = tmp_path / "site"
    site.mkdir()
    for i in range(5):
        body = " ".join(" ".join(rng.choices(vocab, k=12)).capitalize() + "." for _ in range(12))
        poison = "EXPLODE " if i == 2 else ""
        (site / f"a{i}.txt").write_text(f"{poison}Headline number {i} of the day\n\n{body}\n\n"
                                        "Follow the Example Gazette on every platform for more local news today")
    real = chrome.strip_batch

    def fragile(docs, *args, **kwargs):
        if any("EXPLODE" in d.raw_text for d in docs):
            raise RuntimeError("boom")
        return real(docs, *args, **kwargs)

    monkeypatch.setattr(chrome, "strip_batch", fragile)
    learnt = {}
    rows = {r["source_path"].rsplit("/", 1)[1]: r for r in
            drop.process_batch(sorted(site.iterdir()), learnt_chrome=learnt).to_pylist()}
    assert rows["a2.txt"]["reject_reason"] == drop.INTERNAL_ERROR
    assert rows["a2.txt"]["error"] == "chrome: RuntimeError: boom"
    others = [r for name, r in rows.items() if name != "a2.txt"]
    assert all(r["status"] == "accepted" and r["minhash"] for r in others)
    assert len(learnt.get("site", [])) > 0  # the four others still learnt their chrome together
    assert not any("Example Gazette" in r["text"] for r in others)


@pytest.mark.parametrize("stage", ["clean", "fingerprint"])
def test_an_exception_in_a_later_stage_rejects_only_its_document(tmp_path, monkeypatch, stage):
    for name in ("000", "001", "002"):
        (tmp_path / SEED[name].name).write_bytes(SEED[name].read_bytes())
    # the marker inside the body (a paragraph after the page's related links would be cut as chrome)
    (tmp_path / "bad.txt").write_text(SEED["003"].read_text(encoding="utf-8").replace(
        "The Russian defense establishment", "EXPLODE. The Russian defense establishment", 1))
    if stage == "clean":
        real = clean.clean_document
        monkeypatch.setattr(clean, "clean_document", lambda d, *a: (_ for _ in ()).throw(ValueError("bad unit"))
                            if "EXPLODE" in d.raw_text else real(d, *a))
    else:
        real = dedup.fingerprint
        monkeypatch.setattr(dedup, "fingerprint", lambda texts, p, **kw: (_ for _ in ()).throw(ValueError("bad unit"))
                            if any("EXPLODE" in t for t in texts) else real(texts, p, **kw))
    rows = {r["source_path"].rsplit("/", 1)[1]: r for r in
            drop.process_batch(sorted(tmp_path.iterdir())).to_pylist()}
    assert rows["bad.txt"]["reject_reason"] == drop.INTERNAL_ERROR
    assert rows["bad.txt"]["error"] == f"{stage}: ValueError: bad unit" and rows["bad.txt"]["text"] is None
    assert [r["status"] for n, r in rows.items() if n != "bad.txt"] == ["accepted"] * 3


@pytest.mark.usefixtures("prefect_harness")
def test_a_file_that_kills_its_worker_costs_only_itself(tmp_path, seeds_copy, monkeypatch):
    (seeds_copy / "killer.txt").write_bytes(SEED["000"].read_bytes())
    monkeypatch.setenv("NEWSFOLD_KILL_AT", "read:killer.txt")  # the worker reading it is SIGKILLed
    wh = tmp_path / "wh"
    summary = ingest_flow(paths=[str(seeds_copy)], warehouse=str(wh),
                          config=IngestConfig().with_values(batch_size=3, workers=2))
    docs = {d["source_path"].rsplit("/", 1)[1]: d for d in q(wh, "SELECT * FROM documents")}
    assert summary["n_files"] == len(docs) == 6
    assert docs["killer.txt"]["reject_reason"] == drop.INTERNAL_ERROR
    assert "worker process died" in docs["killer.txt"]["error"]
    assert all(d["status"] == "accepted" for n, d in docs.items() if n != "killer.txt")


def test_content_rules_hold_for_unspaced_scripts():
    article = (FIXTURES / "zh_article.txt").read_text(encoding="utf-8")
    assert text_model.word_count(article) > 200  # not one "word" per paragraph
    assert text_model.word_count("The council met on Tuesday.") == 5
    # characters of unspaced scripts are words of their own, for matching
    assert signatures.words("新图书馆 opened") == ["新", "图", "书", "馆", "opened"]
    assert signatures.words("ข่าว") == ["ข", "า", "ว"]  # Thai tone and vowel marks are not \w


@pytest.mark.parametrize("text, problem", [
    ("lorem " * 5000, "distinct tokens"),
    ("中" * 3000, "distinct tokens"),
    (" ".join(f"item{i}" for i in range(80)), "no sentence"),
    ("Data follows. " + " ".join(base64.b64encode(bytes(range(i, i + 90))).decode() for i in range(30)), "base64"),
])
def test_degenerate_texts_are_named(text, problem):
    assert problem in clean.degenerate(text)


def test_real_prose_is_not_degenerate():
    for name in SEED:
        assert clean.degenerate(clean.clean_document(
            sources.read_document(SEED[name])).text) is None
    assert clean.degenerate((FIXTURES / "zh_article.txt").read_text(encoding="utf-8")) is None


def test_an_older_warehouse_without_the_error_column_is_migrated(tmp_path, seeds_copy):
    wh = tmp_path / "wh"
    with Warehouse(wh) as w:
        w.sql("ALTER TABLE documents DROP COLUMN error")
    with Warehouse(wh) as w:
        assert "error" in [r[0] for r in w.sql("DESCRIBE documents").fetchall()]
