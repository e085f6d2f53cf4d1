"""Strategies that spend epochs, not whole trials: Hyperband and asynchronous successive halving.

The resource is the training epoch; a config's validation accuracy after epoch r stands in
for its final accuracy when deciding whether to spend more on it. Both stop weak configs after
epoch 1 using the recorded learning curve (`on_epoch`).

ASHA's decision is Optuna's `SuccessiveHalvingPruner`. Hyperband stays written here: Optuna's
`HyperbandPruner` only prunes (each trial is routed to one bracket of stopping-only successive
halving and runs on from epoch 0), while this Hyperband runs synchronous rungs that wait for
all their results and retrains the promoted configs from scratch for the next rung's epochs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import optuna

from loratune.errors import LoratuneError
from loratune.space import Config, config_key
from loratune.strategies.base import (
    WAIT,
    Answer,
    Observation,
    Strategy,
    epochs_spent,
    max_epochs,
)


@dataclass(frozen=True)
class Rung:
    size: int  # configs trained in this rung
    epochs: int  # epochs each of them trains


def hyperband_brackets(max_epochs: int, eta: int) -> list[list[Rung]]:
    """Li et al. (2018): bracket s starts n = ceil((s_max + 1) / (s + 1) * eta^s) configs at
    R * eta^-s epochs and keeps the best 1/eta at each rung up to R epochs.

    With R = 3 and eta = 3: [[3 at 1 epoch, 1 at 3]] and [[2 at 3 epochs]].
    """
    s_max = int(math.floor(math.log(max_epochs) / math.log(eta) + 1e-9))
    brackets = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) / (s + 1) * eta**s)
        rungs = [
            Rung(max(1, n // eta**i), max(1, round(max_epochs * eta ** (i - s))))
            for i in range(s + 1)
        ]
        rungs[-1] = Rung(rungs[-1].size, max_epochs)
        brackets.append(rungs)
    return brackets


def _cost(rungs: Sequence[Rung]) -> int:
    return sum(r.size * r.epochs for r in rungs)


def _affordable(budget_epochs: int | None, epochs_after: int) -> bool:
    return budget_epochs is None or epochs_after <= budget_epochs


class Hyperband(Strategy):
    """Hyperband over epochs: brackets of synchronous successive halving, cycled.

    Fresh configs are drawn without replacement in an order fixed by the seed. A promoted
    config is trained again from scratch for the next rung's epochs: neither executor keeps
    checkpoints, so that is what promotion costs. The search stops when the next bracket would
    exceed `budget_epochs` (None: when the grid has no fresh config left). With several
    workers the rung's jobs run at once and the next rung waits for all of them.
    """

    name = "hyperband"

    def __init__(self, eta: int = 3, budget_epochs: int | None = None) -> None:
        super().__init__()
        if eta < 2:
            raise LoratuneError(f"hyperband needs eta >= 2, got {eta}")
        self.eta, self.budget_epochs = eta, budget_epochs

    def _start(self) -> None:
        perm = self._rng().permutation(len(self.configs))
        self._fresh = [self.configs[i] for i in perm]
        self._brackets = hyperband_brackets(max_epochs(self.configs), self.eta)
        self._bracket_no = 0
        self._rungs: list[Rung] = []
        self._rung = 0
        self._jobs: list[Config] = []
        self._pos = 0
        self._epochs: dict[str, int] = {}  # epochs each running trial may train

    def on_epoch(self, config: Config, epoch: int, val_acc: float) -> bool:
        return epoch + 1 < self._epochs.get(config_key(config), config.epochs)

    def _next(self, history: Sequence[Observation]) -> Answer:
        if self._pos < len(self._jobs):
            return self._job()
        if self.pending:
            return WAIT  # the rung is decided on all its results
        if self._rung + 1 < len(self._rungs) and self._promote(history):
            return self._job()
        return self._job() if self._new_bracket(history) else None

    def _job(self) -> Config:
        config = self._jobs[self._pos]
        self._epochs[config_key(config)] = self._rungs[self._rung].epochs
        self._pos += 1
        return config

    def _promote(self, history: Sequence[Observation]) -> bool:
        """The best of the finished rung, by validation accuracy at the rung's epochs."""
        epochs = self._rungs[self._rung].epochs
        last = {config_key(o.config): o for o in history}  # each job's latest run
        done = [last[config_key(c)] for c in self._jobs]
        scored = [(o.val_at(epochs), i) for i, o in enumerate(done)]
        ranked = sorted(((v, i) for v, i in scored if v is not None), key=lambda t: (-t[0], t[1]))
        self._rung += 1
        # At least one survivor, also when a bracket shrank for lack of fresh configs.
        keep = max(1, min(self._rungs[self._rung].size, len(done) // self.eta))
        self._jobs = [done[i].config for _, i in ranked[:keep]]
        self._pos = 0
        return bool(self._jobs)

    def _new_bracket(self, history: Sequence[Observation]) -> bool:
        rungs = self._brackets[self._bracket_no % len(self._brackets)]
        if not _affordable(self.budget_epochs, epochs_spent(history) + _cost(rungs)):
            return False
        taken = self._taken(history)
        fresh = [c for c in self._fresh if config_key(c) not in taken][: rungs[0].size]
        if not fresh:
            return False
        self._bracket_no += 1
        self._rungs, self._rung = rungs, 0
        self._jobs, self._pos = fresh, 0
        return True


class SuccessiveHalving(Strategy):
    """Asynchronous successive halving (ASHA, Li et al. 2020), stopping variant, decided by
    Optuna's `SuccessiveHalvingPruner`.

    Configs are tried in an order fixed by the seed. Each search owns an in-memory Optuna study
    with the pruner (min_resource 1 epoch, reduction_factor eta, no bootstrap): a running trial
    reports its validation accuracy after each epoch (step = epochs trained) and is stopped when
    the pruner says so. At each rung (epochs 1, eta, eta^2, ... below the last epoch) a trial
    goes on only if its value is within the top 1/eta of every value recorded at that rung so
    far, itself included; with fewer than eta values it must be the best. A value counts from
    the moment its trial reaches the rung, also while that trial still runs (ASHA as
    published); finished trials this search did not run (another process on a shared study)
    are replayed into the study when they first appear. The search stops at `budget_epochs`
    (a new trial starts only if it could train to the end) or when the grid is exhausted.
    """

    name = "asha"

    def __init__(self, eta: int = 3, budget_epochs: int | None = None) -> None:
        super().__init__()
        if eta < 2:
            raise LoratuneError(f"successive halving needs eta >= 2, got {eta}")
        self.eta, self.budget_epochs = eta, budget_epochs

    def _start(self) -> None:
        perm = self._rng().permutation(len(self.configs))
        self._order = [self.configs[i] for i in perm]
        self._max = max_epochs(self.configs)
        self._study = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.RandomSampler(seed=self.seed),  # never asked: no params
            pruner=optuna.pruners.SuccessiveHalvingPruner(
                min_resource=1, reduction_factor=self.eta, min_early_stopping_rate=0
            ),
        )
        self._running: dict[str, optuna.trial.Trial] = {}  # by config key, until finished
        self._seen: set[str] = set()  # keys the study knows

    def _next(self, history: Sequence[Observation]) -> Answer:
        # A running trial may still spend its every epoch: count it so.
        spent = epochs_spent(history) + self._max * (len(self.pending) + 1)
        if not _affordable(self.budget_epochs, spent):
            return None
        taken = self._taken(history)
        return next((c for c in self._order if config_key(c) not in taken), None)

    def on_epoch(self, config: Config, epoch: int, val_acc: float) -> bool:
        self._sync(self.history)
        key = config_key(config)
        if key not in self._running:
            self._running[key] = self._study.ask()
            self._seen.add(key)
        return not self._report(self._running[key], epoch + 1, val_acc)

    def _report(self, trial: optuna.trial.Trial, epochs: int, val_acc: float) -> bool:
        """Report one epoch's value; True when the pruner stops the trial at this rung. The
        last epoch is no rung: the trial has nothing left to stop."""
        trial.report(val_acc, step=epochs)
        return epochs < self._max and trial.should_prune()

    def _sync(self, history: Sequence[Observation]) -> None:
        """Close the study's trials that finished; replay finished ones it never saw."""
        for obs in history:
            key = config_key(obs.config)
            trial = self._running.pop(key, None)
            if trial is None and key not in self._seen and obs.result is not None:
                trial = self._study.ask()
                for e, value in enumerate(obs.result.curve):
                    self._report(trial, e + 1, float(value))  # records every rung it reached
            self._seen.add(key)
            if trial is None:
                continue
            if obs.result is None:
                self._study.tell(trial, state=optuna.trial.TrialState.FAIL)
            elif obs.result.stopped_early:
                self._study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                self._study.tell(trial, obs.result.accuracy)
