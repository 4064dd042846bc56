"""The `newsfold` command line: output formats, query sources, errors, export, compact,
status's stock-DuckDB lines, ingest progress and logging, serve's run line."""
import io
import json
import math
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from conftest import REPO, SEED, run_cli
from flows.cli import main, parse_duration, run_line
from pipeline import schema
from pipeline.warehouse import Warehouse


def small_drop(drop_id: int) -> dict:
    docs = [{"doc_id": f"doc{drop_id}-{k}", "drop_id": drop_id, "status": "accepted", "title": f"title {drop_id}",
             "clean_text": f"text of drop {drop_id}\nsecond line"} for k in range(3)]
    return {"drops": schema.table("drops", [{"drop_id": drop_id, "label": f"d{drop_id}"}]),
            "documents": schema.table("documents", docs)}


@pytest.fixture
def lake(tmp_path):
    """A warehouse of 6 small drops (no flow: rows committed directly)."""
    path = tmp_path / "wh"
    with Warehouse(path) as wh:
        for d in range(1, 7):
            wh.commit_drop(d, small_drop(d))
    return path


def sql(lake, capsys, *args) -> str:
    assert main(["sql", *args, "-w", str(lake)]) == 0
    return capsys.readouterr().out


TRICKY = """SELECT [DATE '2021-07-14', NULL] AS dates, TIME '10:30:00' AS t, INTERVAL 3 DAY + INTERVAL 90 MINUTE AS i,
    '2b0c8bd2-3c55-4b2e-9c1e-0d4a1a3c6a10'::UUID AS u, 12.50::DECIMAL(6, 2) AS dec, 'nan'::DOUBLE AS nan,
    ['inf'::DOUBLE, 1.5] AS floats, {'at': TIMESTAMPTZ '2021-07-14 10:00:00+00', 'gap': INTERVAL 2 HOUR} AS s,
    'ab'::BLOB AS b, MAP {'k': DATE '2020-01-01'} AS m"""


def strict_json(text: str):
    def bad(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=bad)


def test_json_is_valid_for_every_type(lake, capsys):
    [row] = strict_json(sql(lake, capsys, TRICKY, "--format", "json"))
    assert row["dates"] == ["2021-07-14", None] and row["t"] == "10:30:00" and row["i"] == "P3DT1H30M"
    assert row["u"] == "2b0c8bd2-3c55-4b2e-9c1e-0d4a1a3c6a10" and row["dec"] == 12.5
    assert row["nan"] is None and row["floats"] == [None, 1.5]
    assert row["s"] == {"at": "2021-07-14T10:00:00+00:00", "gap": "PT2H"} and row["b"] == "6162"
    assert row["m"] == {"k": "2020-01-01"}


def test_jsonl_is_one_object_per_line(lake, capsys):
    lines = sql(lake, capsys, "SELECT drop_id, label FROM drops ORDER BY drop_id", "--format", "jsonl").splitlines()
    assert [strict_json(x) for x in lines] == [{"drop_id": d, "label": f"d{d}"} for d in range(1, 7)]
    [row] = [strict_json(x) for x in sql(lake, capsys, TRICKY, "--format", "jsonl").splitlines()]
    assert row["nan"] is None


def test_line_mode_shows_long_values_whole(lake, capsys):
    long = "x" * 200
    out = sql(lake, capsys, f"SELECT 1 AS n, '{long}' || chr(10) || 'tail' AS long_text", "--format", "line")
    assert out == f"        n = 1\nlong_text = {long}\ntail\n"
    table = sql(lake, capsys, f"SELECT '{long}' AS long_text")
    assert long not in table and "--format line" in table


