"""The in-process executor: one resident base model, trials run one after another."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from loratune.models import BaseModel
from loratune.space import Config
from loratune.tasks import Task
from loratune.trainer import TrialResult, run_trial
from loratune.trainer.loop import EpochCallback, StepCallback


@dataclass
class TrialHooks:
    on_step: StepCallback | None = None
    on_epoch: EpochCallback | None = None


class Executor(Protocol):
    device: str

    def run(self, config: Config, hooks: TrialHooks) -> TrialResult: ...


class LocalExecutor:
    """Trains each config for real on a base model loaded once."""

    def __init__(self, base: BaseModel, task: Task, price_per_hour: float = 0.0) -> None:
        self.base = base
        self.task = task
        self.price_per_hour = price_per_hour
        self.device = str(base.device)

    def run(self, config: Config, hooks: TrialHooks) -> TrialResult:
        return run_trial(
            self.base,
            self.task,
            config,
            price_per_hour=self.price_per_hour,
            on_step=hooks.on_step,
            on_epoch=hooks.on_epoch,
        )
