"""The surrogate models: a GP, extra-trees, gradient boosting (each with an uncertainty), and
the physical time model. Pure numerics on encoded configs (`loratune.space.encode`).
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import norm
from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

from loratune.errors import LoratuneError

# Floor on the predicted std, in units of the target's standard deviation: a model that claims
# zero uncertainty breaks expected improvement and interval coverage.
STD_FLOOR = 1e-3


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
