"""pipeline/config.py: one IngestConfig, where its values come from, what a warehouse remembers."""
import json
import pickle
import shutil
from dataclasses import fields

import pytest

from conftest import REPO, SEED
from flows.cli import main
from pipeline import chrome, clean, readers, repeats, sources
from pipeline.config import (ConfigError, IngestConfig, check_index_parameters, index_mismatch, load_config)
from pipeline.warehouse import Warehouse, WarehouseError

CHROME_SITE = REPO / "tests" / "fixtures" / "chrome_short_line"  # four pages of one site sharing chrome


def write_toml(path, text):
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_precedence_is_defaults_then_file_then_env_then_flags(tmp_path):
    write_toml(tmp_path / "newsfold.toml", "[execution]\nbatch_size = 7\n[dedup]\njaccard_threshold = 0.6\n"
                                           "[chrome]\nmin_docs = 5\n")
    env = {"NEWSFOLD_BATCH_SIZE": "9", "NEWSFOLD_CHROME_MIN_DOCS": "6", "NEWSFOLD_WAREHOUSE": "elsewhere"}
    r = load_config(cli={"batch_size": "11"}, env=env, cwd=tmp_path)
    assert r.config.execution.batch_size == 11 and r.sources["batch_size"] == "--batch-size"
    assert r.config.chrome.min_docs == 6 and r.sources["chrome_min_docs"] == "env NEWSFOLD_CHROME_MIN_DOCS"
    assert r.config.dedup.jaccard_threshold == 0.6 and "[dedup] jaccard_threshold" in r.sources["jaccard_threshold"]
    assert r.config.dedup.num_perm == 128 and r.sources["num_perm"] == "default"
    # without the flag the variable wins, without both the file
    assert load_config(env=env, cwd=tmp_path).config.execution.batch_size == 9
    assert load_config(env={}, cwd=tmp_path).config.execution.batch_size == 7
    assert load_config(env={}, cwd=tmp_path / "nowhere").config == IngestConfig()


def test_existing_environment_variables_still_work(tmp_path):
    env = {"NEWSFOLD_DASK_ADDRESS": "tcp://10.0.0.5:8786", "NEWSFOLD_WORKERS": "3"}
    c = load_config(env=env, cwd=tmp_path).config.execution
    assert (c.dask_address, c.workers) == ("tcp://10.0.0.5:8786", 3)


def test_config_command_prints_the_effective_values_and_their_sources(tmp_path, monkeypatch, capsys):
    write_toml(tmp_path / "newsfold.toml", "[dedup]\njaccard_threshold = 0.6\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSFOLD_MIN_REPEAT_WORDS", "8")
    assert main(["config", "--batch-size", "3", "--follow-symlinks"]) == 0
    out = capsys.readouterr().out
    lines = {line.split("=")[0].strip(): line for line in out.splitlines() if "=" in line and "#" in line}
    assert lines["batch_size"].split("#")[0].strip() == "batch_size = 3" and "# --batch-size" in lines["batch_size"]
    assert "follow_symlinks = true" in lines["follow_symlinks"] and "--follow-symlinks" in lines["follow_symlinks"]
    assert "jaccard_threshold = 0.6" in lines["jaccard_threshold"]
    assert "newsfold.toml [dedup] jaccard_threshold" in lines["jaccard_threshold"]
    assert "min_words = 8" in out and "# env NEWSFOLD_MIN_REPEAT_WORDS" in out
    assert lines["num_perm"].rstrip().endswith("# default")
    # what it prints is a newsfold.toml that gives the same configuration
    write_toml(tmp_path / "printed.toml", out)
    assert load_config(env={}, config_file=tmp_path / "printed.toml").config == \
        load_config(cli={"batch_size": "3", "follow_symlinks": True}, env={"NEWSFOLD_MIN_REPEAT_WORDS": "8"},
                    cwd=tmp_path).config


