"""The noise-aware last step replayed on a noise subset (`race.separation`,
benchmarks/separation.py), on a hand-computed example; and its pure decisions
(`strategies.separate`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmark_loader import load_benchmark

from loratune.race.separation import analyse, replay
from loratune.space import Config, config_key
from loratune.strategies.separate import (
    Kept,
    SeedScore,
    keep_best_adapter,
    mcnemar_p,
    pool_seeds,
)

N_VAL, N_TEST = 100, 200


def _row(rank: int, val: int, test: float, seed: int = 0, charged: float = 10.0) -> dict:
    c = Config(rank=rank, alpha=2.0 * rank, learning_rate=1e-3, seed=seed)
    return {
        "status": "complete",
        "config": c.to_dict(),
        "val_correct": val,
        "val_total": N_VAL,
        "val_hits": "1" * val + "0" * (N_VAL - val),  # nested: the better one wins all of B's
        "test_correct": round(test * N_TEST),
        "test_total": N_TEST,
        "charged_seconds": charged,
    }


def _rows(*rows: dict) -> dict[str, dict]:
    return {config_key(Config.from_dict(r["config"])): r for r in rows}


# Seed 0: rank 4 leads rank 8 by one validation example (within noise); rank 8's adapter is
# the better on test. Seed 1 (the step's extra trials): rank 8 clearly ahead.
FIRST = _rows(
    _row(4, 80, 0.88), _row(8, 79, 0.90), _row(16, 50, 0.50), _row(32, 99, 0.99, charged=7.0)
)
SECOND = _rows(
    _row(4, 70, 0.80, seed=1, charged=11.0),
    _row(8, 85, 0.90, seed=1, charged=12.0),
    _row(16, 50, 0.50, seed=1, charged=13.0),
)


def test_exhaustive_with_the_step_pools_the_second_seed_and_picks_better():
    run = replay(FIRST, SECOND, k=3)  # rank 32 has no second seed: not in the subset
    assert run.exhaustive and run.budget == 3
    assert run.triggered and run.changed
    # Without: rank 4 (test 0.88, best 0.90). With: pooled 150 / 164 / 100 of 200 -> rank 8.
    assert run.regret_plain == pytest.approx(0.02) and run.regret_pooled == 0
    # Config judge, mean over seeds 0 and 1: rank 4 0.84, rank 8 0.90.
    assert run.config_regret_plain == pytest.approx(0.06) and run.config_regret_pooled == 0
    assert not run.success_plain and run.success_pooled  # 2 points vs the 1-point margin
    assert run.compute_plain == 1.0
    assert run.compute_with_step == pytest.approx((30 + 11 + 12 + 13) / 30)
    # Keeping the best adapter: of the six, rank 8's seed-1 run has the most right (85).
    assert run.regret_kept == 0 and run.config_regret_kept == 0
    assert run.kept_changed and run.success_kept


def test_keeping_the_best_adapter_can_beat_every_first_seed_adapter():
    second = dict(SECOND)
    lucky = _row(8, 85, 0.93, seed=1, charged=12.0)  # a lucky run: 0.93 on test
    second[config_key(Config.from_dict(lucky["config"]))] = lucky
    run = replay(FIRST, second, k=3)
    assert run.regret_kept == pytest.approx(-0.03)  # below the best first-seed adapter
    assert run.regret_pooled == 0  # pooling deploys rank 8's first-seed adapter (0.90)
    # A tie on validation goes to the first seed's adapter.
    tied = _rows(_row(4, 80, 0.95, seed=1), _row(8, 70, 0.90, seed=1), _row(16, 50, 0.50, seed=1))
    run = replay(FIRST, tied, k=3)
    assert run.regret_kept == pytest.approx(0.90 - 0.88)  # rank 4, first seed


def test_a_pick_told_apart_spends_nothing():
    first = _rows(_row(4, 95, 0.88), _row(8, 60, 0.90), _row(16, 50, 0.50))
    run = replay(first, SECOND, k=3)
    assert not run.triggered and not run.changed and not run.kept_changed
    assert run.compute_with_step == run.compute_plain == 1.0
    assert run.regret_pooled == run.regret_plain == pytest.approx(0.02)
    assert run.regret_kept == run.regret_plain


def test_random_budgets_draw_subsets_and_summaries_pair_the_runs():
    a = replay(FIRST, SECOND, budget=2, k=2, seed=5)
    assert a == replay(FIRST, SECOND, budget=2, k=2, seed=5)  # the seed fixes the draw
    assert a.budget == 2 and not a.exhaustive and a.compute_plain == pytest.approx(20 / 30)
    summaries = analyse(FIRST, SECOND, budgets=(2, None), k=2, seeds=30)
    random2, exhaustive = summaries
    assert random2["runs"] == 30 and exhaustive["runs"] == 1  # nothing to draw in exhaustive
    for judge in ("kept_adapter", "pooled_adapter"):
        d = exhaustive[judge]
        assert d["delta"]["mean"] == pytest.approx(-0.02) and d["helped"] == 1 and d["hurt"] == 0
    assert 0 <= random2["changed"] <= random2["triggered"] <= 30
    assert 0 <= random2["kept_changed"] <= random2["triggered"]


def test_pool_seeds_and_mcnemar():
    a, b = SeedScore(80, 100, "1" * 80 + "0" * 20), SeedScore(79, 100, "1" * 79 + "0" * 21)
    assert mcnemar_p(a, b) == 1.0 and mcnemar_p(a, SeedScore(79, 100)) is None
    pooled = pool_seeds([a, b], [SeedScore(70, 100, "1" * 70 + "0" * 30), None])
    # b's second trial failed: b counts 79/100 against a's 150/200, and the hit strings
    # differ in length, so no test after.
    assert pooled.pick == 1 and pooled.correct == (150, 79) and pooled.p_after is None
    assert not pooled.distinguishable
    with pytest.raises(ValueError):
        pool_seeds([a], [None])


def test_keep_best_adapter_prefers_the_first_seed_then_the_first_ranking():
    def hits(n: int) -> SeedScore:
        return SeedScore(n, 100, "1" * n + "0" * (100 - n))

    # The second seed of config 1 has the most right: kept, against config 0's first (80).
    kept = keep_best_adapter([hits(80), hits(79)], [hits(70), hits(90)])
    assert (kept.pick, kept.second) == (1, True)
    assert kept.p_after == pytest.approx(0.0020, abs=1e-4)  # 10 discordant, all one way
    assert kept.distinguishable
    # A tie between seeds goes to the first seed; a tie between configs to the first ranked.
    assert keep_best_adapter([hits(80), hits(79)], [hits(80), None]) == Kept(0, False, 1.0, False)
    assert keep_best_adapter([hits(80), hits(80)], [None, None]).pick == 0
    # A failed or stopped second trial (None) is never kept.
    assert keep_best_adapter([hits(50), hits(49)], [None, None]).second is False
    with pytest.raises(ValueError):
        keep_best_adapter([hits(80)], [None])


def test_the_benchmark_writes_its_tables(tmp_path: Path):
    grids, rec = tmp_path / "grids" / "m", tmp_path / "rec" / "m"
    grids.mkdir(parents=True)
    rec.mkdir(parents=True)
    (grids / "support.jsonl").write_text("".join(json.dumps(r) + "\n" for r in FIRST.values()))
    (rec / "support-seed1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in SECOND.values()))
    out = tmp_path / "out"
    result = load_benchmark("separation").main(
        [
            "--grids-dir",
            str(tmp_path / "grids"),
            "--recording-dir",
            str(tmp_path / "rec"),
            "--seeds",
            "5",
            "--out",
            str(out),
        ]
    )
    assert result["m/support"]["configs"] == 3
    assert json.loads((out / "separation.json").read_text())["k"] == 3
    text = (out / "SEPARATION.md").read_text()
    assert "| exhaustive (grid order) | 1 | 1 | 100% → 220% | 1 | 0% → 100% |" in text
    assert "keeping the best adapter" in text and "pooling the seeds" in text