def test_table_output_holds_cut_cells_not_whole_values():
    # `newsfold sql "SELECT * FROM documents"` held every row's values (whole clean texts) until
    # the last row was read: 650 MB for 20,000 documents, 1.2 GB for `SELECT * FROM range(3000000)`
    # (session 23); the table needs only the cut cells for its widths
    import weakref

    from flows.cli import print_rows

    class Text:
        def __str__(self):
            return "word " * 1000

    alive = weakref.WeakSet()
    held_at_end = []

    def rows():
        for k in range(50):
            value = Text()
            alive.add(value)
            yield k, value
        held_at_end.append(len(alive))

    out = io.StringIO()
    print_rows(["n", "text"], rows(), "table", out)
    assert held_at_end[0] <= 2
    assert out.getvalue().splitlines()[2] == "0   " + ("word " * 12)[:57] + "..."  # n is 2 wide: 49
    assert out.getvalue().endswith("(50 rows; values cut at 60 characters, --format line shows them whole)\n")


def test_query_from_a_file_and_from_stdin(lake, capsys, tmp_path, monkeypatch):
    query = tmp_path / "q.sql"
    query.write_text("SELECT count(*) AS n\nFROM documents;\n")
    assert strict_json(sql(lake, capsys, "-f", str(query), "--format", "json")) == [{"n": 18}]
    monkeypatch.setattr(sys, "stdin", io.StringIO("SELECT count(*) AS n FROM drops"))
    assert strict_json(sql(lake, capsys, "-", "--format", "json")) == [{"n": 6}]


def test_old_dash_f_format_gets_a_hint(lake, capsys):
    assert main(["sql", "-f", "csv", "-w", str(lake)]) == 1
    err = capsys.readouterr().err
    assert "no such query file: csv" in err and "--format csv" in err


def test_duckdb_errors_keep_their_hints_without_a_traceback(lake):
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "sql", "SELECT title FROM articlez", "-w", str(lake)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("newsfold: error: Catalog Error")
    assert 'Did you mean "articles"' in proc.stderr and "^" in proc.stderr


@pytest.mark.parametrize("fmt, suffix", [("parquet", ".parquet"), ("csv", ".csv"), ("jsonl", ".jsonl")])
def test_export_a_table(lake, capsys, tmp_path, fmt, suffix):
    target = tmp_path / f"documents{suffix}"
    assert main(["export", "documents", "--to", str(target), "-w", str(lake)]) == 0
    out = capsys.readouterr().out
    assert out == f"exported 18 rows of documents to {target} ({fmt})\n"
    if fmt == "parquet":
        assert pq.read_table(target).num_rows == 18
        assert pq.read_table(target).schema.names == schema.TABLES["documents"].names
    elif fmt == "csv":
        assert target.read_text().splitlines()[0].split(",")[:2] == ["doc_id", "drop_id"]
    else:
        rows = [strict_json(x) for x in target.read_text().splitlines()]
        assert len(rows) == 18 and rows[0]["clean_text"].endswith("second line")
    assert not list(tmp_path.glob("*.tmp*"))


def test_export_a_query_as_of_a_drop(lake, capsys, tmp_path):
    target = tmp_path / "out.dat"
    assert main(["export", "--query", "SELECT doc_id FROM documents;", "--to", str(target), "--format", "jsonl",
                 "--as-of-drop", "2", "-w", str(lake)]) == 0
    assert "exported 6 rows of the query" in capsys.readouterr().out
    assert len(target.read_text().splitlines()) == 6
    assert main(["export", "nosuch", "--to", str(tmp_path / "x.csv"), "-w", str(lake)]) == 1
    assert "no table 'nosuch'" in capsys.readouterr().err
    # a folder as --to said "Is a directory: <folder>.tmp<pid>", the temporary file's name (session 23)
    (tmp_path / "out").mkdir()
    assert main(["export", "drops", "--to", str(tmp_path / "out"), "--format", "csv", "-w", str(lake)]) == 1
    assert f"--to {tmp_path / 'out'} is a folder: name the file to write in it, e.g. {tmp_path / 'out' / 'drops.csv'}" \
        in capsys.readouterr().err
    assert list((tmp_path / "out").iterdir()) == [] and not list(tmp_path.glob("*.tmp*"))


