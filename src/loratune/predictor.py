"""Surrogate models that predict a LoRA config's outcome from a handful of trained ones.

Few points (often 6-30), a smooth response in log-scaled hyperparameters and a need for honest
uncertainty: a Gaussian process is the natural first choice, but trees and boosting cope better
with one-hot jumps and odd shapes, so each target gets whichever wins cross-validation.
Pure numerics: callers encode configs into X (see `loratune.space.encode`).
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import norm
from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from sklearn.model_selection import KFold, LeaveOneOut

from loratune.errors import LoratuneError

# Floor on the predicted std, in units of the target's standard deviation: a model that claims
# zero uncertainty breaks expected improvement and interval coverage.
STD_FLOOR = 1e-3
LOO_MAX_N = 20  # leave-one-out up to here; K-fold above (LOO gets slow, K-fold noisy below)
MIN_CV_N = 4  # below this, CV scores are noise: fall back to the GP
# The interval the chosen surrogate's std is calibrated for (`Calibrated`): a 90% interval is
# what the race and the report check.
CALIBRATION_LEVEL = 0.9


def _check_xy(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = _check_x(x), np.asarray(y, dtype=float)
    if y.ndim != 1:
        raise LoratuneError(f"y must be one-dimensional, got shape {y.shape}")
    if len(x) != len(y):
        raise LoratuneError(f"X has {len(x)} rows but y has {len(y)} values")
    if len(y) < 2:
        raise LoratuneError(f"a surrogate needs at least 2 finished trials, got {len(y)}")
    if not np.all(np.isfinite(y)):
        raise LoratuneError("y contains NaN or infinite values: drop failed trials first")
    return x, y


def _check_x(x: Any, n_features: int | None = None) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] == 0:
        raise LoratuneError(f"X must be a 2-D array with at least one column, got shape {x.shape}")
    if n_features is not None and x.shape[1] != n_features:
        raise LoratuneError(f"X has {x.shape[1]} features but the model was fitted on {n_features}")
    if not np.all(np.isfinite(x)):
        raise LoratuneError("X contains NaN or infinite values")
    return x


class Surrogate(ABC):
    """A regressor with uncertainty: fit on (X, y), predict (mean, std) with std > 0."""

    name: str = "surrogate"

    @abstractmethod
    def fit(self, x: np.ndarray, y: np.ndarray) -> Surrogate: ...

    @abstractmethod
    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    @abstractmethod
    def clone(self) -> Surrogate:
        """An unfitted copy with the same settings, for cross-validation folds."""

    def cv_mean(self, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
        """Mean prediction of a fresh copy fitted on one CV fold. CV scores only the mean, so
        subclasses may skip fitting their uncertainty model here."""
        return self.clone().fit(x_train, y_train).predict(x_test)[0]


class Calibrated(Surrogate):
    """A surrogate whose std is rescaled by factors found by cross-validation.

    The spread of extra-trees or of boosting's quantile models says little about the error on
    an untried config (the race measured 50-63% coverage for nominal 90% intervals). Scaling
    the std so the held-out residuals fall inside the interval as often as it claims (the
    normalised split-conformal quantile, here over CV folds; see `calibrated`) makes the
    interval honest without changing the mean, so the configs verified by predicted mean stay
    the same. The std becomes `scale * (std + offset)`. The name stays the inner model's.
    """

    def __init__(self, inner: Surrogate, scale: float, offset: float = 0.0) -> None:
        if not (np.isfinite(scale) and scale > 0):
            raise LoratuneError(f"calibration scale must be positive and finite, got {scale}")
        if not (np.isfinite(offset) and offset >= 0):
            raise LoratuneError(f"calibration offset must be >= 0 and finite, got {offset}")
        self.inner, self.scale, self.offset = inner, float(scale), float(offset)
        self.name = inner.name

    def clone(self) -> Surrogate:
        return Calibrated(self.inner.clone(), self.scale, self.offset)

    def fit(self, x: np.ndarray, y: np.ndarray) -> Surrogate:
        self.inner.fit(x, y)
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self.inner.predict(x)
        return mean, self.scale * (std + self.offset)

    def cv_mean(self, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
        return self.inner.cv_mean(x_train, y_train, x_test)


def calibrated(
    cand: Surrogate,
    x: np.ndarray,
    y: np.ndarray,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    level: float = CALIBRATION_LEVEL,
) -> Calibrated:
    """`cand` (unfitted) with its std rescaled so its central `level` interval covers
    held-out points.

    Each point is predicted by a copy fitted without it (its CV fold); its residual is divided
    by that copy's std plus an offset, the median of those stds, and the scale is the
    ceil((n + 1) level)-th smallest of these scores (the conformal rank, the largest when n is
    small) over the normal quantile. The offset is the usual guard of normalised conformal
    scores: on a few points boosting's quantile models can collapse to a std near 0 on one
    fold, and a residual divided by that alone made every interval of the demo's grid
    +-1200 points wide. The scale is bounded to [0.25, 100] for the same reason.
    """
    resid, spread = np.empty(len(y)), np.empty(len(y))
    for train, test in folds:
        mean, std = cand.clone().fit(x[train], y[train]).predict(x[test])
        resid[test], spread[test] = np.abs(y[test] - mean), std
    offset = float(np.median(spread))
    scores = resid / np.maximum(spread + offset, 1e-12)
    rank = min(len(scores), math.ceil((len(scores) + 1) * level))
    q = float(np.sort(scores)[rank - 1])
    scale = float(np.clip(q / norm.ppf(0.5 + level / 2), 0.25, 100.0))
    return Calibrated(cand.clone(), scale, offset)


class _Standardized(Surrogate):
    """Standardises X and y so bounds, floors and learning rates mean the same on any scale.

    A constant target (e.g. cost 0 on a local machine) is predicted exactly, with a tiny std,
    instead of dividing by a zero spread.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._fitted = False

    def fit(self, x: np.ndarray, y: np.ndarray) -> Surrogate:
        x, y = _check_xy(x, y)
        self._x_mu, sd = x.mean(axis=0), x.std(axis=0)
        self._x_sd = np.where(sd > 1e-12, sd, 1.0)  # constant column (one model): leave at 0
        self._y_mu, self._y_sd = float(y.mean()), float(y.std())
        self._constant = self._y_sd <= 1e-12 * max(1.0, abs(self._y_mu))
        if not self._constant:
            with warnings.catch_warnings():  # bound/convergence chatter on tiny data sets
                warnings.simplefilter("ignore")
                self._fit(self._scale(x), (y - self._y_mu) / self._y_sd)
        self._fitted = True
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self._fitted:
            raise LoratuneError(f"{self.name} surrogate used before fit()")
        x = _check_x(x, len(self._x_mu))
        if self._constant:
            tiny = 1e-9 * max(1.0, abs(self._y_mu))
            return np.full(len(x), self._y_mu), np.full(len(x), tiny)
        mean, std = self._predict(self._scale(x))
        std = np.maximum(np.nan_to_num(std, nan=1.0, posinf=1e6), STD_FLOOR)
        return mean * self._y_sd + self._y_mu, std * self._y_sd

    def _scale(self, x: np.ndarray) -> np.ndarray:
        return (x - self._x_mu) / self._x_sd

    @abstractmethod
    def _fit(self, x: np.ndarray, y: np.ndarray) -> None: ...

    @abstractmethod
    def _predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class GPSurrogate(_Standardized):
    """Matern-5/2 GP with one length scale per feature (ARD): smooth, calibrated on few points.

    ARD lets the GP learn that, say, weight decay hardly matters while the learning rate does.
    The white-noise term absorbs seed-to-seed jitter of measured accuracy, and the predicted
    std includes it, so intervals are for a measured outcome rather than the noiseless mean.
    """

    name = "gp"

    def __init__(self, seed: int = 0, restarts: int = 2) -> None:
        super().__init__(seed)
        self.restarts = restarts

    def clone(self) -> Surrogate:
        return GPSurrogate(seed=self.seed, restarts=self.restarts)

    def _fit(self, x: np.ndarray, y: np.ndarray) -> None:
        d = x.shape[1]
        kernel = ConstantKernel(1.0, (1e-2, 1e3)) * Matern(
            length_scale=np.ones(d), length_scale_bounds=(1e-2, 1e3), nu=2.5
        ) + WhiteKernel(noise_level=1e-2, noise_level_bounds=(1e-6, 1e1))
        self._gp = GaussianProcessRegressor(
            kernel=kernel,
            alpha=1e-8,
            normalize_y=True,
            n_restarts_optimizer=self.restarts,
            random_state=self.seed,
        ).fit(x, y)

    def _predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self._gp.predict(x, return_std=True)
        return mean, std


