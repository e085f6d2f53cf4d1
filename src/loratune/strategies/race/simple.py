"""The two baselines every tuner must beat: the whole grid, and configs drawn at random."""

from __future__ import annotations

from collections.abc import Sequence

from loratune.errors import LoratuneError
from loratune.space import Config, config_key
from loratune.strategies.race.base import Observation, Strategy, tried_keys


class Exhaustive(Strategy):
    """Every config of the grid in grid order: finds the best for sure, at the whole cost."""

    name = "exhaustive"

    def _next(self, history: Sequence[Observation]) -> Config | None:
        return next(self._untried(history), None)


class RandomSearch(Strategy):
    """`n` distinct configs drawn uniformly without replacement (the order is fixed by the seed)."""

    name = "random"

    def __init__(self, n: int) -> None:
        super().__init__()
        if n < 1:
            raise LoratuneError(f"random search needs n >= 1, got {n}")
        self.n = n
        self._order: list[Config] = []

    def _start(self) -> None:
        perm = self._rng().permutation(len(self.configs))
        self._order = [self.configs[i] for i in perm]

    def _next(self, history: Sequence[Observation]) -> Config | None:
        if len(history) >= self.n:
            return None
        tried = tried_keys(history)
        return next((c for c in self._order if config_key(c) not in tried), None)
