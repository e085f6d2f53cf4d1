"""The race's statistics: strategies compared with exhaustive search and with the default.

Every comparison is paired over the same (grid, seed) runs. Intervals resample what varies:
grids first, then seeds within each drawn grid (`nested_ci`). A strategy that is deterministic
given its grid (the warm start) has seeds that are copies, not draws: resampling runs as if
they were independent gave intervals far too narrow; over grids, few grids give a wide one,
as they should. The per-grid tables show every grid apart.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
from scipy import stats as sps

from loratune.race.run import RunResult
from loratune.stats import wilson as wilson  # re-exported: the race tables read it here

Runs = Mapping[tuple[str, int], RunResult]  # (grid label, seed) -> result
TIE = 1e-12  # regrets are differences of exact fractions, rounded once to float


def holm(pvalues: Mapping[str, float | None]) -> dict[str, float | None]:
    """Holm's step-down adjustment (Holm 1979): the i-th smallest of m p-values is multiplied
    by m - i (i from 0), made non-decreasing, capped at 1. None stays None (no test)."""
    named = sorted(((p, n) for n, p in pvalues.items() if p is not None), key=lambda t: t[0])
    m, out, running = len(named), {n: None for n in pvalues}, 0.0
    for i, (p, name) in enumerate(named):
        running = max(running, min(1.0, (m - i) * p))
        out[name] = running
    return out


def wilcoxon_vs(reference: Runs, rival: Runs) -> dict[str, Any]:
    """Paired over (grid, seed): rival regret - reference regret (> 0: the reference did
    better). Wilcoxon's signed-rank test, two-sided, zero differences dropped (Wilcoxon's own
    method); p is None when no pair differs."""
    keys = sorted(set(reference) & set(rival))
    d = np.array([rival[k].regret - reference[k].regret for k in keys])
    out: dict[str, Any] = {
        "n": len(d),
        "mean_diff": float(d.mean()) if len(d) else None,
        "default_better": int(np.sum(d > TIE)),
        "rival_better": int(np.sum(d < -TIE)),
        "ties": int(np.sum(np.abs(d) <= TIE)),
    }
    nonzero = d[np.abs(d) > TIE]
    if len(nonzero) == 0:
        return {**out, "statistic": None, "p": None, "note": "identical regrets in every pair"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sps.wilcoxon(nonzero)
    note = "" if len(nonzero) >= 6 else "fewer than 6 non-zero pairs: p cannot reach 0.05"
    return {**out, "statistic": float(res.statistic), "p": float(res.pvalue), "note": note}


def mean_ci(values: Sequence[float], level: float = 0.95, seed: int = 0) -> dict[str, float]:
    """Mean with its bootstrap interval (`scipy.stats.bootstrap`, BCa; percentile where BCa is
    undefined). Identical values give a zero-width interval: there is nothing to resample."""
    v = np.asarray(values, dtype=float)
    mean = float(v.mean())
    if len(v) < 2 or np.ptp(v) <= TIE:
        return {"mean": mean, "ci_low": mean, "ci_high": mean}
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sps.bootstrap(
                (v,),
                np.mean,
                confidence_level=level,
                n_resamples=4999,
                method=method,
                rng=np.random.default_rng(seed),
            )
        lo, hi = res.confidence_interval
        if np.isfinite(lo) and np.isfinite(hi):
            return {"mean": mean, "ci_low": float(lo), "ci_high": float(hi)}
    return {"mean": mean, "ci_low": float("nan"), "ci_high": float("nan")}


def nested_ci(
    values: Mapping[tuple[str, int], float],
    level: float = 0.95,
    n_resamples: int = 4999,
    seed: int = 0,
) -> dict[str, float]:
    """Mean over (grid, seed) values with a two-stage bootstrap interval (percentile): draw
    the grids with replacement, then each drawn grid's seeds with replacement; the statistic
    is the mean over every drawn run. One grid: the seeds alone are resampled."""
    by_grid: dict[str, list[float]] = {}
    for (grid, _), v in sorted(values.items()):
        by_grid.setdefault(grid, []).append(float(v))
    groups = [np.asarray(g) for g in by_grid.values()]
    if not groups:
        return {"mean": float("nan"), "ci_low": float("nan"), "ci_high": float("nan")}
    mean = float(np.concatenate(groups).mean())
    if np.ptp(np.concatenate(groups)) <= TIE:
        return {"mean": mean, "ci_low": mean, "ci_high": mean}
    rng = np.random.default_rng(seed)
    stats = np.empty(n_resamples)
    for i in range(n_resamples):
        picked = rng.integers(len(groups), size=len(groups)) if len(groups) > 1 else [0]
        total, count = 0.0, 0
        for g in picked:
            runs = groups[g]
            total += float(runs[rng.integers(len(runs), size=len(runs))].sum())
            count += len(runs)
        stats[i] = total / count
    alpha = (1 - level) / 2
    lo, hi = np.quantile(stats, [alpha, 1 - alpha])
    return {"mean": mean, "ci_low": float(lo), "ci_high": float(hi), "grids": len(groups)}


def regret_vs(reference: Runs, runs: Runs) -> dict[str, float]:
    """Mean of the paired (grid, seed) difference `runs` regret - `reference` regret, with its
    95% interval over grids, seeds nested (> 0: worse than the reference)."""
    keys = sorted(set(reference) & set(runs))
    return nested_ci({k: runs[k].regret - reference[k].regret for k in keys})


def random_pick_curve(
    val: Sequence[Fraction | None], test: Sequence[Fraction], margin: Fraction
) -> dict[str, np.ndarray]:
    """Random search that picks by validation, exactly, for b = 0..M configs drawn without
    replacement: P(config i is the pick) and from it P(success) and E[regret].

    Config i (validation v_i, j configs strictly above it, t configs tied with it, failed
    configs None) is picked when none of the j is drawn and it is the first drawn of its ties:
    P = [C(M-j, b) - C(M-j-t, b)] / C(M, b) / t. With no complete config drawn nothing is
    picked (score 0). Compute is b / M of the grid in expectation.
    """
    m = len(test)
    best = max(test)
    ok = [v for v in val if v is not None]
    # (j above, t tied, regret, success) of each complete config
    rank = [
        (sum(w > v for w in ok), sum(w == v for w in ok), best - s, best - s <= margin)
        for v, s in zip(val, test, strict=True)
        if v is not None
    ]
    out_s, out_r = np.zeros(m + 1), np.zeros(m + 1)
    for b in range(m + 1):
        total = math.comb(m, b)
        success, regret, p_any = Fraction(0), Fraction(0), Fraction(0)
        for j, t, r, hit in rank:
            p = Fraction(math.comb(m - j, b) - math.comb(m - j - t, b), total * t)
            p_any += p
            regret += p * r
            success += p if hit else 0
        regret += (1 - p_any) * best
        out_s[b], out_r[b] = float(success), float(regret)
    return {"fraction": np.arange(m + 1) / m, "success": out_s, "regret": out_r}
