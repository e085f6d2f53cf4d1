"""Autotune's decisions: explore with a space-filling design, predict the grid, pick the
configs to verify. Pure functions of past trials: no I/O, no state of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from loratune.errors import LoratuneError
from loratune.predictor import Predictor, expected_improvement
from loratune.space import Config, Space, config_key, encode
from loratune.study import TrialRecord

VerifyRule = Literal["top-k", "ei"]
TARGETS = ("accuracy", "latency", "cost")


@dataclass(frozen=True)
class Prediction:
    """What the predictor says of one config of the grid, before it is trained."""

    config: Config
    accuracy: float
    accuracy_std: float
    latency: float  # seconds per training epoch
    latency_std: float
    cost: float
    tried: bool  # already trained when the prediction was made

    def attrs(self) -> dict[str, float]:
        """Stored on the trial that verifies this prediction, so validation reads it later."""
        return {
            "predicted_accuracy": self.accuracy,
            "predicted_accuracy_std": self.accuracy_std,
            "predicted_latency": self.latency,
            "predicted_cost": self.cost,
        }


def _training_data(trials: Sequence[TrialRecord]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    ok = [t for t in trials if t.ok]
    if len(ok) < 2:
        raise LoratuneError(f"the predictor needs at least 2 finished trials, found {len(ok)}")
    x = encode([t.config for t in ok])
    targets = {
        "accuracy": np.array([t.accuracy for t in ok], dtype=float),
        "latency": np.array([t.metrics.get("latency", 0.0) for t in ok], dtype=float),
        "cost": np.array([t.metrics.get("cost", 0.0) for t in ok], dtype=float),
    }
    return x, targets


def fit_predictor(trials: Sequence[TrialRecord], seed: int = 0) -> Predictor:
    """One surrogate per target (accuracy, seconds per epoch, cost), each chosen by CV."""
    x, targets = _training_data(trials)
    return Predictor.fit(x, targets, seed=seed)


def predict_grid(
    predictor: Predictor, space: Space, trials: Sequence[TrialRecord]
) -> list[Prediction]:
    """Predictions for every config of the grid, best predicted accuracy first."""
    configs = space.configs()
    tried = {t.metrics.get("config_key") for t in trials if t.ok}
    out = predictor.predict(encode(configs))
    acc, acc_sd = out["accuracy"]
    lat, lat_sd = out["latency"]
    cost, _ = out["cost"]
    preds = [
        Prediction(
            c,
            float(acc[i]),
            float(acc_sd[i]),
            float(lat[i]),
            float(lat_sd[i]),
            float(cost[i]),
            config_key(c) in tried,
        )
        for i, c in enumerate(configs)
    ]
    return sorted(preds, key=lambda p: -p.accuracy)


def pick_verify(
    predictions: Sequence[Prediction], k: int, best_seen: float, rule: VerifyRule = "top-k"
) -> list[Prediction]:
    """The k untried configs to train next.

    top-k: the highest predicted mean. ei: the highest expected improvement over the best
    accuracy seen, which favours uncertain configs whose upside is large.
    """
    untried = [p for p in predictions if not p.tried]
    if rule == "top-k":
        return sorted(untried, key=lambda p: -p.accuracy)[:k]
    if rule == "ei":
        mean = np.array([p.accuracy for p in untried])
        std = np.array([p.accuracy_std for p in untried])
        ei = expected_improvement(mean, std, best_seen)
        order = np.lexsort((-mean, -ei))  # ties in EI (often 0) fall back to the mean
        return [untried[i] for i in order[:k]]
    raise LoratuneError(f"unknown verify rule {rule!r}: use top-k or ei")
