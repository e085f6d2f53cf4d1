"""Tuning that starts from a prior and stops on evidence.

1. Warm start: the first `portfolio` configs are the prior's greedy portfolio over the space
   (`prior.portfolio`: each next config the one that most lowers the mean over sources of
   the best-so-far shortfall).
2. Then each next config is the untried one of highest expected improvement over the
   incumbent (the best validation score of a trial trained to the end) under the target's
   model (`prior.surrogate`: a GP with the prior as its mean; trials stopped early censored).
3. Stop when no untried config has more than `p_stop` chance of beating the incumbent by more
   than the incumbent's validation standard error, or at `ceiling` trials. The reason, and
   after how many trials, is kept on the strategy (`stop_reason`) for the CLI and the report.

Decisions read validation scores only, as every strategy does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import norm

from loratune.errors import LoratuneError
from loratune.prior import Prior, portfolio, prior_features
from loratune.prior.surrogate import chance_to_beat, fit_censored
from loratune.space import Config, config_key
from loratune.strategies.base import WAIT, Answer, Observation, Strategy
from loratune.study.pruner import EarlyStop

DEFAULT_PORTFOLIO = 3
DEFAULT_CEILING = 6  # trials: 10% of a 60-config grid
# Chosen by docs/protocol.md's next-round rule on the four tuning grids (least compute among
# the candidates that met the goal: docs/transfer.md); 0.1 and 0.05 met it too, at more compute.
DEFAULT_P_STOP = 0.2


class WarmStart(Strategy):
    """Prior portfolio, then expected improvement under a prior-mean GP, stopped on evidence."""

    def __init__(
        self,
        prior: Prior,
        portfolio: int = DEFAULT_PORTFOLIO,
        ceiling: int = DEFAULT_CEILING,
        p_stop: float = DEFAULT_P_STOP,
        early_stop: EarlyStop | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__()
        if portfolio < 1 or ceiling < 1 or not 0 < p_stop < 1:
            raise LoratuneError("warm start needs portfolio >= 1, ceiling >= 1, 0 < p_stop < 1")
        self.prior, self.n_portfolio, self.ceiling = prior, portfolio, ceiling
        self.p_stop, self.early_stop = p_stop, early_stop
        self.name = name or f"warm-start-{portfolio}-{ceiling}-p{p_stop:g}"
        self.stop_reason = ""
        self.stopped_after = 0

    def budget(self) -> int | None:
        return self.ceiling

    def _start(self) -> None:
        shortfall = self.prior.shortfall(self.configs)  # (sources, configs), in points
        self._m = -shortfall.mean(axis=0) / 100.0
        self._s = shortfall.std(axis=0) / 100.0
        self._x = prior_features(self.configs)
        self._index = {config_key(c): i for i, c in enumerate(self.configs)}
        self._order = portfolio(shortfall, len(self.configs))  # the whole greedy order
        self.stop_reason, self.stopped_after = "", 0
        self.last_chance: float | None = None

    def phase(self, config: Config) -> str:
        """The warm start's trials are "prior"; the model's choices "search"."""
        i = self._index.get(config_key(config))
        return "prior" if i in self._order[: self.n_portfolio] else "search"

    def trial_attrs(self, config: Config) -> dict[str, float]:
        return {}

    def _stop(self, reason: str, history: Sequence[Observation]) -> None:
        if not self.stop_reason:
            self.stop_reason, self.stopped_after = reason, len(history)

    def _next(self, history: Sequence[Observation]) -> Answer:
        taken = self._taken(history)
        if len(history) + len(self.pending) >= self.ceiling:
            if not self.pending:
                self._stop(f"ceiling: {self.ceiling} trials", history)
            return None
        full = [o for o in history if o.full]
        planned = [self.configs[i] for i in self._order[: self.n_portfolio]]
        todo = next((c for c in planned if config_key(c) not in taken), None)
        if todo is not None:
            return todo
        if not full:  # nothing scored yet: wait, or go on down the prior's order
            if self.pending:
                return WAIT
            return next(
                (self.configs[i] for i in self._order if config_key(self.configs[i]) not in taken),
                None,
            )
        untried = [i for i, c in enumerate(self.configs) if config_key(c) not in taken]
        if not untried:
            self._stop("every config tried", history)
            return None
        chance, ei = self._score(history, untried)
        self.last_chance = float(chance.max())
        if self.last_chance < self.p_stop:
            if self.pending:
                return WAIT  # a running trial may still change the picture
            self._stop(
                f"evidence: no untried config has more than {self.p_stop:.0%} chance to beat "
                f"the incumbent by one validation SE (best chance {self.last_chance:.1%})",
                history,
            )
            return None
        best = max(range(len(untried)), key=lambda j: (ei[j], chance[j], -untried[j]))
        return self.configs[untried[best]]

    def _score(
        self, history: Sequence[Observation], untried: list[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each untried config's chance to beat the incumbent by one SE, and its EI."""
        scored = [o for o in history if o.result is not None]
        best = max((o for o in scored if o.full), key=lambda o: o.result.accuracy)  # type: ignore[union-attr]
        incumbent = float(best.result.accuracy)  # type: ignore[union-attr]
        n_val = max(int(best.result.val_total), 1)  # type: ignore[union-attr]
        idx = np.array([self._index[config_key(o.config)] for o in scored])
        y = np.array([float(o.result.accuracy) for o in scored])  # type: ignore[union-attr]
        p = np.clip(y, 0.5 / n_val, 1 - 0.5 / n_val)
        noise = np.sqrt(p * (1 - p) / n_val)
        censored = [not o.full for o in scored]
        model = fit_censored(
            self._x[idx], y, noise, censored, incumbent, self._m[idx], self._s[idx]
        )
        u = np.array(untried)
        post = model.predict(self._x[u], self._m[u], self._s[u])
        se = math.sqrt(max(incumbent * (1 - incumbent), 0.25 / n_val) / n_val)
        chance = chance_to_beat(post, incumbent, se)
        z = (post.mean - incumbent) / post.std
        ei = post.std * (z * norm.cdf(z) + norm.pdf(z))
        return chance, ei

    def on_epoch(self, config: Config, epoch: int, val_acc: float) -> bool:
        if self.early_stop is None:
            return True
        seen = [v for o in self.history if (v := o.val_at(1)) is not None]
        return self.early_stop.first_epoch_gate(seen).keep_going(epoch, val_acc)
