"""The ask/tell interface every strategy speaks, and the pieces they share.

A strategy is asked for the next config given the history of finished trials and the configs
still running (pending), and may stop a running trial through `on_epoch`. It answers a config,
`WAIT` (it needs a pending trial's result first) or None (nothing more to ask). It reads
nothing but that history and its seed (no I/O), so the one loop (`strategies.loop`) drives it
the same way in process, on Ray, or on a replay of recorded grids with simulated workers. One
instance runs one search at a time: `reset(space, seed)` starts a new one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Final, NamedTuple

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


class Wait:
    """The answer of a strategy that needs a pending trial's result before it can ask."""

    def __repr__(self) -> str:
        return "WAIT"


WAIT: Final = Wait()
Answer = Config | Wait | None


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
    history and the pending configs it was given; the loop refreshes the history (`tell`) as
    results arrive, so `on_epoch`, called while trials run, reads every finished trial.
    A config in `pending` is never proposed again while it runs.
    """

    name = "strategy"

    def __init__(self) -> None:
        self.space: Space | None = None
        self.seed = 0
        self.configs: list[Config] = []
        self.history: Sequence[Observation] = ()
        self.pending: tuple[Config, ...] = ()

    def reset(self, space: Space, seed: int) -> None:
        """Start a new search over `space`; every decision after this depends only on the
        seed and the histories passed to `ask`."""
        self.space, self.seed = space, seed
        self.configs = space.configs()
        self.history = ()
        self.pending = ()
        self._start()

    def ask(self, history: Sequence[Observation], pending: Sequence[Config] = ()) -> Answer:
        """The next config to train; WAIT until a pending trial finishes; None when done."""
        if self.space is None:
            raise RuntimeError(f"{self.name}: call reset(space, seed) before ask()")
        self.history, self.pending = history, tuple(pending)
        return self._next(history)

    def tell(self, history: Sequence[Observation]) -> None:
        """The history as it stands after a result arrived (read by `on_epoch`)."""
        self.history = history

    def on_epoch(self, config: Config, epoch: int, val_acc: float) -> bool:
        """Called after each epoch (0-based) of a running trial; False stops it there."""
        return True

    def budget(self) -> int | None:
        """How many trials the strategy plans, where it knows (for progress bars)."""
        return None

    def _start(self) -> None:  # noqa: B027 - optional hook: most strategies keep no state
        """Set up per-run state; `self.space`, `self.seed` and `self.configs` are set."""

    @abstractmethod
    def _next(self, history: Sequence[Observation]) -> Answer: ...

    def _rng(self, salt: int = 0) -> np.random.Generator:
        """A generator fixed by the seed, so reruns with the same seed decide the same."""
        return np.random.default_rng([self.seed, salt])

    def _taken(self, history: Sequence[Observation]) -> set[str]:
        """Keys of configs tried or running now: none of them is proposed."""
        return tried_keys(history) | {config_key(c) for c in self.pending}

    def _untried(self, history: Sequence[Observation]) -> Iterator[Config]:
        taken = self._taken(history)
        return (c for c in self.configs if config_key(c) not in taken)


class Listed(Strategy):
    """The given configs in order, each once (a sweep): tried or running ones are skipped."""

    name = "listed"

    def __init__(self, configs: Sequence[Config]) -> None:
        super().__init__()
        self.listed = list(configs)

    def budget(self) -> int | None:
        return len(self.listed)

    def _next(self, history: Sequence[Observation]) -> Answer:
        taken = self._taken(history)
        return next((c for c in self.listed if config_key(c) not in taken), None)


def max_epochs(configs: Sequence[Config]) -> int:
    return max(c.epochs for c in configs)
