"""The in-process executor: one resident base model, trials run one after another."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from loratune.executors.deadline import maybe_hang
from loratune.models import BaseModel
from loratune.space import Config
from loratune.tasks import Task
from loratune.trainer import TrialFailed, TrialResult, run_trial
from loratune.trainer.adapters import attached
from loratune.trainer.loop import EpochCallback, Evaluation, StepCallback, evaluate


@dataclass
class TrialHooks:
    on_step: StepCallback | None = None
    on_epoch: EpochCallback | None = None


class Executor(Protocol):
    device: str

    def run(
        self, config: Config, hooks: TrialHooks, save_adapter: Path | None = None
    ) -> TrialResult: ...

    def test(self, config: Config, adapter: Path) -> Evaluation:
        """The test split scored with a trial's saved adapter: read once, for the pick."""
        ...


# A throwaway trial on a few examples, before the first real one (see `warm_up`).
WARM_UP = Config(rank=8, alpha=16, learning_rate=1e-4, epochs=1)
WARM_UP_EXAMPLES = 16


def warm_up(base: BaseModel, task: Task) -> float:
    """Train and score WARM_UP on a few examples and throw it away; returns its seconds.

    A GPU spends the first steps of a process loading kernels, choosing algorithms and
    growing its allocator: on an H100 the first trial's first epoch took 10.3 s and its
    checks 3.8 s against 2.3 s and 0.4 s for the same config right after (benchmarks/
    DEVICE.md). Charged to the first trial, that made the time model, fitted on the first
    trials, learn it as the cost of that trial's rank (3.5 s an epoch predicted for rank 64
    against 2.1 s measured). Paid here, it counts with the model load, as it should.
    """
    n = WARM_UP_EXAMPLES
    small = replace(task, train=task.train[:n], validation=task.validation[:n], test=())
    start = time.perf_counter()
    # Best effort: if it fails, the first real trial pays the warm-up, as before.
    with contextlib.suppress(TrialFailed):
        run_trial(base, small, replace(WARM_UP, batch_size=min(WARM_UP.batch_size, n)))
    return time.perf_counter() - start


class LocalExecutor:
    """Trains each config for real on a base model loaded once."""

    def __init__(
        self,
        base: BaseModel,
        task: Task,
        price_per_hour: float = 0.0,
        evaluate_test: bool = False,
        warm: bool | None = None,
    ) -> None:
        """`warm`: run `warm_up` first; None: on an accelerator only (a CPU has no such
        first-use cost to speak of, and its recorded grids were timed without one)."""
        self.base = base
        self.task = task
        self.price_per_hour = price_per_hour
        self.evaluate_test = evaluate_test  # only a ground-truth grid reads the test split
        self.device = str(base.device)
        if warm is None:
            warm = base.device.type != "cpu"
        self.warm_up_seconds = warm_up(base, task) if warm else 0.0

    def run(
        self, config: Config, hooks: TrialHooks, save_adapter: Path | None = None
    ) -> TrialResult:
        maybe_hang()  # fault injection (tests, benchmarks/faults.py); a no-op unless asked
        return run_trial(
            self.base,
            self.task,
            config,
            price_per_hour=self.price_per_hour,
            on_step=hooks.on_step,
            on_epoch=hooks.on_epoch,
            evaluate_test=self.evaluate_test,
            save_adapter=save_adapter,
        )

    def test(self, config: Config, adapter: Path) -> Evaluation:
        with attached(self.base, adapter) as model:
            ev, _ = evaluate(
                model,
                self.base.tokenizer,
                self.task,
                self.task.test,
                self.base.device,
                self.base.autocast,
                config.max_length,
            )
        return ev
