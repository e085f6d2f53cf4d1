"""Optuna's TPE and GP samplers as rivals, driven through Optuna's own ask/tell interface.

Each run owns an in-memory study whose parameters are categorical over the grid's values, as
a user of Optuna would set it up. The samplers do not know the grid is finite and may propose
a config already trained: as Optuna's maintainers suggest (optuna/optuna#2021), the study is
told the recorded value without training again, and the sampler is asked anew. After three
repeats in a row a random untried config is enqueued, so a search always moves on.

With several workers, the trials still running stay RUNNING in the sampler's study: TPE is
built with `constant_liar=True` (Optuna's answer for parallel workers: a running trial counts
as a bad result, so the next proposal looks elsewhere); a proposal of a running config is told
as failed and counts as a repeat. With one worker nothing is running when it asks, so the
liar never speaks and the proposals are those of the plain sampler.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import optuna

from loratune.errors import LoratuneError
from loratune.prior import Prior, portfolio
from loratune.space import Config, config_key
from loratune.strategies.base import Answer, Observation, Strategy
from loratune.study import config_of, distributions, params_of

SamplerKind = Literal["tpe", "gp"]
# Proposals of already-trained configs tolerated in a row before a random untried one is forced:
# a sampler that keeps proposing known configs believes they are best, and each GP proposal
# refits the GP, so a long wait buys nothing but time.
MAX_REPEATS = 3

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _sampler(kind: SamplerKind, seed: int) -> optuna.samplers.BaseSampler:
    """Optuna's defaults (10 random start-up trials, then the model), seeded."""
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if kind == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    raise LoratuneError(f"unknown Optuna sampler {kind!r}: use tpe or gp")


class OptunaSearch(Strategy):
    """`n` distinct configs chosen by an Optuna sampler (`tpe` or `gp`)."""

    def __init__(
        self, kind: SamplerKind, n: int, warm: Prior | None = None, n_warm: int = 0
    ) -> None:
        super().__init__()
        if n < 1:
            raise LoratuneError(f"an Optuna search needs n >= 1, got {n}")
        _sampler(kind, 0)  # unknown kinds fail here, not in the middle of a race
        self.kind, self.n = kind, n
        # Warm-started: the prior's portfolio is enqueued first (Optuna's `enqueue_trial`),
        # as a user would hand Optuna the configs known to be good.
        self.warm, self.n_warm = warm, n_warm if warm is not None else 0
        self.name = f"optuna-{kind}" + ("-warm" if self.n_warm else "")
        self._asked: dict[str, optuna.trial.Trial] = {}  # by config key, until told

    def _start(self) -> None:
        assert self.space is not None
        self._study = optuna.create_study(
            direction="maximize", sampler=_sampler(self.kind, self.seed)
        )
        self._dists = distributions(self.space)
        self._asked = {}
        if self.warm is not None and self.n_warm:
            for i in portfolio(self.warm.shortfall(self.configs), self.n_warm):
                self._study.enqueue_trial(params_of(self.space, self.configs[i]))

    def budget(self) -> int | None:
        return self.n

    def _next(self, history: Sequence[Observation]) -> Answer:
        self._tell_finished(history)
        if len(history) + len(self.pending) >= self.n:
            return None
        known = {config_key(o.config): o for o in history}
        running = {config_key(c) for c in self.pending}
        if len(known) + len(running - set(known)) >= len(self.configs):
            return None
        for _ in range(MAX_REPEATS):
            trial = self._study.ask(self._dists)
            config = self._config(trial.params)
            key = config_key(config)
            if key in running:  # running elsewhere: no value to tell yet
                self._study.tell(trial, state=optuna.trial.TrialState.FAIL)
            elif key not in known:
                self._asked[key] = trial
                return config
            else:
                self._tell(trial, known[key])  # answered from the record: nothing is trained
        return self._forced(known, running)

    def _config(self, params: dict[str, object]) -> Config:
        assert self.space is not None
        return config_of(self.space, params)

    def _forced(self, known: dict[str, Observation], running: set[str]) -> Config:
        """A random untried config, enqueued so the study records it like any other trial."""
        assert self.space is not None
        untried = [
            c for c in self.configs if config_key(c) not in known and config_key(c) not in running
        ]
        config = untried[int(self._rng(len(known)).integers(len(untried)))]
        self._study.enqueue_trial(params_of(self.space, config))
        trial = self._study.ask(self._dists)
        self._asked[config_key(config)] = trial
        return config

    def _tell_finished(self, history: Sequence[Observation]) -> None:
        """Tell the sampler's study every asked trial whose result is in the history."""
        if not self._asked:
            return
        running = {config_key(c) for c in self.pending}
        last = {config_key(o.config): o for o in history}
        for key in [k for k in self._asked if k not in running]:
            if key not in last:
                raise LoratuneError(f"{self.name}: asked for {key} but the history lacks it")
            self._tell(self._asked.pop(key), last[key])

    def _tell(self, trial: optuna.trial.Trial, obs: Observation) -> None:
        if obs.full and obs.result is not None:
            self._study.tell(trial, obs.result.accuracy)
        else:  # failed: samplers ignore failed trials
            self._study.tell(trial, state=optuna.trial.TrialState.FAIL)