@pytest.mark.parametrize("toml, env, args, says", [
    ("[dedup]\nshingle_sise = 3\n", {}, [], "unknown key 'shingle_sise' in [dedup] (did you mean 'shingle_size'?)"),
    ("[dedupe]\n", {}, [], "unknown section [dedupe]"),
    ("[dedup]\nnum_perm = \"many\"\n", {}, [], "[dedup] num_perm: expected an integer"),
    ("[execution]\nbatch_size = 0\n", {}, [], "[execution] batch_size = 0: batch_size must be at least 1"),
    ("[dedup\n", {}, [], "not valid TOML"),
    # these two said "unknown section [batch_size]" and "'utf-8' codec can't decode byte 0xff in
    # position 0" (no file named) (session 23)
    ("batch_size = 200\n", {}, [], "newsfold.toml: batch_size is outside a section: put it under [execution]"),
    ("execution = 5\n", {}, [], "newsfold.toml: execution is a section: write [execution] on a line of its own"),
    ("[execution]\nbatch_size = 200\n".encode("utf-16"), {}, [], "newsfold.toml: not UTF-8 text (byte 0)"),
    ("", {"NEWSFOLD_BATCH_SIZE": "lots"}, [], "NEWSFOLD_BATCH_SIZE='lots': expected an integer"),
    ("", {"NEWSFOLD_BACH_SIZE": "3"}, [], "unknown environment variable NEWSFOLD_BACH_SIZE"),
    ("", {"NEWSFOLD_JACCARD_THRESHOLD": "1.5"}, [], "jaccard_threshold must be at most 1"),
    ("", {}, ["--workers", "0"], "--workers 0: workers must be at least 1"),
    ("", {}, ["--bands", "16"], "bands x rows (16 x 4) must equal num_perm (128) (set by --bands)"),
    ("", {}, ["--config", "missing.toml"], "no such config file: missing.toml"),
])
def test_bad_settings_are_one_line(tmp_path, monkeypatch, capsys, toml, env, args, says):
    write_toml(tmp_path / "newsfold.toml", toml)
    monkeypatch.chdir(tmp_path)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert main(["config", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("newsfold: error: ") and err.count("\n") == 1 and says in err, err


def test_options_are_generated_from_the_fields_one_per_setting():
    from flows.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices
    flags = {o for a in sub["ingest"]._actions for o in a.option_strings}
    n_settings = sum(len(fields(type(getattr(IngestConfig(), f.name)))) for f in fields(IngestConfig))
    for flag in ("--batch-size", "--wait", "--workers", "--dask", "--follow-symlinks", "--text-field", "--id-field",
                 "--jaccard", "--containment", "--url-jaccard", "--chrome-min-docs", "--chrome-gram-words",
                 "--chrome-min-own-words", "--chrome-min-run", "--min-repeat-words", "--min-words", "--max-bytes"):
        assert flag in flags
    assert len([a for a in sub["ingest"]._actions if a.default is __import__("argparse").SUPPRESS
                and a.dest not in ("help", "debug")]) == n_settings


def test_defaults_agree_with_the_stages_own():
    c = IngestConfig()
    assert (c.chrome.min_docs, c.chrome.gram_words, c.chrome.min_own_words, c.chrome.min_run) == \
        (chrome.MIN_DOCS, chrome.GRAM_WORDS, chrome.MIN_OWN_WORDS, chrome.MIN_RUN)
    assert c.repeats.min_words == repeats.MIN_REPEAT_WORDS and c.cleaning.min_words == clean.MIN_ARTICLE_WORDS
    assert c.reading.max_bytes == sources.DEFAULT_MAX_BYTES and c.reading.field_map() == readers.FieldMap()


def test_config_is_frozen_and_picklable():
    c = IngestConfig().with_values(batch_size=2, jaccard_threshold=0.6, chrome_min_docs=5)
    assert pickle.loads(pickle.dumps(c)) == c
    with pytest.raises(AttributeError):
        c.execution.batch_size = 3
    with pytest.raises(ConfigError, match="did you mean 'batch_size'"):
        c.with_values(bach_size=3)


def test_thresholds_reach_chrome_and_repeats(monkeypatch):
    from pipeline.drop import process_batch

    files = sorted(CHROME_SITE.iterdir())
    spans = lambda table: sum(s["reason"] == "site_chrome" for r in table.to_pylist() for s in r["spans"])  # noqa: E731
    assert spans(process_batch(files)) > 0
    assert spans(process_batch(files, IngestConfig().with_values(chrome_min_docs=5))) == 0  # 4 pages of the site
    seen = []
    real = repeats.collapse_repeats
    monkeypatch.setattr(repeats, "collapse_repeats",
                        lambda d, min_words, *folded: seen.append(min_words) or real(d, min_words, *folded))
    process_batch(files[:1], IngestConfig().with_values(min_repeat_words=9))
    assert seen == [9]


def test_a_warehouse_before_the_algorithm_version_was_recorded_compares_what_it_has():
    old = {"shingle_size": 5, "num_perm": 128, "bands": 32, "rows": 4, "seed": 1}
    assert index_mismatch(old, IngestConfig()) == {}
    assert index_mismatch(old, IngestConfig().with_values(minhash_seed=2)) == {"seed": (1, 2)}


@pytest.fixture(scope="module")
def warehouse(prefect_harness, tmp_path_factory):
    from flows.ingest import ingest_flow

    tmp = tmp_path_factory.mktemp("config")
    drop = tmp / "drop"
    drop.mkdir()
    for k in ("000", "001", "002"):
        shutil.copy(SEED[k], drop / SEED[k].name)
    (drop / "copy_of_000.txt").write_bytes(SEED["000"].read_bytes())
    config = IngestConfig().with_values(chrome_min_docs=5, min_repeat_words=7)
    ingest_flow(paths=[str(drop)], warehouse=str(tmp / "wh"), config=config)
    return tmp


def test_drops_parameters_hold_the_whole_config(warehouse):
    with Warehouse(warehouse / "wh", read_only=True) as wh:
        recorded = json.loads(wh.sql("SELECT parameters FROM drops").fetchone()[0])
    assert recorded["shingle_size"] == 5 and recorded["jaccard_threshold"] == 0.5  # where they always were
    assert recorded["chrome"]["min_docs"] == 5 and recorded["repeats"]["min_words"] == 7
    assert recorded["execution"]["batch_size"] == 500 and recorded["reading"]["text_field"] == "text"
    assert recorded["algorithm_version"] == 2


NEW_INDEX = ["--shingle-size", "3", "--num-perm", "64", "--bands", "16"]


def test_other_index_parameters_are_refused_and_reindex_makes_a_new_warehouse(warehouse, capsys):
    wh, new, same = warehouse / "wh", warehouse / "new", warehouse / "same"
    more = warehouse / "more"
    more.mkdir()
    shutil.copy(SEED["003"], more / SEED["003"].name)
    assert main(["ingest", str(more), "-w", str(wh), "-q", *NEW_INDEX]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "shingle_size=5, num_perm=128, bands=32" in err
    assert f"newsfold reindex -w {wh} --into NEW_WAREHOUSE --shingle-size 3 --num-perm 64 --bands 16" in err
    with pytest.raises(WarehouseError, match="newsfold reindex .*--minhash-seed 7"):  # flow and serve check too
        check_index_parameters(wh, IngestConfig().with_values(minhash_seed=7))

    assert main(["reindex", "-w", str(wh), "--into", str(new), *NEW_INDEX]) == 0
    assert main(["reindex", "-w", str(wh), "--into", str(same)]) == 0
    with Warehouse(new, read_only=True) as w:
        assert {k: w.index_parameters()[k] for k in ("shingle_size", "num_perm", "bands")} == \
            {"shingle_size": 3, "num_perm": 64, "bands": 16}
        assert w.sql("SELECT octet_length(minhash) FROM signatures LIMIT 1").fetchone()[0] == 64 * 4
    # the same parameters give back the same documents and articles
    query = ("SELECT d.doc_id, d.clean_sha256, d.title, p.article_id, p.relation FROM documents d "
             "LEFT JOIN provenance p USING (doc_id) ORDER BY d.doc_id")
    with Warehouse(wh, read_only=True) as a, Warehouse(same, read_only=True) as b:
        assert a.sql(query).fetchall() == b.sql(query).fetchall()
    capsys.readouterr()
    assert main(["ingest", str(more), "-w", str(new), "-q", *NEW_INDEX]) == 0
    assert main(["ingest", str(more), "-w", str(new), "-q"]) == 1
    assert "was indexed with shingle_size=3" in capsys.readouterr().err


def test_a_reject_reason_named_in_a_settings_help_is_one_newsfold_records():
    # --min-words said "reason too_short"; the clean stage records no_article_text
    import re

    from pipeline import schema

    recorded = {v for m in (sources, readers, schema) for k, v in vars(m).items()
                if k.isupper() and isinstance(v, str) and re.fullmatch(r"[a-z]+(_[a-z]+)+", v)}
    assert {"no_article_text", "too_large", "symlink_outside_inputs"} <= recorded
    sections = [getattr(IngestConfig(), f.name) for f in fields(IngestConfig)]
    named = {m for s in sections for f in fields(s) for m in re.findall(r"reason (\w+)", f.metadata["help"])}
    assert named and named <= recorded, named - recorded