def test_compact_merges_small_files_and_keeps_answers_and_time_travel(lake, capsys):
    queries = {"SELECT count(*) AS n, count(DISTINCT drop_id) AS d FROM documents": None,
               "SELECT drop_id, label FROM drops ORDER BY drop_id": None}
    for q in queries:
        queries[q] = sql(lake, capsys, q, "--format", "json")
    as_of_3 = sql(lake, capsys, "SELECT count(*) AS n FROM documents", "--as-of-drop", "3", "--format", "json")
    before = len(list((lake / "data").rglob("*.parquet")))
    assert main(["compact", "-w", str(lake)]) == 0
    out = capsys.readouterr().out
    after = len(list((lake / "data").rglob("*.parquet")))
    assert before >= 12 and after < before / 3, (before, after)
    assert f"{before} -> {after} Parquet files" in out
    for q, answer in queries.items():
        assert sql(lake, capsys, q, "--format", "json") == answer
    assert as_of_3 == sql(lake, capsys, "SELECT count(*) AS n FROM documents", "--as-of-drop", "3", "--format",
                          "json")
    assert strict_json(as_of_3) == [{"n": 9}]

    # expiring every snapshot older than now keeps the latest drop's
    assert main(["compact", "--older-than", "0s", "-w", str(lake)]) == 0
    assert "snapshots expired" in capsys.readouterr().out
    assert strict_json(sql(lake, capsys, "SELECT count(*) AS n FROM documents", "--as-of-drop", "6", "--format",
                           "json")) == [{"n": 18}]
    assert main(["sql", "SELECT 1", "--as-of-drop", "3", "-w", str(lake)]) == 1
    assert "expired" in capsys.readouterr().err
    for q, answer in queries.items():
        assert sql(lake, capsys, q, "--format", "json") == answer


def test_parse_duration():
    assert parse_duration("30d").total_seconds() == 30 * 86400
    assert parse_duration("12h").total_seconds() == 12 * 3600
    assert parse_duration("0s").total_seconds() == 0
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration("soon")


def test_status_prints_lines_stock_duckdb_can_paste(lake, capsys, tmp_path):
    assert main(["status", "-w", str(lake)]) == 0
    out = capsys.readouterr().out
    lines = out[out.index("SET extension_directory"):].strip()
    assert "ATTACH 'ducklake:sqlite:" in lines and "READ_ONLY" in lines
    # a fresh process, elsewhere, with nothing but duckdb and the pasted lines
    script = f"import duckdb\ncon = duckdb.connect()\ncon.execute({lines!r})\n" \
             "print(con.sql('SELECT count(*) FROM documents').fetchone()[0])"
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "18"


def test_building_the_parser_imports_nothing_heavy():
    code = ("import sys; from flows.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('numpy', 'pyarrow', 'prefect', 'duckdb') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stderr
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "--version"], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("newsfold ")


def test_dedup_defaults_still_reach_the_params():
    from flows.cli import build_parser, config_from_args
    from pipeline.dedup import DedupParams

    args = build_parser().parse_args(["ingest", "x", "--jaccard", "0.6"])
    assert config_from_args(args).dedup == DedupParams(jaccard_threshold=0.6)


