"""benchmarks/split_sizes.py: the protocol-2 check, from a fabricated grid."""

from __future__ import annotations

import json

from benchmark_loader import load_benchmark


def _row(rank: int, val: int, test: int) -> dict:
    config = {"rank": rank, "learning_rate": 3e-3, "weight_decay": 0.0}
    return {
        "status": "complete",
        "config": config,
        "val_correct": val,
        "val_total": 256,
        "test_correct": test,
        "test_total": 800,
    }


def test_check_rows_rank_top_test_configs_by_validation(tmp_path):
    rows = [_row(4, 200, 600), _row(8, 240, 740), _row(16, 240, 752), _row(32, 230, 760)]
    grid = tmp_path / "toy.jsonl"
    grid.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    lines = load_benchmark("split_sizes").check_rows(grid, k=2)
    assert lines[0] == "| toy | r32 lr 0.003 wd 0 | 0.950 | 0.898 | 3 of 4 |"
    assert lines[1] == "| toy | r16 lr 0.003 wd 0 | 0.940 | 0.938 | 2 of 4 |"  # tie: earlier first
    assert lines[2].startswith("| toy | validation's pick: r8 lr 0.003 wd 0 | 0.925 | 0.938 |")
    assert (
        "test SE at the best (800 examples): 0.8 pt; validation SE there (256): 1.4 pt" in lines[3]
    )
