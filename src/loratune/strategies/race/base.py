"""The ask/tell interface every strategy of the race speaks, and the pieces they share.

A strategy is asked for the next config given the history of finished trials, and may stop a
running trial through `on_epoch`. It reads nothing but that history and its seed (no I/O), so
a local loop, Ray, or a replay of recorded grids drives it the same way. One instance runs one
search at a time: `reset(space, seed)` starts a new one and drops the state of the last.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from loratune.space import Config, Space, config_key

if TYPE_CHECKING:  # the trainer imports torch; strategies only read its result records
    from loratune.trainer import TrialResult


class Observation(NamedTuple):
    """One finished trial: its config and what it measured (None when it failed)."""

    config: Config
    result: TrialResult | None

    @property
    def ok(self) -> bool:
        return self.result is not None

    @property
    def full(self) -> bool:
        """Trained every epoch, so `result.accuracy` is its whole validation split's score
        (not a stopped one's check-subset score)."""
        return self.result is not None and not self.result.stopped_early

    def val_at(self, epochs: int) -> float | None:
        """Validation accuracy after `epochs` epochs, or None if the trial did not get there."""
        if self.result is None or len(self.result.curve) < epochs:
            return None
        return float(self.result.curve[epochs - 1])


def tried_keys(history: Sequence[Observation]) -> set[str]:
    return {config_key(o.config) for o in history}


def epochs_spent(history: Sequence[Observation]) -> int:
    return sum(o.result.epochs_run for o in history if o.result is not None)


def best_full(history: Sequence[Observation]) -> float | None:
    """Best validation accuracy among trials trained to the end (what a strategy may read)."""
    values = [o.result.accuracy for o in history if o.full and o.result is not None]
    return max(values) if values else None


class Strategy(ABC):
    """Asks for configs of a discrete grid, one at a time, until it returns None.

    Subclasses implement `_start` (per-run state) and `_next` (the decision). `ask` keeps the
    history it was given, so `on_epoch`, called while the asked trial runs, can read it.
    """

    name = "strategy"

    def __init__(self) -> None:
        self.space: Space | None = None
        self.seed = 0
        self.configs: list[Config] = []
        self.history: Sequence[Observation] = ()

    def reset(self, space: Space, seed: int) -> None:
        """Start a new search over `space`; every decision after this depends only on the
        seed and the histories passed to `ask`."""
        self.space, self.seed = space, seed
        self.configs = space.configs()
        self.history = ()
        self._start()

    def ask(self, history: Sequence[Observation]) -> Config | None:
        """The next config to train, or None when the strategy is done."""
        if self.space is None:
            raise RuntimeError(f"{self.name}: call reset(space, seed) before ask()")
        self.history = history
        return self._next(history)

    def on_epoch(self, epoch: int, val_acc: float) -> bool:
        """Called after each epoch (0-based) of the running trial; False stops it there."""
        return True

    def _start(self) -> None:  # noqa: B027 - optional hook: most strategies keep no state
        """Set up per-run state; `self.space`, `self.seed` and `self.configs` are set."""

    @abstractmethod
    def _next(self, history: Sequence[Observation]) -> Config | None: ...

    def _rng(self, salt: int = 0) -> np.random.Generator:
        """A generator fixed by the seed, so reruns with the same seed decide the same."""
        return np.random.default_rng([self.seed, salt])

    def _untried(self, history: Sequence[Observation]) -> Iterator[Config]:
        tried = tried_keys(history)
        return (c for c in self.configs if config_key(c) not in tried)


def max_epochs(configs: Sequence[Config]) -> int:
    return max(c.epochs for c in configs)
