"""The in-process backend: one trial at a time on a blocking executor (the default).

`wait` runs the oldest submitted trial to its end in this process, calling the loop's epoch
hook after each epoch, so one worker behaves exactly as the old one-config-after-another
loop did. Any blocking executor fits: `LocalExecutor` (real training) or `ReplayExecutor`.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from loratune.executors.base import EpochHook, Finished, Submission
from loratune.executors.local import Executor, TrialHooks
from loratune.space import Config
from loratune.trainer.loop import StepCallback

if TYPE_CHECKING:
    from loratune.trainer.loop import Evaluation


class InProcessBackend:
    workers = 1

    def __init__(self, executor: Executor, on_step: StepCallback | None = None) -> None:
        self.executor = executor
        self.on_step = on_step
        self._queue: deque[Submission] = deque()

    def submit(self, job: Submission) -> None:
        self._queue.append(job)

    def wait(self, on_epoch: EpochHook) -> list[Finished]:
        from loratune.trainer import TrialFailed

        job = self._queue.popleft()

        def hook(epoch: int, acc: float) -> bool:
            return on_epoch(job.ticket, epoch, acc)

        hooks = TrialHooks(on_step=self.on_step, on_epoch=hook)
        try:
            result = self.executor.run(job.config, hooks, save_adapter=job.save_adapter)
        except TrialFailed as exc:
            return [Finished(job.ticket, None, str(exc))]
        return [Finished(job.ticket, result)]

    def test(self, config: Config, adapter: Path) -> Evaluation:
        return self.executor.test(config, adapter)

    def close(self) -> None:
        self._queue.clear()
