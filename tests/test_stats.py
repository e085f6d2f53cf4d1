"""Known answers for the statistics that judge autotune's predictions and pick."""

from __future__ import annotations

import numpy as np
import pytest

from loratune import stats
from loratune.errors import LoratuneError

ACTUAL = np.array([0.61, 0.55, 0.72, 0.68, 0.49, 0.80, 0.58, 0.66, 0.75, 0.52])


def test_perfect_predictor() -> None:
    s = stats.prediction_stats(ACTUAL, np.full(10, 0.01), ACTUAL)
    assert s.n == 10
    assert s.mae == 0 and s.rmse == 0 and s.bias == 0
    assert s.spearman.value == pytest.approx(1.0)
    assert s.kendall.value == pytest.approx(1.0)
    assert s.spearman.p < 0.001
    assert s.coverage == 1.0


def test_reversed_predictor() -> None:
    s = stats.prediction_stats(-ACTUAL, None, ACTUAL)
    assert s.spearman.value == pytest.approx(-1.0)
    assert s.kendall.value == pytest.approx(-1.0)
    assert s.coverage is None


def test_shuffled_predictor_correlates_weakly() -> None:
    rng = np.random.default_rng(3)
    actual = rng.uniform(0.4, 0.9, 30)
    s = stats.prediction_stats(rng.permutation(actual), np.full(30, 0.05), actual)
    assert s.spearman.value < 0.5
    assert s.kendall.value < 0.5
    assert s.mae > 0


def test_errors_and_bias() -> None:
    s = stats.prediction_stats([1.0, 2.0, 3.0], None, [0.0, 2.0, 5.0])
    assert s.mae == pytest.approx(1.0)
    assert s.rmse == pytest.approx(np.sqrt(5 / 3))
    assert s.bias == pytest.approx(-1 / 3)


def test_coverage() -> None:
    rng = np.random.default_rng(0)
    mean = rng.uniform(0.4, 0.9, 20)
    actual = mean + rng.normal(0, 0.001, 20)
    assert stats.prediction_stats(mean, np.full(20, 0.1), actual).coverage == 1.0
    assert stats.prediction_stats(mean, np.full(20, 1e-6), actual).coverage < 0.2


def test_small_and_constant_samples() -> None:
    s = stats.prediction_stats([0.5, 0.6], [0.1, 0.1], [0.55, 0.58])
    assert s.spearman is None and s.kendall is None and s.mae == pytest.approx(0.035)
    s = stats.prediction_stats([0.5, 0.5, 0.5, 0.5], None, [0.4, 0.6, 0.5, 0.7])
    assert s.spearman is None and s.kendall is None


@pytest.mark.parametrize(
    ("pred", "std", "actual"),
    [
        ([], None, []),
        ([0.1, np.nan], None, [0.1, 0.2]),
        ([0.1, 0.2], None, [0.1, 0.2, 0.3]),
        ([0.1, 0.2], [0.1], [0.1, 0.2]),
        ([0.1, 0.2], [-0.1, 0.1], [0.1, 0.2]),
        ([[0.1, 0.2]], None, [[0.1, 0.2]]),
    ],
)
def test_prediction_stats_rejects_bad_input(pred, std, actual) -> None:
    with pytest.raises(LoratuneError):
        stats.prediction_stats(pred, std, actual)


def test_t_test_detects_constant_offset() -> None:
    rng = np.random.default_rng(1)
    actual = rng.uniform(0.4, 0.9, 12)
    pred = actual + 0.05 + rng.normal(0, 0.002, 12)
    t = stats.paired_tests(pred, actual)
    assert t.t_test.p < 1e-6
    assert t.wilcoxon.p < 0.01
    assert t.mean_diff == pytest.approx(0.05, abs=0.005)
    exact = stats.paired_tests(np.arange(8.0) + 1.0, np.arange(8.0))
    assert exact.t_test.p == 0.0


def test_wilcoxon_on_symmetric_noise() -> None:
    actual = np.linspace(0.4, 0.8, 12)
    noise = np.array([0.01, -0.01, 0.02, -0.02, 0.03, -0.03, 0.015, -0.015, 0.025, -0.025])
    pred = actual.copy()
    pred[:10] += noise  # two exact zeros: dropped, not a crash
    t = stats.paired_tests(pred, actual)
    assert t.wilcoxon.p > 0.5
    assert t.wilcoxon.zeros_dropped == 2
    assert t.t_test.p > 0.5


def test_paired_tests_small_n() -> None:
    t = stats.paired_tests([0.5], [0.4])
    assert t.t_test.p is None and "2 pairs" in t.t_test.reason
    assert t.wilcoxon.p is None and t.wilcoxon.reason
    t = stats.paired_tests([0.5, 0.6, 0.7], [0.5, 0.6, 0.7])
    assert t.t_test.p is None and "zero" in t.t_test.reason
    assert t.wilcoxon.p is None
    t = stats.paired_tests([0.3125, 0.3125], [0.25, 0.25])  # two equal misses: chance
    assert t.t_test.p is None and "too few" in t.t_test.reason
    assert stats.paired_tests([0.3, 0.4, 0.5], [0.2, 0.3, 0.4]).t_test.p == 0.0


