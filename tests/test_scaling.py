"""benchmarks/scaling.py: the summary of simulated runs per worker count, and its tables."""

from __future__ import annotations

import pytest
from benchmark_loader import load_benchmark


@pytest.fixture(scope="module")
def scaling():
    return load_benchmark("scaling")


def _row(workers: int, seed: int, makespan: float, success: bool) -> dict:
    return {
        "grid": "m/g",
        "strategy": "random",
        "workers": workers,
        "seed": seed,
        "makespan_s": makespan,
        "compute_fraction": 0.25,
        "success": success,
        "regret": 0.0 if success else 0.02,
    }


def test_speedup_is_against_one_worker_of_the_same_strategy_and_grid(scaling):
    rows = [
        _row(1, 0, 3600.0, True),
        _row(1, 1, 3600.0, False),
        _row(4, 0, 1200.0, True),
        _row(4, 1, 1200.0, True),
    ]
    one, four = scaling.summarise(rows)
    assert one["workers"] == 1 and one["speedup"] == pytest.approx(1.0)
    assert four["speedup"] == pytest.approx(3.0)
    assert four["efficiency"] == pytest.approx(0.75)
    assert one["success_rate"] == pytest.approx(0.5) and four["success_rate"] == 1.0
    assert one["mean_regret_pt"] == pytest.approx(1.0)
    assert four["makespan_h"] == pytest.approx(1 / 3)
    table = scaling.simulated_table([one, four])
    assert table[-1].startswith("| m/g | random | 4 | 0.33 | 3.00x | 25.0% | 100% |")


def test_the_real_table_states_the_ratio_of_medians(scaling):
    runs = [
        {"arm": "1x2", "wall_s": 100.0, "trial_s": [20.0, 22.0]},
        {"arm": "2x1", "wall_s": 80.0, "trial_s": [35.0, 37.0]},
    ]
    res = {"runs": runs, "speedup_2x1_over_1x2": 100.0 / 80.0}
    lines = scaling.real_table(res)
    assert any(line == "| 1x2 | inprocess | 1 x 2 | 100.0 | 21.0 |" for line in lines)
    assert "1.25x as fast" in lines[-1]
