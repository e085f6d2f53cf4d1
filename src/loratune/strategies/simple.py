"""The two baselines every tuner must beat: the whole grid, and configs drawn at random."""

from __future__ import annotations

from collections.abc import Sequence

from loratune.errors import LoratuneError
from loratune.space import Config, config_key
from loratune.strategies.base import Answer, Observation, Strategy


class Exhaustive(Strategy):
    """Every config of the grid in grid order: finds the best for sure, at the whole cost."""

    name = "exhaustive"

    def budget(self) -> int | None:
        return len(self.configs)

    def _next(self, history: Sequence[Observation]) -> Answer:
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

    def budget(self) -> int | None:
        return self.n

    def _next(self, history: Sequence[Observation]) -> Answer:
        if len(history) + len(self.pending) >= self.n:
            return None
        taken = self._taken(history)
        return next((c for c in self._order if config_key(c) not in taken), None)
