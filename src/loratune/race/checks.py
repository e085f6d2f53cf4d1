"""What the race checks per grid besides regret: the predictor after its explore phase,
early stopping's false stops, and whether a search trained a config near the grid's best."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from loratune.race.grids import Grid
from loratune.race.run import SUCCESS_WITHIN, RunResult, test_score, val_score
from loratune.space import config_key
from loratune.stats import prediction_stats
from loratune.strategies.search import Autotune

FALSE_STOP_WITHIN = Fraction(2, 100)  # a stop is false if the full run ends within 2 points
PREDICTOR_LEVEL = 0.9  # the predictor's interval whose coverage is reported

Runs = dict[tuple[str, int], RunResult]


def predictor_check(strategy: object, grid: Grid) -> dict[str, Any] | None:
    """The predictor after the explore phase against the grid's recorded validation accuracy
    (full split) and seconds per epoch of every config it had not tried."""
    preds = getattr(strategy, "predictions", None) if isinstance(strategy, Autotune) else None
    if not preds:
        return None
    untried = [
        (p, grid.rows[k])
        for p in preds
        if not p.tried and grid.rows.get(k := config_key(p.config), {}).get("status") == "complete"
    ]
    if len(untried) < 3:
        return None
    acc = prediction_stats(
        [p.accuracy for p, _ in untried],
        [p.accuracy_std for p, _ in untried],
        [float(val_score(r)) for _, r in untried],
        level=PREDICTOR_LEVEL,
    )
    lat = prediction_stats(
        [p.latency for p, _ in untried],
        [p.latency_std for p, _ in untried],
        [float(np.mean(r["epoch_seconds"])) for _, r in untried],
        level=PREDICTOR_LEVEL,
    )
    return {
        "n": acc.n,
        "spearman": acc.spearman.value if acc.spearman else None,
        "mae": acc.mae,
        "coverage": acc.coverage,
        "time_spearman": lat.spearman.value if lat.spearman else None,
        "time_mae_seconds": lat.mae,
        "time_coverage": lat.coverage,
    }


def predictor_summary(checks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Means over seeds of the predictor's per-seed statistics (None where undefined)."""

    def mean(key: str) -> float | None:
        v = [c[key] for c in checks if c.get(key) is not None]
        return statistics.fmean(v) if v else None

    keys = ("spearman", "mae", "coverage", "time_spearman", "time_mae_seconds", "time_coverage")
    return {
        "seeds": len(checks),
        "untried": statistics.fmean(c["n"] for c in checks),
        "level": PREDICTOR_LEVEL,
        **{k: mean(k) for k in keys},
    }


def false_stops(runs: Runs, grid: Grid) -> dict[str, Any]:
    """Trials a strategy stopped early whose full run ends within 2 points (test accuracy) of
    the grid's best: configs the stopping rule cut that were among the best."""
    near = near_best(grid, FALSE_STOP_WITHIN)
    stopped = [
        s.config
        for (label, _), result in runs.items()
        if label == grid.label
        for s in result.trace
        if not s.full and grid.rows[s.config].get("status") == "complete"
    ]
    false = [k for k in stopped if k in near]
    n_runs = sum(label == grid.label for label, _ in runs)
    return {
        "runs": n_runs,
        "stops": len(stopped),
        "false_stops": len(false),
        "false_stop_share": len(false) / len(stopped) if stopped else None,
        "false_stops_per_run": len(false) / n_runs if n_runs else None,
        "configs_falsely_stopped": len(set(false)),
        "configs_within_2pt": len(near),
    }


def near_best(grid: Grid, margin: Fraction = Fraction(str(SUCCESS_WITHIN))) -> set[str]:
    """Config keys whose test accuracy lies within `margin` of the grid's best (exactly)."""
    complete = {k: r for k, r in grid.rows.items() if r.get("status") == "complete"}
    best = max(test_score(r) for r in complete.values())
    return {k for k, r in complete.items() if best - test_score(r) <= margin}


def reached(runs: Runs, grids: Sequence[Grid]) -> float:
    """The share of runs that trained, to the last epoch, at least one config within the
    success margin of the grid's best. Success needs that and a pick of it by validation:
    the gap between this share and the success rate is what picking by validation lost; the
    gap below 100% is what the search never tried."""
    near = {g.label: near_best(g) for g in grids}
    hits = [
        any(s.full and s.config in near[label] for s in result.trace)
        for (label, _), result in runs.items()
    ]
    return statistics.fmean(hits)
