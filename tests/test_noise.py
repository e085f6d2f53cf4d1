"""benchmarks/noise.py: training noise and data-sample noise of the ground truth, measured
apart on test and on validation accuracy, on hand-computed examples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from benchmark_loader import load_benchmark
from conftest import ground_truth_fields

from loratune.race.noise import (
    find_noise,
    margin_line,
    markdown,
    measure,
    noise_margin,
)
from loratune.space import Config

# config rank -> test accuracy under runs 0, 1, 2 (400 test examples: exact counts)
TEST = {4: (0.90, 0.92, 0.88), 8: (0.80, 0.78, 0.82), 16: (0.50, 0.50, 0.50)}
# validation moves differently (200 examples): rank 4 and 8 swap places under run 1
VAL = {4: (0.85, 0.80, 0.86), 8: (0.80, 0.83, 0.80), 16: (0.50, 0.55, 0.50)}


def _load(monkeypatch: pytest.MonkeyPatch):
    return load_benchmark("noise")


def _write(path: Path, run: int, seed: int = 0, extra: bool = False) -> None:
    rows = []
    for rank in TEST:
        c = Config(rank=rank, alpha=2.0 * rank, learning_rate=1e-3, seed=seed)
        fields = ground_truth_fields(VAL[rank][run], [0.5, 0.6, 0.7], 10.0, TEST[rank][run])
        rows.append({"status": "complete", "config": c.to_dict(), **fields})
    if extra:  # the full grid has configs the noise subset did not repeat
        c = Config(rank=32, alpha=64.0, learning_rate=1e-3)
        fields = ground_truth_fields(0.99, [0.9, 0.9, 0.9], 10.0)
        rows.append({"status": "complete", "config": c.to_dict(), **fields})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"half a line')


@pytest.fixture
def grids(tmp_path: Path) -> Path:
    """The full grid in the final folder; the noise subsets still in a recording folder."""
    final, recording = tmp_path / "grids", tmp_path / "recording"
    _write(final / "m" / "support.jsonl", 0, extra=True)
    for run in (2, 1):
        _write(recording / "m" / f"support-seed{run}.jsonl", run, seed=run)
    _write(recording / "m" / "support-data1.jsonl", 1)
    return tmp_path


def test_noise_files_are_found_in_both_folders(grids):
    found = find_noise([grids / "grids", grids / "recording"])
    kinds = found[("m", "support")]
    assert sorted(kinds["training"]) == [0, 1, 2] and sorted(kinds["data"]) == [0, 1]
    assert kinds["training"][0] == kinds["data"][0] == grids / "grids" / "m" / "support.jsonl"


def test_training_noise_matches_a_hand_computation(grids):
    noise = measure([grids / "grids", grids / "recording"])
    r = noise["m/support"]["training"]
    t = r["test"]
    assert t["configs"] == 3 and t["seeds"] == 3  # rank 32 was not repeated: left out
    assert r["rows"] == [4, 3, 3]
    # Per-config SDs 0.02, 0.02, 0: pooled SD sqrt((0.0004 + 0.0004 + 0) / 3).
    assert t["within_config_sd"] == pytest.approx((0.0008 / 3) ** 0.5)
    # Pair differences: 0.02 0.02 0 | 0.02 0.02 0 | 0.04 0.04 0 -> mean 0.16 / 9, 6 of 9 > 1 pt.
    assert t["mean_abs_seed_diff"] == pytest.approx(0.16 / 9)
    assert t["share_seed_diff_over_margin"] == pytest.approx(6 / 9)
    # Every run has the same mean: no common shift; the residuals are +-0.02 on 4 of 9 cells
    # with (3 - 1) * (3 - 1) degrees of freedom, so the interaction SD is 0.02.
    assert t["seed_shift"] == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)
    assert t["residual_sd"] == pytest.approx(0.02)
    assert t["same_best_all_seeds"] and t["within_margin_all_seeds"] == 1
    assert t["examples"] == 400
    assert t["split_se_at_top"] == pytest.approx((0.9 * 0.1 / 400) ** 0.5)
    # On validation, run 1 crowns rank 8 (0.83 > 0.80): the best differs between runs; judged
    # by runs 0 and 2, rank 8 is 5 and 6 points below their best, the others pick right.
    v = r["validation"]
    assert not v["same_best_all_seeds"] and v["examples"] == 200
    assert v["regret_of_single_seed_pick"]["mean"] == pytest.approx((0.05 + 0.06 + 0.03 * 2) / 6)


def test_data_noise_is_reported_apart(grids):
    r = measure([grids / "grids", grids / "recording"])["m/support"]["data"]
    assert r["seeds"] == [0, 1] and r["test"]["seeds"] == 2
    # Runs 0 and 1 differ by 0.02, 0.02, 0: per-config variances d^2 / 2 = 0.0002, 0.0002, 0.
    assert r["test"]["within_config_sd"] == pytest.approx((0.0004 / 3) ** 0.5)


def test_noise_bench_writes_both_kinds_and_the_margin_line(grids, monkeypatch, capsys):
    out = grids / "out"
    result = _load(monkeypatch).main(
        ["--grids-dir", str(grids / "grids"), "--recording-dir", str(grids / "recording")]
        + ["--out", str(out)]
    )
    assert set(result["noise"]["m/support"]) == {"training", "data"}
    data = json.loads((out / "noise.json").read_text())
    assert data["noise"]["m/support"]["training"]["test"]["configs"] == 3
    md = (out / "NOISE.md").read_text()
    assert "### Training noise" in md and "### Data noise" in md
    assert "What it means for the 1-point success margin" in md
    assert "noise m/support training: 3 configs x 3 seeds" in capsys.readouterr().out
    line = margin_line(result["noise"])
    assert line.startswith("success margin 1 pt") and "training noise: SD 1.63 pt on test" in line


def test_noise_without_reruns_says_so(tmp_path, monkeypatch, capsys):
    _write(tmp_path / "grids" / "m" / "support.jsonl", 0)
    out = tmp_path / "out"
    _load(monkeypatch).main(
        ["--grids-dir", str(tmp_path / "grids"), "--recording-dir", str(tmp_path / "none")]
        + ["--out", str(out)]
    )
    assert "nothing to do" in capsys.readouterr().out
    assert json.loads((out / "noise.json").read_text())["noise"] == {}
    assert "Nothing to do yet" in (out / "NOISE.md").read_text()
    assert "no protocol-2 noise subset" in margin_line({})


def test_noise_margin_is_one_interaction_sd_rounded_up_to_half_a_point(grids):
    noise = measure([grids / "grids", grids / "recording"])
    # The interaction SD is 0.02 (above) up to float error: exactly 2 points, not 2.5.
    assert noise_margin(noise, "m/support") == 0.02
    assert "noise margin 2 pt" in margin_line(noise, subset="m/support")
    nudged = {"m/support": {"training": {"test": {"residual_sd": 0.0201}}}}
    assert noise_margin(nudged, "m/support") == 0.025
    tiny = {"m/support": {"training": {"test": {"residual_sd": 0.0}}}}
    assert noise_margin(tiny, "m/support") == 0.005  # never a zero margin
    # Only training noise sets it, and only the named subset's.
    only_data = {"m/support": {"data": noise["m/support"]["data"]}}
    assert noise_margin(only_data, "m/support") is None
    assert noise_margin(noise) is None  # the default subset (customer_support) is not here
    assert "noise margin" not in margin_line(noise)


def test_shared_luck_correlates_the_test_and_validation_residuals(grids):
    r = measure([grids / "grids", grids / "recording"])["m/support"]["training"]
    # Test residuals (no common shift): rank 4 +-0.02 in runs 1, 2, rank 8 the mirror image.
    test = np.array([0, 0.02, -0.02, 0, -0.02, 0.02, 0, 0, 0])
    # Validation, by hand: row means 0.8367, 0.81, 0.5167; run shifts -0.0044, +0.0056, -0.0011.
    val = np.array([0.01778, -0.04222, 0.02444, -0.00556, 0.01444, -0.00889])
    val = np.concatenate([val, [-0.01222, 0.02778, -0.01556]])
    assert r["shared_luck"] == pytest.approx(np.corrcoef(test, val)[0, 1], abs=1e-3)
    assert r["shared_luck"] < 0  # here run 1 is lucky on test where it is unlucky on validation
    md = markdown(measure([grids / "grids", grids / "recording"]))
    assert "correlation of a run's test and validation residuals" in md
