"""Tests for bench/compiled_bound.py: samples of py-spy's raw output counted by what they ran."""

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "bench" / "compiled_bound.py"
_spec = importlib.util.spec_from_file_location("newsfold_bench_compiled_bound", _PATH)
compiled_bound = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = compiled_bound
_spec.loader.exec_module(compiled_bound)

CHROME = "main (stage_cost.py:71);Stage.__call__ (pipeline/stage.py:108);ChromeStage.run (pipeline/stage.py:193)"
CLEAN = "main (stage_cost.py:71);CleanStage.run (pipeline/stage.py:222);clean_document (pipeline/clean.py:346)"


def test_a_sample_counts_by_its_innermost_frame(tmp_path):
    raw = tmp_path / "run.txt"
    raw.write_text("\n".join([
        f"{CHROME};split_units (pipeline/text.py:330) 6",  # a Python frame: bytecode
        f"{CHROME};_wrapfunc (numpy/_core/fromnumeric.py:54);sort (_multiarray_umath.cpython-311-x86_64-linux-gnu.so) 3",
        f"{CHROME};gc_collect_main (libpython3.11.so.1.0) 1",
        f"{CLEAN};sre_ucs1_match (libpython3.11.so.1.0) 2",
        f"{CLEAN};unicode_count (libpython3.11.so.1.0) 1",
        f"{CLEAN};_Regexp._match (re2/__init__.py:223);re2::RE2::Match (_re2.cpython-311-x86_64-linux-gnu.so) 1",
        f"{CLEAN};__memmove_avx_unaligned_erms (libc.so.6) 1",
        "main (stage_cost.py:71);read_batch (pipeline/drop.py:68) 50",  # neither stage: not counted
    ]) + "\n")
    counts = compiled_bound.shares([raw])
    assert counts["chrome"] == {"Python bytecode": 6, "numpy": 3, "garbage collector": 1}
    assert counts["clean"] == {"re engine": 2, "str methods": 1, "RE2": 1, "libc (memcpy, malloc)": 1}


def test_the_floor_leaves_only_what_is_not_bytecode(capsys):
    counts = {"chrome": compiled_bound.collections.Counter({"Python bytecode": 1, "numpy": 3}),
              "clean": compiled_bound.collections.Counter({"Python bytecode": 1, "re engine": 1})}
    compiled_bound.report(counts, {"chrome": 0.8, "clean": 0.4})
    out = capsys.readouterr().out
    assert "chrome: 0.800 CPU ms/doc, 4 samples; with no bytecode left: 0.600 ms/doc" in out
    assert "clean: 0.400 CPU ms/doc, 2 samples; with no bytecode left: 0.200 ms/doc" in out
    assert "chrome + clean: 1.200 CPU ms/doc; with no bytecode left: 0.800 (0.67 of now)" in out
