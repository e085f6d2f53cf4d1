"""benchmarks/record_grids.py: a grid recording that resumes from its committed JSONL."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "record_grids.py"


def _record(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--model",
            "tiny-llama",
            "--data",
            str(tmp_path / "tickets.csv"),
            "--space",
            str(tmp_path / "space.toml"),
            "--dir",
            str(tmp_path / "grids"),
            "--n-val",
            "20",
            "--n-test",
            "20",
            "--allow-dirty",  # the test may run from a working tree with edits
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_grid_is_recorded_then_rebuilt_from_its_jsonl(tmp_path, make_data_csv):
    make_data_csv(tmp_path / "tickets.csv", n=120)
    (tmp_path / "space.toml").write_text(
        "[grid]\nrank = [2, 4]\nlearning_rate = [1e-3]\n[fixed]\nepochs = 1\nbatch_size = 16\n"
    )
    first = _record(tmp_path)
    assert first.returncode == 0, first.stderr
    out = tmp_path / "grids" / "tiny-llama" / "user-tickets.jsonl"
    recorded = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(recorded) == 2 and all(r["status"] == "complete" for r in recorded)
    assert all(r["provenance"]["packages"]["torch"] for r in recorded)
    # Ground truth: validation decides (the value), the test split is scored to judge.
    assert all(r["accuracy"] == r["val_correct"] / r["val_total"] for r in recorded)
    # 120 rows: 100 train, the 20 left shared by validation and test.
    assert all(r["test_total"] == 10 and r["test_accuracy"] is not None for r in recorded)
    assert all(len(r["epoch_seconds"]) == len(r["check_seconds"]) == 1 for r in recorded)
    # A fresh clone has the JSONL but not the SQLite study: the rows are imported, not rerun.
    (tmp_path / "grids" / "grids.db").unlink()
    again = _record(tmp_path)
    assert again.returncode == 0, again.stderr
    assert "imported 2 recorded trials" in again.stdout
    assert [json.loads(line) for line in out.read_text().splitlines()] == recorded
