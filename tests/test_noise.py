"""benchmarks/noise.py: seed-to-seed noise of a recorded grid, on a hand-computed example."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from loratune.space import Config

ROOT = Path(__file__).resolve().parents[1]
ACC = {  # config rank -> accuracy under seeds 0, 1, 2
    4: (0.90, 0.92, 0.88),
    8: (0.80, 0.78, 0.82),
    16: (0.50, 0.50, 0.50),
}


def _load(monkeypatch: pytest.MonkeyPatch):
    spec = importlib.util.spec_from_file_location("noise_bench", ROOT / "benchmarks" / "noise.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "noise_bench", module)
    spec.loader.exec_module(module)
    return module


def _write(path: Path, seed: int, extra: bool = False) -> None:
    rows = []
    for rank, accs in ACC.items():
        c = Config(rank=rank, alpha=2.0 * rank, learning_rate=1e-3, seed=seed)
        row = {"status": "complete", "config": c.to_dict(), "accuracy": accs[seed]}
        rows.append({**row, "latency": 10.0 + seed, "provenance": {"cpu": "test cpu"}})
    if extra:  # the full grid has configs the noise subset did not repeat
        c = Config(rank=32, alpha=64.0, learning_rate=1e-3)
        rows.append({"status": "complete", "config": c.to_dict(), "accuracy": 0.99})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_noise_statistics_match_a_hand_computation(tmp_path, monkeypatch):
    grid = tmp_path / "grids" / "m" / "support.jsonl"
    _write(grid, 0, extra=True)
    for seed in (2, 1):
        _write(grid.parent / "noise" / f"support-seed{seed}.jsonl", seed)
    noise = _load(monkeypatch)
    names = [p.name for p in noise.seed_files(grid)]
    assert names == ["support-seed1.jsonl", "support-seed2.jsonl"]
    noise.main(["--grid", str(grid), "--out", str(tmp_path)])
    r = json.loads((tmp_path / "noise.json").read_text())
    assert r["configs"] == 3 and r["seeds"] == 3  # rank 32 was not repeated: left out
    # Per-config SDs 0.02, 0.02, 0: pooled SD sqrt((0.0004 + 0.0004 + 0) / 3).
    assert r["within_config_sd"] == pytest.approx((0.0008 / 3) ** 0.5)
    # Pair differences: 0.02 0.02 0 | 0.02 0.02 0 | 0.04 0.04 0 -> mean 0.16 / 9, 6 of 9 > 1 pt.
    assert r["mean_abs_seed_diff"] == pytest.approx(0.16 / 9)
    assert r["share_seed_diff_over_margin"] == pytest.approx(6 / 9)
    # Every seed has the same mean: no common shift; the residuals are +-0.02 on 4 of 9 cells
    # with (3 - 1) * (3 - 1) degrees of freedom, so the interaction SD is 0.02.
    assert r["seed_shift"] == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)
    assert r["residual_sd"] == pytest.approx(0.02)
    assert r["same_best_all_seeds"] and r["within_margin_all_seeds"] == 1
    assert r["icc"] > 0.9  # the configs differ by far more than the seeds move them
    md = (tmp_path / "NOISE.md").read_text()
    assert "3 configs of the grid, each trained under 3 seeds" in md and "test cpu" in md


def test_noise_without_reruns_says_so(tmp_path, monkeypatch, capsys):
    grid = tmp_path / "support.jsonl"
    _write(grid, 0)
    _load(monkeypatch).main(["--grid", str(grid), "--out", str(tmp_path)])
    assert "nothing to do" in capsys.readouterr().out
    assert not (tmp_path / "noise.json").exists()
