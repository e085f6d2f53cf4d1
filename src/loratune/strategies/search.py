"""loratune's own strategy in the race: explore a Sobol design, fit the predictor, verify the
top predicted. Variants: the user document's recipe (16 explored, top 5 verified), early
stopping on the learning curve, and transfer from the recorded grids of other domains.

The decisions are those of `loratune.autotune` (`sobol_design`, `fit_predictor`,
`predict_grid`, `pick_verify`), replayed through ask/tell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from loratune.errors import LoratuneError
from loratune.predictor import (
    TIME_TARGETS,
    GPSurrogate,
    Predictor,
    Surrogate,
    TimeSurrogate,
    default_candidates,
    select_surrogate,
)
from loratune.space import Config, config_key
from loratune.strategies.autotune import (
    EarlyStop,
    Prediction,
    VerifyRule,
    _training_data,
    fit_predictor,
    pick_verify,
    predict_grid,
)
from loratune.strategies.base import WAIT, Answer, Observation, Strategy
from loratune.strategies.design import sobol_design
from loratune.strategies.stopping import CurveStop
from loratune.study import TrialRecord

# Fits the predictor's surrogates on encoded configs and targets, as `Predictor.fit` does.
SurrogateFit = Callable[[np.ndarray, dict[str, np.ndarray], int], Predictor]


def quick_fit(x: np.ndarray, targets: dict[str, np.ndarray], seed: int = 0) -> Predictor:
    """loratune's predictor, fitted cheaply enough to replay hundreds of autotune runs.

    Accuracy gets the same candidates, the same cross-validated choice and the same std
    calibration as `Predictor.fit`, but the GP's hyperparameters are optimised from one start
    instead of three (restarts 0): most of the cost, rarely a different model. Time and cost
    get the product's own physical time model (`TimeSurrogate`), so the race checks the model
    users get.
    """
    surrogates: dict[str, Surrogate] = {}
    scores: dict[str, dict[str, float]] = {}
    for name, y in targets.items():
        if name in TIME_TARGETS:
            surrogates[name], scores[name] = TimeSurrogate().fit(x, y), {}
            continue
        cands = [
            GPSurrogate(seed=seed, restarts=0) if isinstance(c, GPSurrogate) else c
            for c in default_candidates(seed)
        ]
        surrogates[name], scores[name] = select_surrogate(x, y, cands, seed=seed)
    return Predictor(surrogates, scores)


def to_records(history: Sequence[Observation]) -> list[TrialRecord]:
    """History as the study's records, which the predictor's fitting functions read.

    A trial stopped early enters with its last validation accuracy: the only evidence there
    is, and it was stopped because it looked clearly worse. `epochs_run` lets the predictor
    scale its cost to the full number of epochs (`_training_data`).
    """
    out = []
    for i, o in enumerate(history):
        r = o.result
        metrics: dict[str, Any] = {"config_key": config_key(o.config)}
        if r is not None:
            metrics |= {
                "latency": r.latency,
                "cost": r.cost,
                "epochs_run": r.epochs_run,
                "stopped_early": r.epochs_run < o.config.epochs,
            }
        out.append(
            TrialRecord(
                number=i,
                config=o.config,
                state="complete" if r is not None else "failed",
                accuracy=r.accuracy if r is not None else None,
                curve=tuple(r.curve) if r is not None else (),
                metrics=metrics,
                attrs={},
            )
        )
    return out


class Autotune(Strategy):
    """Explore `explore` configs of a Sobol design, fit the predictor on them, verify the
    `verify` best predicted (`rule`: top-k or ei), as `loratune.autotune` does.

    With `early_stop`, any trial (explored or verified) is stopped after epoch 1 by that rule
    (`EarlyStop`), or at a later epoch by a rule that reads more of the curve (`CurveStop`).
    If fewer than two explored trials succeed, random untried configs are explored until two
    have, since the predictor needs two. `fit` replaces `Predictor.fit` (e.g. `quick_fit`);
    None fits exactly as `loratune.autotune` does (`fit_predictor`).
    """

    def __init__(
        self,
        explore: int = 12,
        verify: int = 5,
        rule: VerifyRule = "top-k",
        early_stop: EarlyStop | CurveStop | None = None,
        name: str | None = None,
        fit: SurrogateFit | None = None,
    ) -> None:
        super().__init__()
        if explore < 2 or verify < 1:
            raise LoratuneError("autotune needs explore >= 2 and verify >= 1")
        self.explore, self.verify, self.rule, self.early_stop = explore, verify, rule, early_stop
        self.fit = fit
        self.name = name or f"autotune-{explore}+{verify}"
        self._picks: list[Config] | None = None
        # What the predictor said of the whole grid after exploring (for the race's report).
        self.predictions: list[Prediction] | None = None
        self._picked: dict[str, Prediction] = {}
        self.predictor: Predictor | None = None  # fitted after exploring
        self._extra: set[str] = set()  # explored beyond the plan (too few explored succeeded)
        self._curves: dict[str, list[float]] = {}  # running trials' check accuracies so far

    def budget(self) -> int | None:
        return self.explore + self.verify

    def _start(self) -> None:
        assert self.space is not None
        n = min(self.explore, len(self.configs))
        self._plan = [self.configs[i] for i in sobol_design(self.space, n, self.seed)]
        self._plan_keys = {config_key(c) for c in self._plan}
        self._picks = None
        self.predictions = None
        self._picked, self._extra, self._curves = {}, set(), {}
        self.predictor = None

    def explore_keys(self) -> set[str]:
        return self._plan_keys | self._extra

    def verify_keys(self) -> set[str]:
        return set(self._picked)

    def phase(self, config: Config) -> str:
        """Which step asked for `config`: "explore" or "verify"."""
        return "verify" if config_key(config) in self._picked else "explore"

    def trial_attrs(self, config: Config) -> dict[str, float]:
        """Stored on the trial: a verified config's prediction, so validation reads it later."""
        pick = self._picked.get(config_key(config))
        return pick.attrs() if pick is not None else {}

    def _next(self, history: Sequence[Observation]) -> Answer:
        taken = self._taken(history)
        todo = next((c for c in self._plan if config_key(c) not in taken), None)
        if todo is not None:
            return todo
        if self._picks is None:
            pending = {config_key(c) for c in self.pending}
            if pending & (self._plan_keys | self._extra):
                return WAIT  # the predictor is fitted on every explored trial
            records = to_records(self._explored(history))
            if sum(r.ok for r in records) < 2:
                return self._explore_more(history)
            self._picks = self._pick(records)
        return next((c for c in self._picks if config_key(c) not in taken), None)

    def _explored(self, history: Sequence[Observation]) -> list[Observation]:
        """The trials the predictor is fitted on: the explore phase's (on a resumed or shared
        study, the history also holds verified trials, which it must not see)."""
        keys = self.explore_keys()
        return [o for o in history if config_key(o.config) in keys]

    def _explore_more(self, history: Sequence[Observation]) -> Config | None:
        untried = list(self._untried(history))
        if not untried:
            return None
        config = untried[int(self._rng(len(history)).integers(len(untried)))]
        self._extra.add(config_key(config))
        return config

    def _pick(self, records: list[TrialRecord]) -> list[Config]:
        assert self.space is not None
        self.predictor = self._fit(records)
        predictions = predict_grid(self.predictor, self.space, records)
        self.predictions = predictions
        best_seen = max((r.accuracy or 0.0 for r in records if r.full), default=0.0)
        picks = pick_verify(predictions, self.verify, best_seen, self.rule)
        self._picked = {config_key(p.config): p for p in picks}
        return [p.config for p in picks]

    def _fit(self, records: list[TrialRecord]) -> Predictor:
        assert self.space is not None
        features = self.space.features()
        if self.fit is None:
            return fit_predictor(records, seed=self.seed, features=features)
        return self.fit(*_training_data(records, features), self.seed)

    def on_epoch(self, config: Config, epoch: int, val_acc: float) -> bool:
        if self.early_stop is None:
            return True
        if isinstance(self.early_stop, CurveStop):
            curve = self._curves.setdefault(config_key(config), [])
            if epoch == 0:
                curve.clear()  # a config trained again starts a new curve
            curve.append(val_acc)
            at = self.early_stop.at
            seen = [v for o in self.history if (v := o.val_at(at)) is not None]
            return self.early_stop.keep_going(curve, seen, config.epochs)
        # The rule of the study's pruner (`study.pruner`), from this run's history.
        seen = [v for o in self.history if (v := o.val_at(1)) is not None]
        return self.early_stop.first_epoch_gate(seen).keep_going(epoch, val_acc)


