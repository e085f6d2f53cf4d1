"""Statistics that say how far to trust autotune: predicted vs actual, regret, speedup.

Samples are small (often 3-10 verified configs), so every function tolerates tiny n: a
statistic that is undefined is returned as None with a reason rather than a NaN or a crash,
and `evidence_warnings` says in plain words when the numbers prove little.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from loratune.errors import LoratuneError

# Two configs are told apart on the same examples below this exact McNemar p
# (`paired_difference`): the pick against its runner-up, and the noise-aware last step.
DISTINGUISHABLE_P = 0.05
MIN_WILCOXON = 6  # below 6 non-zero differences, two-sided p can never reach 0.05
# A constant offset (zero spread) is called a bias from this many pairs: accuracies on a small
# validation split are multiples of 1/n, so two predictions can miss by the same amount by chance.
MIN_OFFSET_PAIRS = 3


@dataclass(frozen=True)
class Correlation:
    """A rank correlation (Spearman rho or Kendall tau) and its p-value."""

    value: float
    p: float | None


@dataclass(frozen=True)
class PredictionStats:
    """Predictions against measured outcomes (`prediction_stats`)."""

    n: int
    mae: float
    rmse: float
    bias: float  # mean of predicted - actual: > 0 is optimistic
    spearman: Correlation | None  # None when n < 3 or an input is constant
    kendall: Correlation | None
    coverage: float | None  # share of actuals inside the central `level` interval
    level: float


@dataclass(frozen=True)
class TestResult:
    """One significance test; an undefined one has statistic and p None and says why."""

    __test__ = False  # not a pytest test class

    statistic: float | None
    p: float | None
    reason: str = ""
    zeros_dropped: int = 0  # Wilcoxon: pairs with no difference, left out


@dataclass(frozen=True)
class PairedTests:
    """Paired t-test and Wilcoxon signed-rank on predicted - actual (`paired_tests`)."""

    n: int
    mean_diff: float
    t_test: TestResult
    wilcoxon: TestResult


@dataclass(frozen=True)
class PairedDifference:
    """Exact McNemar test of two configs on the same examples (`paired_difference`)."""

    a_only: int  # examples only the first answered right
    b_only: int
    examples: int
    p: float


@dataclass(frozen=True)
class RegretSummary:
    regret_vs_study: float
    regret_vs_grid: float | None = None
    grid_rank: int | None = None  # 1 = the grid's best
    grid_size: int | None = None


def _vector(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1:
        raise LoratuneError(f"{name} must be one-dimensional, got shape {a.shape}")
    if len(a) == 0:
        raise LoratuneError(f"{name} is empty")
    if not np.all(np.isfinite(a)):
        raise LoratuneError(f"{name} contains NaN or infinite values")
    return a


def _pair(a: Any, b: Any, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    x, y = _vector(a, names[0]), _vector(b, names[1])
    if len(x) != len(y):
        raise LoratuneError(f"{names[0]} has {len(x)} values but {names[1]} has {len(y)}")
    return x, y


def _finite(v: Any) -> float | None:
    """A float, or None where scipy answered NaN (constant input, too few points)."""
    v = float(v)
    return v if np.isfinite(v) else None


def _correlation(fn: Callable[..., Any], a: np.ndarray, b: np.ndarray) -> Correlation | None:
    if len(a) < 3:
        return None
    with warnings.catch_warnings():  # ConstantInputWarning: the NaN is handled below
        warnings.simplefilter("ignore")
        res = fn(a, b)
    value = _finite(res.statistic)
    return None if value is None else Correlation(value, _finite(res.pvalue))


def prediction_stats(
    pred_mean: Any, pred_std: Any | None, actual: Any, level: float = 0.9
) -> PredictionStats:
    """Accuracy, ranking and calibration of predictions against measured outcomes.

    Coverage is None without pred_std; the correlations are None when n < 3 or an input is
    constant. Ranking matters more than MAE for autotune: it only needs the best configs on top.
    """
    pred, act = _pair(pred_mean, actual, ("pred_mean", "actual"))
    if not 0 < level < 1:
        raise LoratuneError(f"level must be between 0 and 1, got {level}")
    err = pred - act
    coverage = None
    if pred_std is not None:
        sd, _ = _pair(pred_std, act, ("pred_std", "actual"))
        if np.any(sd < 0):
            raise LoratuneError("pred_std contains negative values")
        half = sps.norm.ppf(0.5 + level / 2) * sd
        coverage = float(np.mean(np.abs(err) <= half))
    return PredictionStats(
        n=len(pred),
        mae=float(np.mean(np.abs(err))),
        rmse=float(np.sqrt(np.mean(err**2))),
        bias=float(np.mean(err)),
        spearman=_correlation(sps.spearmanr, pred, act),
        kendall=_correlation(sps.kendalltau, pred, act),
        coverage=coverage,
        level=level,
    )


def paired_tests(pred: Any, actual: Any) -> PairedTests:
    """Are predictions off on average? Paired t-test and Wilcoxon signed-rank on pred - actual.

    The t-test assumes roughly normal errors; Wilcoxon does not but needs >= 6 non-zero
    differences to ever reach p < 0.05. An undefined test has no statistic and no p, and
    says why. A small p means a systematic bias, not a bad ranking.
    """
    p, a = _pair(pred, actual, ("pred", "actual"))
    d = p - a
    t_test: TestResult
    if len(d) < 2:
        t_test = TestResult(None, None, "needs at least 2 pairs")
    elif np.ptp(d) <= 1e-12 * max(1.0, float(np.abs(d).max())):
        if np.all(d == 0):
            t_test = TestResult(None, None, "all differences are zero")
        elif len(d) < MIN_OFFSET_PAIRS:  # two equal differences happen by chance on few examples
            t_test = TestResult(None, None, f"{len(d)} equal differences: too few to call a bias")
        else:
            t_test = TestResult(None, 0.0, "constant non-zero offset")
    else:
        res = sps.ttest_rel(p, a)
        t_test = TestResult(_finite(res.statistic), _finite(res.pvalue))
    nonzero = d[d != 0]
    if len(nonzero) < MIN_WILCOXON:
        wilcoxon = TestResult(
            None, None, f"needs at least {MIN_WILCOXON} non-zero differences, got {len(nonzero)}"
        )
    else:
        with warnings.catch_warnings():  # exact-distribution fallbacks on ties
            warnings.simplefilter("ignore")
            res = sps.wilcoxon(nonzero)
        wilcoxon = TestResult(
            _finite(res.statistic), _finite(res.pvalue), zeros_dropped=int(len(d) - len(nonzero))
        )
    return PairedTests(len(d), float(d.mean()), t_test, wilcoxon)


def _check_boot(level: float, n_boot: int) -> None:
    if not 0 < level < 1:
        raise LoratuneError(f"level must be between 0 and 1, got {level}")
    if n_boot < 1:
        raise LoratuneError(f"n_boot must be >= 1, got {n_boot}")


def bootstrap_ci(
    values: Any,
    stat: Callable[..., Any] = np.mean,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of `stat(values)` (scipy.stats.bootstrap): no normality
    assumption, honest about small n (with one value, or all equal, the interval is a point,
    which proves nothing)."""
    v = _vector(values, "values")
    _check_boot(level, n_boot)
    if len(v) < 2 or np.all(v == v[0]):
        point = float(stat(v))
        return point, point
    res = sps.bootstrap(
        (v,),
        stat,
        n_resamples=n_boot,
        confidence_level=level,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def paired_difference(hits_a: str, hits_b: str) -> PairedDifference:
    """Exact McNemar test of two configs scored on the same examples ("1"/"0" per example):
    only the examples they disagree on carry evidence. Returns the disagreement counts and
    the two-sided p-value (binomial test of a-only wins among the disagreements)."""
    if len(hits_a) != len(hits_b) or not hits_a:
        raise LoratuneError("paired comparison needs two hit strings of one equal, non-zero length")
    a_only = sum(a == "1" and b == "0" for a, b in zip(hits_a, hits_b, strict=True))
    b_only = sum(a == "0" and b == "1" for a, b in zip(hits_a, hits_b, strict=True))
    n = a_only + b_only
    p = float(sps.binomtest(a_only, n, 0.5).pvalue) if n else 1.0
    return PairedDifference(a_only, b_only, len(hits_a), p)


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of `successes` in `n` (`scipy.stats.binomtest(...).proportion_ci`):
    sound near 0 and 1, unlike the normal one. With n = 0 nothing is known: (0, 1)."""
    if n == 0:
        return (0.0, 1.0)
    ci = sps.binomtest(successes, n).proportion_ci(confidence_level=level, method="wilson")
    return (float(ci.low), float(ci.high))


def regret(picked_value: float, best_value: float) -> float:
    """Accuracy lost by the pick against the best known: best - picked, never below 0."""
    picked, best = float(picked_value), float(best_value)
    if not (np.isfinite(picked) and np.isfinite(best)):
        raise LoratuneError(f"regret needs finite values, got {picked_value} and {best_value}")
    return max(best - picked, 0.0)


def regret_summary(
    picked_value: float, study_values: Sequence[float], grid_values: Sequence[float] | None = None
) -> RegretSummary:
    """Regret vs the best trained in the study and, if the grid was run, vs the grid's best,
    plus where the pick ranks in the grid (1 = best)."""
    study = _vector(study_values, "study_values")
    vs_study = regret(picked_value, study.max())
    if grid_values is None:
        return RegretSummary(vs_study)
    grid = _vector(grid_values, "grid_values")
    return RegretSummary(
        vs_study, regret(picked_value, grid.max()), int(np.sum(grid > picked_value)) + 1, len(grid)
    )


def speedup(grid_seconds: float, spent_seconds: float) -> float:
    """How many times less compute than training the whole grid."""
    if not spent_seconds > 0 or not grid_seconds >= 0:
        raise LoratuneError(
            f"speedup needs spent_seconds > 0 and grid_seconds >= 0, "
            f"got {spent_seconds} and {grid_seconds}"
        )
    return float(grid_seconds) / float(spent_seconds)


def cost_saved(grid_cost: float, spent_cost: float) -> float:
    """Fraction of the grid's cost not spent (negative if autotune spent more). A free grid
    (local hardware, cost 0) saves nothing: 0.0."""
    if not grid_cost >= 0 or not spent_cost >= 0:
        raise LoratuneError(f"costs must be >= 0, got {grid_cost} and {spent_cost}")
    return 0.0 if grid_cost == 0 else 1.0 - float(spent_cost) / float(grid_cost)


def pareto_front(accuracy: Any, seconds: Any) -> np.ndarray:
    """Indices of configs no other beats on both accuracy (higher) and seconds (lower).

    A point is dominated only by one at least as good on both and strictly better on one, so
    exact duplicates all stay. Sorted by seconds, then by accuracy descending.
    """
    acc, sec = _pair(accuracy, seconds, ("accuracy", "seconds"))
    ge = (acc[None, :] >= acc[:, None]) & (sec[None, :] <= sec[:, None])  # [i, j]: j >= i
    gt = (acc[None, :] > acc[:, None]) | (sec[None, :] < sec[:, None])
    front = np.flatnonzero(~np.any(ge & gt, axis=1))
    return front[np.lexsort((front, -acc[front], sec[front]))]


def evidence_warnings(
    stats: PredictionStats | None,
    mae_ci: Sequence[float] | None = None,
    *,
    tests: PairedTests | None = None,
    min_verified: int = 5,
    max_ci_width: float = 0.05,
    alpha: float = 0.05,
    coverage_tolerance: float = 0.2,
) -> list[str]:
    """Plain-language reasons the evidence is weak; empty when nothing stands out.

    `stats` is a `prediction_stats` result (None: nothing was verified), `mae_ci` a bootstrap
    interval of the absolute errors, `tests` a `paired_tests` result. Widths are in accuracy
    units (0.05 = 5 points).
    """
    out: list[str] = []
    n = stats.n if stats is not None else 0
    if stats is None or n == 0:
        return ["No config was verified by real training, so the predictions are untested."]
    if n < min_verified:
        out.append(
            f"Only {n} predicted config(s) were verified by real training (want at least "
            f"{min_verified}): the statistics below are anecdotal."
        )
    if mae_ci is not None and len(mae_ci) == 2 and mae_ci[1] - mae_ci[0] > max_ci_width:
        out.append(
            f"The 95% interval of the mean absolute error is wide ({mae_ci[0]:.3f} to "
            f"{mae_ci[1]:.3f}): the typical prediction error is not pinned down."
        )
    rho = stats.spearman
    if rho is not None:
        r, p = rho.value, rho.p
        if r < 0:
            out.append(
                f"Predicted and actual accuracies are ranked in opposite orders (Spearman "
                f"rho = {r:.2f}): the predictor's favourites may be the wrong ones."
            )
        elif p is not None and p > alpha:
            out.append(
                f"The ranking agreement is not statistically significant (Spearman rho = "
                f"{r:.2f}, p = {p:.2g}): it could be chance."
            )
    elif n >= 3:
        out.append("Rank correlation is undefined: predicted or actual values are all equal.")
    cov, level = stats.coverage, stats.level
    if cov is not None and abs(cov - level) > coverage_tolerance:
        side = "too narrow (overconfident)" if cov < level else "too wide (underconfident)"
        only = "Only " if cov < level else ""
        out.append(
            f"{only}{cov:.0%} of actual accuracies fell inside the {level:.0%} predicted "
            f"intervals: the uncertainty is {side}."
        )
    t_p = tests.t_test.p if tests is not None else None
    if t_p is not None and t_p < alpha:
        direction = " optimistic" if stats.bias > 0 else " pessimistic"
        out.append(
            f"Predictions are systematically{direction} (paired t-test p = {t_p:.2g}): "
            "trust the ranking more than the predicted values."
        )
    return out


__all__ = [
    "DISTINGUISHABLE_P",
    "Correlation",
    "PairedDifference",
    "PairedTests",
    "PredictionStats",
    "RegretSummary",
    "TestResult",
    "bootstrap_ci",
    "cost_saved",
    "evidence_warnings",
    "paired_difference",
    "paired_tests",
    "pareto_front",
    "prediction_stats",
    "regret",
    "regret_summary",
    "speedup",
    "wilson",
]