def test_serve_run_line_counts_rejected_documents():
    summary = {"drop_id": 3, "n_documents": 4, "n_rejected": 3, "n_new_articles": 1, "elapsed_s": 2.14}
    assert run_line(summary) == "drop 3: 4 new documents (3 rejected), 1 new article in 2.1 s"
    assert run_line({**summary, "n_rejected": 0, "n_new_articles": 2}) == \
        "drop 3: 4 new documents, 2 new articles in 2.1 s"
    assert run_line({"drop_id": None}) == "nothing new"


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture(scope="module")
def ingested(prefect_harness, tmp_path_factory):
    """One CLI ingest on a (fake) terminal with a log file: seeds, a copy and a date in EST."""
    tmp = tmp_path_factory.mktemp("ingest")
    drop = tmp / "drop"
    drop.mkdir()
    for p in SEED.values():
        (drop / p.name).write_bytes(p.read_bytes())
    title, rest = SEED["001"].read_text(encoding="utf-8").split("\n\n", 1)
    # the copy's own words sit inside its body (a short line after the body is cut as chrome)
    first, more = rest.split("\n\n", 1)
    (drop / "copy_of_001.txt").write_text(f"{title}\n\nJuly 14, 2021 10:00 EST\n\n{first} Shared by a reader.\n\n"
                                          f"{more}\n", encoding="utf-8")
    (drop / "empty.txt").write_bytes(b"")
    wh, log = tmp / "wh", tmp / "ingest.log"
    err, out = FakeTerminal(), io.StringIO()
    real = sys.stderr, sys.stdout
    sys.stderr, sys.stdout = err, out
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "160"  # rich's width on a terminal it cannot measure
    try:
        code = main(["ingest", str(drop), "-w", str(wh), "--log-file", str(log), "--batch-size", "3",
                     "--workers", "2"])  # batches in worker processes, whose warnings must not reach the terminal
    finally:
        sys.stderr, sys.stdout = real
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    return {"code": code, "out": out.getvalue(), "err": err.getvalue(), "wh": wh, "log": log}


def test_ingest_shows_progress_on_a_terminal(ingested):
    assert ingested["code"] == 0
    err = ingested["err"]
    final = err.rsplit("\r", 1)[-1].rsplit("\x1b[2K", 1)[-1]
    assert "7/7" in final and "batches 3/3" in final and "docs/s" in final and "ETA" in final, final


def test_libraries_warnings_go_to_the_log_file_not_the_terminal(ingested):
    assert "UnknownTimezoneWarning" in ingested["log"].read_text()
    assert "Warning" not in ingested["err"] and "Warning" not in ingested["out"]


def test_one_elapsed_figure(ingested):
    with Warehouse(ingested["wh"], read_only=True) as wh:
        [(elapsed, started, finished)] = wh.sql("SELECT elapsed_s, started_at, finished_at FROM drops").fetchall()
    assert math.isclose(elapsed, (finished - started).total_seconds(), abs_tol=0.002)
    assert f"elapsed             {elapsed:.1f} s" in ingested["out"]


def test_every_accepted_document_keeps_its_clean_text(ingested):
    with Warehouse(ingested["wh"], read_only=True) as wh:
        rows = wh.sql("""SELECT d.source_path, d.status, d.clean_text, d.clean_chars, p.relation, a.text
                         FROM documents d LEFT JOIN provenance p USING (doc_id)
                         LEFT JOIN articles a USING (article_id)""").fetchall()
    accepted = [r for r in rows if r[1] == "accepted"]
    assert len(accepted) == 6 and all(r[2] and len(r[2]) == r[3] for r in accepted)
    assert all(r[2] == r[5] for r in accepted if r[4] == "canonical")
    copies = [r for r in accepted if r[4] != "canonical"]
    assert copies and all(r[2] != r[5] for r in copies)  # a copy's own text, not its article's
    [copy_text] = [r[2] for r in accepted if r[0].endswith("copy_of_001.txt")]
    assert "Shared by a reader." in copy_text
    assert [r[2] for r in rows if r[1] == "rejected"] == [None]