class _TargetPredictor(Predictor):
    """A predictor fitted with domain columns, answering for the target domain: it appends the
    target's one-hot columns to every X it is asked about."""

    def __init__(self, fitted: Predictor, target_columns: np.ndarray) -> None:
        super().__init__(fitted.surrogates, fitted.cv_scores)
        self._target = target_columns

    def predict(self, x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        x = np.asarray(x, dtype=float)
        return super().predict(np.hstack([x, np.tile(self._target, (len(x), 1))]))


GridRows = Mapping[str, Mapping[str, Any]] | Sequence[Mapping[str, Any]]


def grid_rows(rows: GridRows) -> list[Mapping[str, Any]]:
    """The rows of a grid given either as `load_grid`'s mapping or as a list."""
    return list(rows.values()) if isinstance(rows, Mapping) else list(rows)


def _grid_domain(rows: Sequence[Mapping[str, Any]]) -> str | None:
    return next((str(r["domain"]) for r in rows if r.get("domain")), None)


def _prior_records(rows: Sequence[Mapping[str, Any]]) -> list[TrialRecord]:
    out = []
    for i, row in enumerate(rows):
        if row.get("status") != "complete" or row.get("accuracy") is None:
            continue
        config = Config.from_dict(row["config"])
        metrics = {
            "config_key": config_key(config),
            "latency": float(row.get("latency") or 0.0),
            "cost": float(row.get("cost") or 0.0),
        }
        out.append(
            TrialRecord(i, config, "complete", float(row["accuracy"]), (), metrics, attrs={})
        )
    return out


class AutotuneTransfer(Autotune):
    """Autotune warm-started with the trials of other recorded grids, so it explores less.

    `sources` maps a label (e.g. "smollm2-135m/legal") to a grid's rows. Every grid whose rows
    are of `target_domain` is left out: the target's own answers must never leak in. The
    predictor is fitted on the pooled trials with one one-hot column per domain (the sources
    and the target), so it can learn how much domains share and how far their levels differ;
    grid predictions are made for the target's column. At most `max_prior` source trials are
    used (a seeded subset), to keep the fit fast.
    """

    def __init__(
        self,
        sources: Mapping[str, GridRows],
        target_domain: str,
        explore: int = 6,
        verify: int = 5,
        rule: VerifyRule = "top-k",
        max_prior: int = 120,
        name: str | None = None,
        fit: SurrogateFit | None = None,
    ) -> None:
        name = name or f"autotune-transfer-{explore}+{verify}"
        super().__init__(explore, verify, rule, name=name, fit=fit)
        kept = {
            label: grid_rows(rows)
            for label, rows in sources.items()
            if _grid_domain(grid_rows(rows)) != target_domain
        }
        records = {label: _prior_records(rows) for label, rows in kept.items()}
        self.sources = {label: recs for label, recs in records.items() if recs}
        if not self.sources:
            raise LoratuneError(
                f"transfer needs a recorded grid of another domain than {target_domain!r}"
            )
        self.target_domain, self.max_prior = target_domain, max_prior

    def _fit(self, records: list[TrialRecord]) -> Predictor:
        labels = sorted(self.sources)
        prior = [(r, labels.index(label)) for label in labels for r in self.sources[label]]
        if len(prior) > self.max_prior:
            keep = sorted(self._rng(1).choice(len(prior), self.max_prior, replace=False))
            prior = [prior[i] for i in keep]
        pooled = [r for r, _ in prior] + [r for r in records if r.ok]
        domain = [d for _, d in prior] + [len(labels)] * sum(r.ok for r in records)
        assert self.space is not None
        x, targets = _training_data(pooled, self.space.features())
        onehot = np.eye(len(labels) + 1)[domain]
        fit = self.fit or Predictor.fit
        fitted = fit(np.hstack([x, onehot]), targets, self.seed)
        return _TargetPredictor(fitted, np.eye(len(labels) + 1)[len(labels)])
