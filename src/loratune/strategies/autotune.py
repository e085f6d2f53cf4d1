"""Autotune's decisions: explore with a space-filling design, predict the grid, pick the
configs to verify. Pure functions of past trials: no I/O, no state of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from loratune.errors import LoratuneError
from loratune.predictor import Predictor, expected_improvement
from loratune.results import Prediction
from loratune.space import FEATURES, Space, config_key, encode
from loratune.study import TrialRecord
from loratune.study.pruner import DEFAULT_N_VAL, EarlyStop, EpochGate

__all__ = [
    "DEFAULT_N_VAL",
    "EarlyStop",
    "EpochGate",
    "VerifyRule",
    "fit_predictor",
    "pick_verify",
    "predict_grid",
]

VerifyRule = Literal["top-k", "ei"]


def _full_cost(t: TrialRecord) -> float:
    """A trial's cost as if it had run all its epochs: a trial stopped early paid for fewer,
    and the cost model must not learn that its config is cheap."""
    run = t.metrics.get("epochs_run") or t.config.epochs
    return float(t.metrics.get("cost", 0.0)) * t.config.epochs / max(int(run), 1)


def _training_data(
    trials: Sequence[TrialRecord], features: Sequence[str] = FEATURES
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Encoded configs and targets of the finished trials.

    A trial stopped early counts with the accuracy it had when stopped: the only evidence
    there is, and it was stopped because it looked clearly worse than the best.
    """
    ok = [t for t in trials if t.ok]
    if len(ok) < 2:
        raise LoratuneError(f"the predictor needs at least 2 finished trials, found {len(ok)}")
    x = encode([t.config for t in ok], features)
    targets = {
        "accuracy": np.array([t.accuracy for t in ok], dtype=float),
        "latency": np.array([t.metrics.get("latency", 0.0) for t in ok], dtype=float),
        "cost": np.array([_full_cost(t) for t in ok], dtype=float),
    }
    return x, targets


def fit_predictor(
    trials: Sequence[TrialRecord], seed: int = 0, features: Sequence[str] = FEATURES
) -> Predictor:
    """One surrogate per target (accuracy, seconds per epoch, cost), each chosen by CV, on
    `features` (`Space.features()`: batch size, max length or modules where a space varies
    them; the time model reads those too)."""
    x, targets = _training_data(trials, features)
    return Predictor.fit(x, targets, seed=seed, time_extra=range(len(FEATURES), len(features)))


def predict_grid(
    predictor: Predictor, space: Space, trials: Sequence[TrialRecord]
) -> list[Prediction]:
    """Predictions for every config of the grid, best predicted accuracy first."""
    configs = space.configs()
    tried = {t.metrics.get("config_key") for t in trials if t.ok}
    out = predictor.predict(encode(configs, space.features()))
    acc, acc_sd = out["accuracy"]
    acc_sd = np.maximum(acc_sd, measurement_se(acc, _validation_size(trials)))
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


def _validation_size(trials: Sequence[TrialRecord]) -> int:
    """Examples behind a finished trial's validation accuracy (the full split, which is what
    verifying a config measures); 0 where no trial says."""
    return max((int(t.metrics.get("val_total") or 0) for t in trials if t.ok), default=0)


def measurement_se(p: np.ndarray, n: int) -> np.ndarray:
    """The binomial standard error of an accuracy measured on n examples (0 where n is 0).

    The floor of a prediction's std: however well the surrogate fits, the config's validation
    accuracy is itself measured with this noise. Without it, explored trials that all scored
    alike (every config at chance, say) gave a constant surrogate whose calibrated std was 0.
    p is kept half an example away from 0 and 1, where the binomial SE would vanish too.
    """
    if n <= 0:
        return np.zeros_like(p)
    q = np.clip(p, 0.5 / n, 1 - 0.5 / n)
    return np.sqrt(q * (1 - q) / n)


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