def test_quiet_ingest_prints_nothing(prefect_harness, tmp_path, capsys):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_bytes(SEED["003"].read_bytes())
    assert main(["ingest", str(tmp_path / "d"), "-w", str(tmp_path / "wh"), "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_a_run_that_fails_in_the_flow_is_one_line_also_with_quiet_or_a_log_file(cli_env, seeds_copy, tmp_path):
    # -q and --log-file let Prefect's records through (to the file); its console handler, set up
    # after newsfold's filter, printed the failed run's traceback twice above the one-line error
    first, second, wh, log = tmp_path / "first", tmp_path / "second", tmp_path / "wh", tmp_path / "ingest.log"
    first.mkdir()
    second.mkdir()
    for p in sorted(seeds_copy.iterdir()):
        p.rename((first if p.name < "003" else second) / p.name)
    assert run_cli("ingest", first, "-w", wh, "-q", env=cli_env).returncode == 0
    for f in (wh / "data" / "main" / "articles").glob("*.parquet"):  # a disk error: the planning reads them
        f.write_bytes(f.read_bytes()[:100])
    for flags in (["-q"], ["--log-file", log]):
        proc = run_cli("ingest", second, "-w", wh, *flags, env=cli_env)
        assert proc.returncode == 1 and proc.stderr.startswith("newsfold: error: "), proc.stderr
        assert proc.stderr.count("\n") == 1 and "run `newsfold check`" in proc.stderr, proc.stderr
    assert "Traceback" in log.read_text()  # the details are in the log file
    proc = run_cli("ingest", second, "-w", wh, "-q", "--debug", env=cli_env)  # and --debug shows Prefect's logs
    assert proc.returncode == 1 and "Task run failed" in proc.stderr and "Traceback" in proc.stderr, proc.stderr


def test_the_temporary_server_gets_the_120_s_the_readme_promises(monkeypatch):
    from flows.cli import _quiet_prefect
    from flows.prefect_api import DEFAULT_STARTUP_LIMIT_S, startup_limit_s

    variable = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if k != variable})
    _quiet_prefect()  # ingest, eval and reindex call it before they wait for the server
    assert startup_limit_s() == DEFAULT_STARTUP_LIMIT_S == 120
    os.environ[variable] = "7"
    assert startup_limit_s() == 7


def test_serve_help_says_a_running_server_is_used_too():
    # it said "With PREFECT_API_URL set ..." and "--scheduler prefect (needs PREFECT_API_URL)", but
    # a server kept by `newsfold prefect-server start` is used as well (cmd_serve: prefect_api().active())
    from flows.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["serve"]
    scheduler = next(a for a in sub._actions if a.dest == "scheduler")
    assert "needs PREFECT_API_URL" not in scheduler.help and "running on this machine" in scheduler.help
    assert "prefect-server start" in sub.description


def test_a_library_logging_errors_in_a_one_batch_drop_stays_off_the_terminal(cli_env, tmp_path):
    # A drop of one batch is staged in the CLI's own process: trafilatura's "empty HTML tree"
    # ERROR records, two per extraction of a page it cannot parse, went to the terminal
    # (`newsfold ingest` of /work/shared/real/readability_testpages: 176 lines; session 23)
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "not-really.html").write_text("just text, no tags", encoding="utf-8")
    (drop / "a.txt").write_bytes(SEED["003"].read_bytes())
    log = tmp_path / "ingest.log"
    r = run_cli("ingest", drop, "-w", tmp_path / "wh", "--log-file", log, env=cli_env)
    assert r.returncode == 0, r.stderr
    assert "empty HTML tree" not in r.stderr, r.stderr
    assert "empty HTML tree" in log.read_text()
    assert "accepted            1" in r.stdout and "rejected            1" in r.stdout


def test_a_drop_with_no_files_says_so(prefect_harness, tmp_path, capsys):
    # a folder of dot-files only printed "documents read 0" and nothing else (session 23)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / ".story.txt").write_bytes(SEED["003"].read_bytes())
    assert main(["ingest", str(tmp_path / "d"), "-w", str(tmp_path / "wh")]) == 0
    assert ("documents read      0  (no files found; hidden files and folders, named with a leading dot, "
            "are skipped)") in capsys.readouterr().out