def test_bootstrap_ci_contains_mean_and_narrows() -> None:
    rng = np.random.default_rng(2)
    small, large = rng.normal(0.03, 0.02, 8), rng.normal(0.03, 0.02, 200)
    lo_s, hi_s = stats.bootstrap_ci(small)
    lo_l, hi_l = stats.bootstrap_ci(large)
    assert lo_s <= small.mean() <= hi_s
    assert lo_l <= large.mean() <= hi_l
    assert hi_l - lo_l < hi_s - lo_s
    assert stats.bootstrap_ci(small, seed=5) == stats.bootstrap_ci(small, seed=5)
    # a statistic without axis= takes the slow path and gives the same kind of answer
    lo, hi = stats.bootstrap_ci(small, stat=lambda v: float(np.median(v)))
    assert lo <= np.median(small) <= hi
    assert stats.bootstrap_ci([0.2]) == (0.2, 0.2)


def test_regret_speedup_cost() -> None:
    assert stats.regret(0.70, 0.75) == pytest.approx(0.05)
    assert stats.regret(0.80, 0.75) == 0.0
    r = stats.regret_summary(0.7, [0.6, 0.7], [0.6, 0.72, 0.7, 0.75])
    assert r.regret_vs_study == 0.0
    assert r.regret_vs_grid == pytest.approx(0.05)
    assert r.grid_rank == 3 and r.grid_size == 4
    assert stats.speedup(1200.0, 100.0) == pytest.approx(12.0)
    assert stats.cost_saved(10.0, 2.5) == pytest.approx(0.75)
    assert stats.cost_saved(0.0, 0.0) == 0.0
    with pytest.raises(LoratuneError):
        stats.speedup(100.0, 0.0)
    with pytest.raises(LoratuneError):
        stats.regret(float("nan"), 0.5)


def test_pareto_front() -> None:
    acc = np.array([0.70, 0.80, 0.60, 0.80, 0.75, 0.65, 0.70])
    sec = np.array([10.0, 30.0, 5.0, 40.0, 20.0, 5.0, 10.0])
    # 3 is beaten by 1 (same accuracy, faster); 2 by 5 (same speed, more accurate);
    # 0 and 6 are exact duplicates: neither dominates the other, both stay.
    assert stats.pareto_front(acc, sec).tolist() == [5, 0, 6, 4, 1]
    assert stats.pareto_front([0.5], [1.0]).tolist() == [0]
    with pytest.raises(LoratuneError):
        stats.pareto_front([0.5, np.nan], [1.0, 2.0])


def test_evidence_warnings() -> None:
    rng = np.random.default_rng(0)
    actual = rng.uniform(0.4, 0.9, 20)
    good = stats.prediction_stats(actual + rng.normal(0, 0.01, 20), np.full(20, 0.012), actual)
    assert stats.evidence_warnings(good, mae_ci=(0.005, 0.012)) == []

    weak = stats.prediction_stats([0.6, 0.7, 0.65], [0.001] * 3, [0.7, 0.6, 0.75])
    text = " ".join(stats.evidence_warnings(weak, mae_ci=(0.0, 0.2)))
    assert "Only 3" in text
    assert "wide" in text
    assert "opposite" in text or "significant" in text
    assert "overconfident" in text
    assert stats.evidence_warnings(None)

    biased = stats.prediction_stats(actual + 0.05, np.full(20, 0.1), actual, level=0.5)
    tests = stats.paired_tests(actual + 0.05 + rng.normal(0, 0.001, 20), actual)
    text = " ".join(stats.evidence_warnings(biased, tests=tests))
    assert "optimistic" in text and "underconfident" in text


def test_paired_difference_counts_only_disagreements() -> None:
    # 10 examples: both right on 6, a alone on 3, b alone on 1 -> binomial(3 of 4, 0.5).
    a = "1111111110"
    b = "1111110001"
    r = stats.paired_difference(a, b)
    assert (r.a_only, r.b_only, r.examples) == (3, 1, 10)
    assert r.p == pytest.approx(0.625)
    assert stats.paired_difference("101", "101").p == 1.0
    with pytest.raises(LoratuneError):
        stats.paired_difference("10", "1")


def test_wilson_interval_known_answer() -> None:
    # 8 of 10 at 95%: centre (p + z^2/2n) / (1 + z^2/n), half-width z sqrt(pq/n + z^2/4n^2) / (...)
    assert stats.wilson(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    low, high = stats.wilson(0, 20)
    assert low == 0.0 and 0 < high < 0.2  # sound at 0, where the normal interval collapses
    assert stats.wilson(0, 0) == (0.0, 1.0)  # nothing measured: nothing known


def test_one_wilson_for_the_race_and_the_model_card() -> None:
    from loratune.deploy.card import wilson as card_wilson
    from loratune.race.compare import wilson as race_wilson

    assert card_wilson is stats.wilson and race_wilson is stats.wilson
