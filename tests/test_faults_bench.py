"""benchmarks/faults.py's pure parts: the table from its runs, and its place in the doc."""

from __future__ import annotations

from benchmark_loader import load_benchmark

faults = load_benchmark("faults")
META = {"when": "now", "commit": "abc", "cpu": "CPU", "affinity": "1", "reps": 2}


def _run(fault: str, n: int, **kw):  # type: ignore[no-untyped-def]
    base = dict(expected=6, recorded=6, lost=0, duplicated=0, retried=0, exits=[0] * n)
    return {"fault": fault, "n": n, "wall_seconds": 10.0, **base, **kw}


def test_rows_sum_the_runs_and_count_every_worker():
    runs = [
        _run("sqlite-start", 2),
        _run("sqlite-start", 2, recorded=5, lost=1, exits=[0, 1], wall_seconds=30.0),
        _run("ray-kill", 4, exits=[0], retried=1),
    ]
    table = faults.markdown(runs, META)
    assert "| 2 | 2 | 12 | 11 | 1 | 0 | 0 | 3 of 4 | 20 s (10-30) |" in table
    assert "| 4 | 1 | 6 | 6 | 0 | 0 | 1 | 1 of 1 | 10 s (10-10) |" in table


def test_the_table_goes_between_its_markers_and_nothing_else_moves(tmp_path):
    doc = tmp_path / "r.md"
    doc.write_text("# R\n\n<!-- table: begin -->\nkeep\n<!-- table: end -->\n")
    faults.write_doc(doc, "first\n")
    faults.write_doc(doc, "second\n")
    text = doc.read_text()
    assert text.count(faults.BEGIN) == 1 and "first" not in text
    assert text.startswith("# R\n\n<!-- table: begin -->\nkeep\n<!-- table: end -->\n")
    assert f"{faults.BEGIN}\nsecond\n{faults.END}\n" in text


def test_plan_runs_each_start_for_each_n():
    todo = faults.plan([], (2, 4, 8))
    assert todo[:3] == [("sqlite-start", 2), ("sqlite-start", 4), ("sqlite-start", 8)]
    assert ("ray-kill", 4) in todo and ("postgres-restart", 2) in todo and len(todo) == 10
