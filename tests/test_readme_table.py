"""benchmarks/readme_table.py: the README's race table, read from results.json."""

from __future__ import annotations

from benchmark_loader import load_benchmark


def _module():
    return load_benchmark("readme_table")


def _strategy(compute: float, success: float, regret: float, diff: tuple, holm: float | None):
    s = {
        "compute_fraction": compute,
        "reached_near_best": min(1.0, success + 0.25),
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
    assert "| trained a config within 1 pt | success (within 1 pt) |" in lines[2]
    assert lines[4] == "| exhaustive (by validation) | 100.0% | 100% | 100% | 0.50 pt | 0 |  |"
    assert "| 21.2% | 60% | 35% | 2.56 pt | +2.06 [+1.28, +2.79] |  |" in lines[5]
    assert (
        lines[6]
        == "| random search, 17 trials | 28.4% | 50% | 25% | 2.77 pt | +2.27 [+1.56, +2.91] | 1 |"
    )
    assert len(lines) == 7  # strategies missing from the results are left out


def test_a_race_with_the_cold_start_labels_the_default_as_the_warm_start():
    cold = _strategy(0.2, 0.5, 0.02, (0.01, 0.0, 0.02), None)
    warm = _strategy(0.07, 1.0, 0.0, (-0.001, -0.002, 0.0), None)
    block = {"grids": ["m/a"], "strategies": {"loratune-default": warm, "autotune-cold": cold}}
    lines = _module().table({"settings": {}, "groups": {"tuning": block}}, "tuning")
    assert lines[4].startswith("| **loratune default** (warm start from the prior) | 7.0% |")
    assert lines[5].startswith("| cold start, `--prior none` (12 explored, 5 verified,")
    old = {"grids": ["m/a"], "strategies": {"loratune-default": cold}}  # the race at b42ce37
    lines = _module().table({"settings": {}, "groups": {"tuning": old}}, "tuning")
    assert lines[4].startswith("| **loratune default** (12 explored, 5 verified, epoch-1 stop) |")


def test_noise_margin_column_appears_when_the_race_scored_it():
    default = _strategy(0.2, 0.5, 0.02, (0.01, 0.0, 0.02), None)
    default["success_rate_noise_margin"] = 0.8
    results = {
        "settings": {"seeds": 2, "noise_margin": 0.025},
        "groups": {"tuning": {"grids": ["m/a"], "strategies": {"loratune-default": default}}},
    }
    lines = _module().table(results, "tuning")
    assert "| success (within 1 pt) | success (within 2.5 pt, noise margin) |" in lines[2]
    assert lines[3].count("---") == 8
    assert "| 20.0% | 75% | 50% | 80% | 2.00 pt |" in lines[4]


def test_lr_table_means_weight_decays_and_reports_their_spread(tmp_path):
    import json

    rows = []
    for lr, rank, wd, correct in (
        (1e-4, 4, 0.0, 20),
        (1e-4, 4, 0.1, 30),
        (1e-3, 4, 0.0, 80),
        (1e-3, 32, 0.0, 90),
    ):
        config = {"learning_rate": lr, "rank": rank, "weight_decay": wd}
        rows.append({"status": "complete", "config": config, "test_correct": correct})
    rows.append({"status": "failed", "config": rows[0]["config"], "test_correct": None})
    for row in rows:
        row["test_total"] = 100
    grid = tmp_path / "g.jsonl"
    grid.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    lines = _module().lr_table(grid)
    assert "| learning rate | rank 4 | rank 32 |" in lines
    assert "| 0.0001 | 0.250 | - |" in lines  # mean of 0.20 and 0.30; the failed row ignored
    assert "| 0.001 | 0.800 | 0.900 |" in lines
    assert lines[-1] == "Widest spread over weight decay in one cell: 10.0 pt"


def test_grid_summary_picks_by_validation_and_counts_exactly(tmp_path):
    import json

    def row(rank, val, test, status="complete"):
        config = {"rank": rank, "learning_rate": 1e-3, "weight_decay": 0.0}
        return {
            "status": status,
            "config": config,
            "val_correct": val,
            "val_total": 100,
            "test_correct": test,
            "test_total": 100,
            "wall_seconds": 120.0,
            "charged_seconds": 60.0,
            "test_seconds": 30.0,
        }

    rows = [row(4, 90, 80), row(8, 95, 89), row(16, 95, 91), row(32, 70, 90)]
    rows.append({"status": "failed", "config": rows[0]["config"]})
    grid = tmp_path / "toy.jsonl"
    grid.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    text = _module().grid_summary(grid)
    assert text.startswith("toy: 4 complete rows (1 failed); best test accuracy 0.910 (rank 16")
    assert "2 config(s) within 1 point" in text  # 0.91 and 0.90; 0.89 is 2 points below
    assert "picks rank 8" in text  # tied at 95 on validation with rank 16: the earlier row
    assert "regret 2.00 pt" in text
    assert "Wall time 8 min, 4 min charged" in text and "(25% of the wall)" in text