class ForestSurrogate(_Standardized):
    """Extremely randomised trees; the spread across trees is the uncertainty.

    Robust to one-hot jumps and interactions a stationary GP kernel smooths over; no
    optimiser to get stuck. Extra-trees (random split points) give smoother means than a
    random forest on tiny data.
    """

    name = "forest"

    def __init__(self, seed: int = 0, n_trees: int = 100) -> None:
        super().__init__(seed)
        self.n_trees = n_trees

    def clone(self) -> Surrogate:
        return ForestSurrogate(seed=self.seed, n_trees=self.n_trees)

    def _fit(self, x: np.ndarray, y: np.ndarray) -> None:
        self._forest = ExtraTreesRegressor(
            n_estimators=self.n_trees, min_samples_leaf=1, random_state=self.seed, n_jobs=1
        ).fit(x, y)

    def _predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        per_tree = np.stack([t.predict(x) for t in self._forest.estimators_])
        return per_tree.mean(axis=0), per_tree.std(axis=0)


class BoostingSurrogate(_Standardized):
    """Gradient boosting for the mean; 5% and 95% quantile models give the uncertainty.

    A 90% normal interval spans 3.29 std, so std = (q95 - q05) / 3.29. Shallow trees and a
    small learning rate keep it from memorising a few points.
    """

    name = "boosting"

    def __init__(self, seed: int = 0, n_trees: int = 150) -> None:
        super().__init__(seed)
        self.n_trees = n_trees
        self._mean_only = False

    def clone(self) -> Surrogate:
        return BoostingSurrogate(seed=self.seed, n_trees=self.n_trees)

    def _model(self, **loss: Any) -> GradientBoostingRegressor:
        return GradientBoostingRegressor(
            n_estimators=self.n_trees,
            learning_rate=0.05,
            max_depth=2,
            random_state=self.seed,
            **loss,
        )

    def cv_mean(self, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
        cv = BoostingSurrogate(seed=self.seed, n_trees=self.n_trees)
        cv._mean_only = True  # the quantile models are 2/3 of the work and CV ignores them
        return cv.fit(x_train, y_train).predict(x_test)[0]

    def _fit(self, x: np.ndarray, y: np.ndarray) -> None:
        self._mean = self._model().fit(x, y)
        if self._mean_only:
            return
        self._lo = self._model(loss="quantile", alpha=0.05).fit(x, y)
        self._hi = self._model(loss="quantile", alpha=0.95).fit(x, y)

    def _predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._mean_only:
            return self._mean.predict(x), np.ones(len(x))
        width = np.abs(self._hi.predict(x) - self._lo.predict(x))  # quantiles may cross
        return self._mean.predict(x), width / (2 * norm.ppf(0.95))


def _huber(d: np.ndarray, y: np.ndarray, cols: Sequence[int]) -> tuple[float, np.ndarray]:
    """Intercept and coefficients (zero outside `cols`) of a Huber-loss line on columns
    `cols` of `d`; with no column, the median."""
    from sklearn.linear_model import HuberRegressor

    coef = np.zeros(d.shape[1])
    if not cols:
        return float(np.median(y)), coef
    scale = d[:, cols].std(axis=0)
    model = HuberRegressor(alpha=0.0, max_iter=500).fit(d[:, cols] / scale, y)
    coef[list(cols)] = model.coef_ / scale
    return float(model.intercept_), coef


class TimeSurrogate(Surrogate):
    """Seconds (per epoch, or per trial) as a + b x rank, fitted robustly (Huber loss).

    A trial's compute is the base model's forward and backward passes (the same for every
    config of a task) plus the adapter's, which grows linearly with rank; learning rate and
    weight decay cost nothing. This physical form extrapolates to untried ranks, where trees
    cannot, and the Huber loss keeps one trial slowed by another job on the machine from
    dragging the line (a GP or a forest follows it). The slope is held at >= 0.
    Column 0 of X must be log2(rank) (see `loratune.space.FEATURES`). `extra` names further
    columns that change the cost where a space varies them (batch size, max length, adapted
    modules: `Space.features`); each enters the line linearly, as encoded.
    """

    name = "robust-linear"

    def __init__(self, extra: Sequence[int] = ()) -> None:
        self.extra = tuple(extra)

    def clone(self) -> Surrogate:
        return TimeSurrogate(self.extra)

    def _design(self, x: np.ndarray) -> np.ndarray:
        """Rank, then the extra columns that varied in the fit."""
        x = _check_x(x)
        return np.column_stack([np.exp2(x[:, 0]), x[:, list(self._used)]])

    def fit(self, x: np.ndarray, y: np.ndarray) -> Surrogate:
        x, y = _check_xy(x, y)
        self._used = tuple(j for j in self.extra if np.ptp(x[:, j]) > 0)
        d = self._design(x)
        keep = [0] * bool(np.ptp(d[:, 0]) > 0) + list(range(1, d.shape[1]))
        self._a, self._coef = _huber(d, y, keep)
        if self._coef[0] < 0:  # more rank never costs less: fit without it
            self._a, self._coef = _huber(d, y, keep[1:])
        resid = y - self._line(d)
        mad = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
        self._sigma = max(mad, 0.02 * float(np.median(np.abs(y))), 1e-9)
        # The leverage of a new point, for the prediction interval of a fitted line.
        design = np.column_stack([np.ones(len(d)), d[:, keep]])
        self._keep, self._inv = keep, np.linalg.pinv(design.T @ design)
        return self

    def _line(self, d: np.ndarray) -> np.ndarray:
        return self._a + d @ self._coef

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = self._design(x)
        design = np.column_stack([np.ones(len(d)), d[:, self._keep]])
        # The prediction interval of a fitted line: wider away from the points seen.
        spread = np.einsum("ij,jk,ik->i", design, self._inv, design)
        return self._line(d), self._sigma * np.sqrt(1.0 + spread)


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
