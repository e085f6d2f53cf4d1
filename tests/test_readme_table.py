"""benchmarks/readme_table.py: the README's race table, read from results.json."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module():
    spec = importlib.util.spec_from_file_location(
        "readme_table", ROOT / "benchmarks/readme_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _strategy(compute: float, success: float, regret: float, diff: tuple, holm: float | None):
    s = {
        "compute_fraction": compute,
        "success_rate": success,
        "mean_regret": regret,
        "regret_vs_exhaustive": dict(zip(("mean", "ci_low", "ci_high"), diff, strict=True)),
        "equal_compute_to_default": holm is not None,
    }
    if holm is not None:
        s["wilcoxon_vs_default"] = {"p_holm": holm}
    return s


def test_rows_in_points_and_percent_with_holm_only_at_equal_compute():
    results = {
        "settings": {"seeds": 20},
        "groups": {
            "tuning": {
                "grids": ["m/a", "m/b"],
                "strategies": {
                    "exhaustive": _strategy(1.0, 1.0, 0.005, (0.0, 0.0, 0.0), None),
                    "loratune-default": _strategy(
                        0.212, 0.35, 0.0256, (0.0206, 0.0128, 0.0279), None
                    ),
                    "random": _strategy(0.284, 0.25, 0.0277, (0.0227, 0.0156, 0.0291), 1.0),
                },
            }
        },
    }
    lines = _module().table(results, "tuning")
    assert lines[0] == "Grids: m/a, m/b (20 seeds each)"
    assert lines[4] == "| exhaustive (by validation) | 100.0% | 100% | 0.50 pt | 0 |  |"
    assert "| 21.2% | 35% | 2.56 pt | +2.06 [+1.28, +2.79] |  |" in lines[5]
    assert (
        lines[6]
        == "| random search, 17 trials | 28.4% | 25% | 2.77 pt | +2.27 [+1.56, +2.91] | 1 |"
    )
    assert len(lines) == 7  # strategies missing from the results are left out
