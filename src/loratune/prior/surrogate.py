"""The warm start's model of the target: a Gaussian process whose mean is the prior.

    y(x) = a + b * m(x) + r(x),   m(x) = -(mean over sources of the predicted shortfall) / 100

`a` (the target's level) and `b` (how steep its landscape is against the sources') are fitted
by least squares on the target's trials (b = 1 with fewer than three, clipped to [0.3, 3]);
`r` is a GP whose prior variance at x is sigma_f^2 + (b s(x))^2, with s(x) the sources'
disagreement there, so configs where the sources disagree stay uncertain until tried.
Length scales are fixed (a handful of trials cannot fit them): one octave of rank, half a
decade of effective learning rate, a decade of weight decay, two epochs. Noise is each
trial's binomial standard error on the validation split.

A trial stopped early is censored: its value is known only to lie below the incumbent (it was
stopped for looking clearly worse), so it enters with the mean of the fitted posterior
truncated there, never with its epoch-1 check accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

LENGTH_SCALES = np.array([1.0, 0.5, 1.0, 2.0])  # the units of `prior.model.PRIOR_FEATURES`
SIGMA_FLOOR = 0.03  # residual amplitude's floor: 3 points


def _matern52(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = np.sqrt((((a[:, None, :] - b[None, :, :]) / LENGTH_SCALES) ** 2).sum(-1))
    r = np.sqrt(5.0) * d
    return (1.0 + r + r * r / 3.0) * np.exp(-r)


@dataclass(frozen=True)
class Posterior:
    mean: np.ndarray
    std: np.ndarray


class PriorMeanGP:
    """Fitted on the target's trials (`x` prior features, `y` validation scores, `noise`
    their SE), with the prior's mean `m` and disagreement `s` at each of them."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        noise: np.ndarray,
        m: np.ndarray,
        s: np.ndarray,
    ) -> None:
        self.x, self.y = np.asarray(x, float), np.asarray(y, float)
        if len(self.y) >= 3 and np.ptp(m) > 1e-9:
            b = float(np.polyfit(m, self.y, 1)[0])
            self.b = float(np.clip(b, 0.3, 3.0))
        else:
            self.b = 1.0
        self.a = float(np.mean(self.y - self.b * m))
        resid = self.y - self.a - self.b * m
        self.sigma = max(float(np.sqrt(np.mean(resid**2))), SIGMA_FLOOR)
        self.s = self.b * np.asarray(s, float)
        k = self._k(self.x, self.s, self.x, self.s) + np.diag(np.asarray(noise, float) ** 2)
        self.chol = np.linalg.cholesky(k + 1e-10 * np.eye(len(k)))
        self.alpha = np.linalg.solve(self.chol.T, np.linalg.solve(self.chol, resid))

    def _k(self, xa: np.ndarray, sa: np.ndarray, xb: np.ndarray, sb: np.ndarray) -> np.ndarray:
        return (self.sigma**2 + np.outer(sa, sb)) * _matern52(xa, xb)

    def predict(self, x: np.ndarray, m: np.ndarray, s: np.ndarray) -> Posterior:
        x, s = np.asarray(x, float), self.b * np.asarray(s, float)
        ks = self._k(x, s, self.x, self.s)
        mean = self.a + self.b * np.asarray(m, float) + ks @ self.alpha
        v = np.linalg.solve(self.chol, ks.T)
        var = self.sigma**2 + s**2 - (v * v).sum(0)
        return Posterior(mean, np.sqrt(np.maximum(var, 1e-12)))


def truncated_mean(mean: np.ndarray, std: np.ndarray, upper: float) -> np.ndarray:
    """E[y | y <= upper] for y ~ N(mean, std^2): a censored trial's value."""
    alpha = (upper - mean) / std
    tail = np.maximum(norm.cdf(alpha), 1e-12)
    return np.minimum(mean - std * norm.pdf(alpha) / tail, upper)


def fit_censored(
    x: np.ndarray,
    y: np.ndarray,
    noise: np.ndarray,
    censored: Sequence[bool],
    upper: float,
    m: np.ndarray,
    s: np.ndarray,
) -> PriorMeanGP:
    """Fit on the full trials, impute each censored one below `upper`, fit again on all."""
    cen = np.asarray(censored, bool)
    full = ~cen
    model = PriorMeanGP(x[full], y[full], noise[full], m[full], s[full])
    if not cen.any():
        return model
    post = model.predict(x[cen], m[cen], s[cen])
    y = y.copy()
    y[cen] = truncated_mean(post.mean, post.std, upper)
    noise = noise.copy()
    noise[cen] = np.maximum(noise[cen], post.std / 2)
    return PriorMeanGP(x, y, noise, m, s)


def chance_to_beat(post: Posterior, incumbent: float, margin: float) -> np.ndarray:
    """P(y > incumbent + margin) under the posterior."""
    return norm.sf((incumbent + margin - post.mean) / post.std)
