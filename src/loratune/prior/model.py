"""The prior's model of one source over config features, and the warm start's portfolio.

Features are chosen so that a source answers for configs it never trained:

- log2 rank;
- log10 of the effective learning rate, lr x alpha / rank: LoRA scales its update by
  alpha / rank, so a space with alpha = rank sits half a decade of lr away from one with
  alpha = 2 x rank, not at the same place;
- log10(weight decay + 1e-3): 0 and 0.001 are close, 0.1 is far;
- epochs.

Dropout, batch size, length and adapted modules are not features: the recorded grids fix them,
so nothing could be learnt of them; the prior is silent (flat) along them. A feature that a
source does not vary is left out of its model for the same reason.

Each source is a Gaussian process (scikit-learn, Matern 5/2 with one length scale a feature,
plus a noise term) fitted to its shortfall from its own best, in points.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

from loratune.space import Config

PRIOR_FEATURES = ("log2_rank", "log10_effective_lr", "log10_wd", "epochs")


def prior_features(configs: Sequence[Config]) -> np.ndarray:
    """The prior's features of `configs`, one row each (`PRIOR_FEATURES`)."""
    rows = [
        [
            math.log2(c.rank),
            math.log10(c.learning_rate * c.alpha / c.rank),
            math.log10(c.weight_decay + 1e-3),
            float(c.epochs),
        ]
        for c in configs
    ]
    return np.asarray(rows, dtype=float).reshape(len(configs), len(PRIOR_FEATURES))


class SourceModel:
    """A fitted model of one source: predicted shortfall (points below its best, >= 0)."""

    def __init__(self, configs: Sequence[Config], shortfall: Sequence[float]) -> None:
        x = prior_features(configs)
        y = np.asarray(shortfall, dtype=float)
        self.columns = [j for j in range(x.shape[1]) if np.ptp(x[:, j]) > 0]
        self.constant = float(np.mean(y))
        self.gp: GaussianProcessRegressor | None = None
        if self.columns and len(y) >= 3 and np.ptp(y) > 0:
            xs = x[:, self.columns]
            self.lo, self.span = xs.min(axis=0), np.ptp(xs, axis=0)
            kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
                length_scale=np.ones(len(self.columns)), length_scale_bounds=(0.05, 20.0), nu=2.5
            ) + WhiteKernel(0.05, (1e-4, 1.0))
            self.gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.gp.fit((xs - self.lo) / self.span, y)

    def predict(self, configs: Sequence[Config]) -> np.ndarray:
        if self.gp is None:
            return np.full(len(configs), self.constant)
        xs = prior_features(configs)[:, self.columns]
        mean = self.gp.predict((xs - self.lo) / self.span)
        return np.maximum(np.asarray(mean, dtype=float), 0.0)


@functools.lru_cache(maxsize=256)
def source_model(configs: tuple[Config, ...], shortfall: tuple[float, ...]) -> SourceModel:
    """One fit per source per process: a race replays the same sources hundreds of times."""
    return SourceModel(configs, shortfall)


def portfolio(shortfall: np.ndarray, k: int, exclude: Sequence[int] = ()) -> list[int]:
    """k column indices chosen greedily: each next one most lowers the mean over sources
    (rows) of the best-so-far shortfall; ties go to the lower mean shortfall, then the
    lower index. Columns in `exclude` count as chosen already (a resumed run's trials)."""
    s = np.asarray(shortfall, dtype=float)
    n = s.shape[1]
    best = np.full(s.shape[0], np.inf)
    for j in exclude:
        best = np.minimum(best, s[:, j])
    chosen: list[int] = []
    mean = s.mean(axis=0)
    for _ in range(min(k, n - len(set(exclude)))):
        score = np.minimum(best[:, None], s).mean(axis=0)
        score[list(exclude) + chosen] = np.inf
        j = int(np.lexsort((np.arange(n), mean, score))[0])
        chosen.append(j)
        best = np.minimum(best, s[:, j])
    return chosen
