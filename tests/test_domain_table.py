"""benchmarks/domain_table.py: the doc written from a fabricated table, and a resumed run's
refusal to mix entries of another commit or CPU (no model is loaded)."""

from __future__ import annotations

import json

import pytest
from benchmark_loader import load_benchmark

HERE = {"git_commit": "abc123", "cpu": "Test CPU", "cpu_threads": 1}


def _module():
    return load_benchmark("domain_table")


def _trial(config: dict, val: int, test: int) -> dict:
    return {
        "config": config,
        "validation_accuracy": val / 256,
        "val_correct": val,
        "val_total": 256,
        "test_accuracy": test / 800,
        "test_correct": test,
        "test_total": 800,
        "epochs_run": 3,
        "stopped_early": False,
        "charged_seconds": 50.0,
        "wall_seconds": 60.0,
        "provenance": HERE,
    }


def _entry(m, kind: str, zs: tuple[int, int], weak: tuple[int, int], strong: tuple[int, int]):
    return {
        "kind": kind,
        "task": {"n_train": 100, "n_val": 256, "n_test": 800, "data_seed": 0, "data_sha256": "x"},
        "zero_shot": {
            "validation": {"accuracy": zs[0] / 256, "correct": zs[0], "total": 256},
            "test": {"accuracy": zs[1] / 800, "correct": zs[1], "total": 800},
        },
        "weak": _trial(m.WEAK.to_dict(), *weak),
        "strong": _trial(m.STRONG.to_dict(), *strong),
        "provenance": HERE,
    }


def _table(m) -> dict:
    data = m.empty()
    # Measured out of registry order; code_review's validation picks weak (a tie goes to it).
    data["domains"]["customer_support"] = _entry(
        m, "classification", (48, 160), (50, 150), (208, 640)
    )
    data["domains"]["code_review"] = _entry(m, "classification", (40, 120), (64, 200), (64, 400))
    return data


def test_doc_has_a_row_per_domain_the_gap_of_the_validation_pick_and_no_timings(tmp_path):
    m = _module()
    doc = tmp_path / "domains.md"
    m.write_doc(_table(m), doc)
    text = doc.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[1].startswith("| customer_support | classification | 0.188 | 0.200 |")
    # customer_support: strong picked, test 0.800 - 0.200 zero-shot = 60 points.
    assert rows[1].endswith("| 0.195 | 0.188 | 0.812 | 0.800 | 60.0 (strong) | yes |")
    # code_review: a validation tie goes to weak, whose test (0.250) is 10 points above 0.150,
    # though strong's test is higher: test never decides.
    assert rows[2].endswith("| 10.0 (weak) | **no** |")
    assert "seconds" not in rows[0] and " s |" not in text
    assert "Timings are not reported here" in text
    assert "benchmarks/grids/smollm2-135m/customer_support.jsonl" in text
    assert "100 training, 256 validation and 800 test examples" in text
    assert "Test CPU, commit `abc123`, 1 torch thread(s): every domain." in text
    assert "1 of 2 domain(s) clear the 20.0-point margin (not: code_review)." in text
    assert "Not measured yet: financial, legal" in text


def test_resume_refuses_another_commit_cpu_or_protocol():
    m = _module()
    data = _table(m)
    m.check_resumable(data, HERE)  # same commit and CPU: fine
    for key, value in (("git_commit", "def456"), ("cpu", "Other CPU")):
        with pytest.raises(m.MixedEntries, match=key):
            m.check_resumable(data, {**HERE, key: value})
    m.check_resumable(data, None)  # --redo: another commit or CPU may be mixed in
    for here in (HERE, None):  # but never another protocol
        with pytest.raises(m.MixedEntries, match="protocol"):
            m.check_resumable({**data, "protocol": 1}, here)


def test_main_refuses_with_exit_2_and_leaves_the_json_alone(tmp_path, capsys):
    m = _module()
    out, doc = tmp_path / "t.json", tmp_path / "t.md"
    m.save(_table(m), out)
    before = out.read_text()
    argv = ["--out", str(out), "--doc", str(doc), "--domains", "legal"]
    assert m.main(argv, here={**HERE, "git_commit": "def456"}) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "refusing to resume" in err and "def456" in err
    assert out.read_text() == before and not doc.exists()
    # Domains already measured are skipped without loading a model: only the doc is written.
    argv = ["--out", str(out), "--doc", str(doc), "--domains", "customer_support"]
    assert m.main(argv, here={**HERE, "git_commit": "def456"}) == 0
    assert "| customer_support |" in doc.read_text()
    assert json.loads(out.read_text()) == json.loads(before)


def test_doc_only_without_a_table_says_nothing_is_measured(tmp_path):
    m = _module()
    doc = tmp_path / "d.md"
    assert m.main(["--doc-only", "--out", str(tmp_path / "none.json"), "--doc", str(doc)]) == 0
    assert "No domain has been measured under protocol 2 yet." in doc.read_text()
