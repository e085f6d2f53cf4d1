"""The in-process executor: one resident base model, trials run one after another."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from loratune.models import BaseModel
from loratune.space import Config
from loratune.tasks import Task
from loratune.trainer import TrialResult, run_trial
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


class LocalExecutor:
    """Trains each config for real on a base model loaded once."""

    def __init__(
        self,
        base: BaseModel,
        task: Task,
        price_per_hour: float = 0.0,
        evaluate_test: bool = False,
    ) -> None:
        self.base = base
        self.task = task
        self.price_per_hour = price_per_hour
        self.evaluate_test = evaluate_test  # only a ground-truth grid reads the test split
        self.device = str(base.device)

    def run(
        self, config: Config, hooks: TrialHooks, save_adapter: Path | None = None
    ) -> TrialResult:
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
