"""Calibration of a surrogate's std on its own cross-validation folds (normalised split
conformal): the interval a prediction claims is the interval it has.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import norm

from loratune.errors import LoratuneError
from loratune.predictor.surrogates import Surrogate

# The interval the chosen surrogate's std is calibrated for (`Calibrated`): a 90% interval is
# what the race and the report check.
CALIBRATION_LEVEL = 0.9


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
