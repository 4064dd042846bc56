"""The CLI's front door: one line on stderr for anything a user can cause, --debug for the traceback."""
import pytest

import flows.cli as cli
from flows.cli import main
from pipeline import schema
from pipeline.warehouse import Warehouse


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("newsfold: error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("command", [["status"], ["sql", "SELECT 1"], ["check"], ["repair"],
                                     ["ingest", "{seeds}"]])
def test_warehouse_that_is_a_file_is_one_line(tmp_path, capsys, command):
    not_a_folder = tmp_path / "warehouse.txt"
    not_a_folder.write_text("hello")
    args = [a.format(seeds=cli.os.path.dirname(__file__)) for a in command]
    assert main([*args, "--warehouse", str(not_a_folder)]) == 1
    assert "is a file, not a warehouse folder" in one_line_error(capsys)
    assert not_a_folder.read_text() == "hello"


@pytest.fixture
def wh(tmp_path):
    with Warehouse(tmp_path / "wh") as w:
        w.commit_drop(1, {"drops": schema.table("drops", [{"drop_id": 1}])})
    return tmp_path / "wh"


@pytest.mark.parametrize("query", ["", "   ", "-- only a comment"])
def test_empty_query_is_one_line(wh, capsys, query):
    assert main(["sql", query, "-w", str(wh)]) == 1
    one_line_error(capsys)


def test_bad_query_is_duckdbs_message_without_a_traceback(wh, capsys):
    assert main(["sql", "SELEC 1", "-w", str(wh)]) == 1
    err = capsys.readouterr().err
    # DuckDB's own help is kept: the error line, then the query line and the caret under the error
    assert err.startswith("newsfold: error: Parser Error") and "Traceback" not in err, err
    assert "LINE 1: SELEC 1" in err and "^" in err


def test_a_bug_is_one_line_and_debug_shows_the_traceback(wh, capsys, monkeypatch):
    def broken(args):
        raise IndexError("index 0 is out of bounds for axis 0 with size 0")

    monkeypatch.setattr(cli, "cmd_status", broken)
    assert main(["status", "-w", str(wh)]) == 1
    err = one_line_error(capsys)
    assert "internal error: IndexError: index 0 is out of bounds" in err and "--debug" in err
    for argv in (["--debug", "status", "-w", str(wh)], ["status", "-w", str(wh), "--debug"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "Traceback (most recent call last)" in err and "raise IndexError" in err


def test_missing_warehouse_and_unknown_drop_are_one_line(tmp_path, wh, capsys):
    assert main(["sql", "SELECT 1", "-w", str(tmp_path / "nowhere")]) == 1
    assert "no warehouse at" in one_line_error(capsys)
    assert main(["sql", "SELECT 1", "-w", str(wh), "--as-of-drop", "7"]) == 1
    assert "no drop 7" in one_line_error(capsys)


def test_a_sigterm_that_prefect_turned_into_another_error_is_an_interruption():
    # Prefect 3.9's flow engine raises its TerminationSignal wherever the main thread is; inside
    # pydantic's serialiser it surfaces as an ordinary error naming it (tests/test_processes.py)
    from flows.cli import cut_short_by_signal

    assert cut_short_by_signal(ValueError("Error calling function `_ser_model`: TerminationSignal: "))

    class TerminationSignal(BaseException):
        pass

    try:
        try:
            raise TerminationSignal()
        except TerminationSignal as inner:
            raise RuntimeError("task crashed") from inner
    except RuntimeError as exc:
        assert cut_short_by_signal(exc)
    assert not cut_short_by_signal(OSError("disk full"))


def test_ctrl_c_while_duckdb_runs_a_statement_is_an_interruption(wh, capsys, monkeypatch):
    # DuckDB turns the KeyboardInterrupt of a Ctrl-C during a statement into a plain
    # RuntimeError("Query interrupted"), which was reported as an internal error (a Ctrl-C 25 s
    # into a first ingest of /work/shared/real, during its commit; session 23)
    def interrupted_statement(args):
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(cli, "cmd_status", interrupted_statement)
    assert main(["status", "-w", str(wh)]) == 130
    assert capsys.readouterr().err == "newsfold: interrupted\n"


def test_an_empty_warehouse_variable_or_flag_is_not_the_working_folder(tmp_path):
    # `NEWSFOLD_WAREHOUSE=$UNSET newsfold ingest seeds/` wrote catalog.sqlite and data/ into the
    # working folder (session 23): an empty variable is unset, an empty -w an error
    import os

    from conftest import run_cli

    # in a folder of its own: the README's quick start leaves a ./warehouse in the repository
    r = run_cli("status", env={**os.environ, "NEWSFOLD_WAREHOUSE": ""}, cwd=tmp_path)
    assert r.returncode == 1 and "no warehouse at warehouse " in r.stderr, r.stderr
    r = run_cli("status", "-w", "", cwd=tmp_path)
    assert r.returncode == 2 and "argument --warehouse/-w: empty path" in r.stderr, r.stderr


def test_names_that_are_not_utf8_on_the_command_line(prefect_harness, tmp_path, capsys):
    # `newsfold ingest $'caf\xe9.txt'` failed with "'utf-8' codec can't encode character
    # '\udce9' in position 255: surrogates not allowed" (Prefect records the flow run's
    # parameters as UTF-8 JSON; session 23). Inside a folder such a name is read as before.
    import os

    from conftest import SEED

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / os.fsdecode(b"caf\xe9.txt")).write_bytes(SEED["003"].read_bytes())
    assert main(["ingest", str(drop / os.fsdecode(b"caf\xe9.txt")), "-w", str(tmp_path / "wh")]) == 1
    assert "drop/caf\\xe9.txt is not valid UTF-8" in one_line_error(capsys)
    assert main(["ingest", str(tmp_path), "-w", str(tmp_path / os.fsdecode(b"wh\xe9"))]) == 1
    assert "warehouse folder" in one_line_error(capsys)
    assert main(["ingest", str(drop), "-w", str(tmp_path / "wh"), "--label", os.fsdecode(b"l\xe9"), "-q"]) == 0
    with Warehouse(tmp_path / "wh", read_only=True) as w:
        assert w.sql("SELECT label, n_accepted FROM drops").fetchall() == [("l\\xe9", 1)]


def test_repair_of_a_mistyped_warehouse_makes_no_folder(tmp_path, capsys):
    # `newsfold repair -w wharehouse` said "no warehouse at" but left a folder holding
    # writer.lock behind (session 23)
    assert main(["repair", "-w", str(tmp_path / "wharehouse"), "--yes"]) == 1
    assert "no warehouse at" in one_line_error(capsys)
    assert not (tmp_path / "wharehouse").exists()


@pytest.mark.parametrize("args, says", [
    (["status", "--drops", "-5"], "argument --drops: -5: must be 0 or more"),
    (["serve", "--inbox", ".", "--max-runs", "0"], "argument --max-runs: 0: must be 1 or more"),
    (["status", "--drops", "ten"], "argument --drops: invalid count value: 'ten'"),
])
def test_counts_below_their_minimum_are_refused_by_the_parser(capsys, args, says):
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2 and says in capsys.readouterr().err
