"""Surrogate models that predict a LoRA config's outcome from a handful of trained ones.

Few points (often 6-30), a smooth response in log-scaled hyperparameters and a need for honest
uncertainty: a Gaussian process is the natural first choice, but trees and boosting cope better
with one-hot jumps and odd shapes, so each target gets whichever wins cross-validation.
Pure numerics: callers encode configs into X (see `loratune.space.encode`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import norm
from sklearn.model_selection import KFold, LeaveOneOut

from loratune.errors import LoratuneError
from loratune.predictor.calibration import CALIBRATION_LEVEL, Calibrated, calibrated
from loratune.predictor.surrogates import (
    STD_FLOOR,
    BoostingSurrogate,
    ForestSurrogate,
    GPSurrogate,
    Surrogate,
    TimeSurrogate,
    _check_xy,
)

__all__ = [
    "CALIBRATION_LEVEL",
    "STD_FLOOR",
    "TIME_TARGETS",
    "BoostingSurrogate",
    "Calibrated",
    "ForestSurrogate",
    "GPSurrogate",
    "Predictor",
    "Surrogate",
    "TimeSurrogate",
    "calibrated",
    "default_candidates",
    "expected_improvement",
    "select_surrogate",
]

LOO_MAX_N = 20  # leave-one-out up to here; K-fold above (LOO gets slow, K-fold noisy below)
MIN_CV_N = 4  # below this, CV scores are noise: fall back to the GP


# Targets that measure time or money: fitted by the physical time model, not chosen by CV.
TIME_TARGETS = ("latency", "seconds_per_epoch", "cost", "seconds")


def default_candidates(seed: int = 0) -> list[Surrogate]:
    """GP first: on ties (and with too few points for CV) the GP is preferred."""
    return [GPSurrogate(seed=seed), ForestSurrogate(seed=seed), BoostingSurrogate(seed=seed)]


def select_surrogate(
    x: np.ndarray,
    y: np.ndarray,
    candidates: Sequence[Surrogate] | None = None,
    seed: int = 0,
    calibrate: bool = True,
) -> tuple[Surrogate, dict[str, float]]:
    """The candidate with the lowest cross-validated MAE, refitted on all points.

    Leave-one-out for n <= 20 (every point counts), shuffled 5-fold above. With n < 4 there
    is no meaningful CV: the GP (or the first candidate) is fitted and scores are empty.
    With `calibrate`, the winner's std is rescaled on the same folds (`Calibrated`).
    Returns (fitted winner, {name: CV MAE in y's units}).
    """
    x, y = _check_xy(x, y)
    cands = list(candidates) if candidates is not None else default_candidates(seed)
    if not cands:
        raise LoratuneError("select_surrogate needs at least one candidate")
    names = [c.name for c in cands]
    if len(set(names)) != len(names):
        raise LoratuneError(f"candidate names must be unique, got {names}")
    if len(y) < MIN_CV_N:
        fallback = next((c for c in cands if isinstance(c, GPSurrogate)), cands[0])
        return fallback.clone().fit(x, y), {}
    if len(y) <= LOO_MAX_N:
        folds = list(LeaveOneOut().split(x))
    else:
        folds = list(KFold(n_splits=5, shuffle=True, random_state=seed).split(x))
    scores: dict[str, float] = {}
    for cand in cands:
        errors = np.empty(len(y))
        for train, test in folds:
            mean = cand.cv_mean(x[train], y[train], x[test])
            errors[test] = np.abs(mean - y[test])
        scores[cand.name] = float(errors.mean())
    best = min(cands, key=lambda c: scores[c.name])  # min() keeps the first on ties
    if calibrate:
        best = calibrated(best, x, y, folds)
    return best.clone().fit(x, y), scores


class Predictor:
    """One surrogate per target (accuracy, seconds per epoch, cost), each chosen by CV."""

    def __init__(
        self, surrogates: Mapping[str, Surrogate], cv_scores: Mapping[str, dict[str, float]]
    ) -> None:
        self.surrogates = dict(surrogates)
        self.cv_scores = {k: dict(v) for k, v in cv_scores.items()}

    @property
    def chosen(self) -> dict[str, str]:
        """Surrogate name per target, e.g. {"accuracy": "gp", "cost": "gp"}."""
        return {t: s.name for t, s in self.surrogates.items()}

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        targets: Mapping[str, Any],
        seed: int = 0,
        time_extra: Sequence[int] = (),
    ) -> Predictor:
        """`time_extra`: columns of X, besides log2(rank), that the time model reads
        (`TimeSurrogate`)."""
        if not targets:
            raise LoratuneError("Predictor.fit needs at least one target")
        surrogates: dict[str, Surrogate] = {}
        scores: dict[str, dict[str, float]] = {}
        for name, y in targets.items():
            try:
                if name in TIME_TARGETS:
                    surrogates[name], scores[name] = TimeSurrogate(time_extra).fit(x, y), {}
                    continue
                surrogates[name], scores[name] = select_surrogate(x, y, seed=seed)
            except LoratuneError as e:
                raise LoratuneError(f"target {name!r}: {e}") from None
        return cls(surrogates, scores)

    def predict(self, x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """{target: (mean, std)} for each row of X."""
        return {t: s.predict(x) for t, s in self.surrogates.items()}


def _check_mean_std(mean: Any, std: Any) -> tuple[np.ndarray, np.ndarray]:
    mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
    if mean.shape != std.shape:
        raise LoratuneError(f"mean has shape {mean.shape} but std has shape {std.shape}")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))) or np.any(std < 0):
        raise LoratuneError("mean and std must be finite, and std non-negative")
    return mean, std


def expected_improvement(
    mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0
) -> np.ndarray:
    """Expected amount by which each config beats `best` (maximisation).

    Trades off a high mean against a wide std: an uncertain config near the best can be worth
    more than a sure one slightly above it. `xi` > 0 demands a margin. std 0 gives the plain
    improvement max(mean - best - xi, 0).
    """
    mean, std = _check_mean_std(mean, std)
    gain = mean - best - xi
    safe = np.where(std > 0, std, 1.0)
    z = gain / safe
    ei = gain * norm.cdf(z) + safe * norm.pdf(z)
    return np.where(std > 0, np.maximum(ei, 0.0), np.maximum(gain, 0.0))


__all__ = [
    "BoostingSurrogate",
    "Calibrated",
    "calibrated",
    "ForestSurrogate",
    "GPSurrogate",
    "Predictor",
    "Surrogate",
    "default_candidates",
    "expected_improvement",
    "select_surrogate",
]
