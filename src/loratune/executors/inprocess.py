"""The in-process backend: one trial at a time on a blocking executor (the default).

`wait` runs the oldest submitted trial to its end in this process, calling the loop's epoch
hook after each epoch, so one worker behaves exactly as the old one-config-after-another
loop did. Any blocking executor fits: `LocalExecutor` (real training) or `ReplayExecutor`.

A trial has a deadline (`executors.deadline`). Past it, the next training step fails the
trial with that reason, and it is retried once here. A trial that does not come back to a
training step at all (hung inside one call) cannot be stopped from inside the process: a
watchdog then ends the process with exit status 2 and one line, leaving the trial RUNNING
without heartbeats, so `--resume` (or another process sharing the study) retries it once.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from loratune.executors.base import EpochHook, Finished, Submission
from loratune.executors.deadline import Deadlines, past_deadline
from loratune.executors.local import Executor, TrialHooks
from loratune.space import Config
from loratune.trainer.loop import StepCallback

if TYPE_CHECKING:
    from loratune.trainer.loop import Evaluation

MAX_RETRIES = 1
# A trial past its deadline gets this much longer (and at least HANG_GRACE_MIN s) to reach its
# next step and fail cleanly before the watchdog takes it as hung and ends the process.
HANG_GRACE = 0.5
HANG_GRACE_MIN = 10.0
HANG_EXIT = 2


class InProcessBackend:
    workers = 1

    def __init__(
        self,
        executor: Executor,
        on_step: StepCallback | None = None,
        deadlines: Deadlines | None = None,
    ) -> None:
        self.executor = executor
        self.on_step = on_step
        self.deadlines = deadlines or Deadlines()
        self._queue: deque[Submission] = deque()

    def submit(self, job: Submission) -> None:
        self._queue.append(job)

    def wait(self, on_epoch: EpochHook) -> list[Finished]:
        job = self._queue.popleft()
        attempt = 0
        while True:
            limit = self.deadlines.limit(job.config, attempt)
            done = self._attempt(job, on_epoch, limit, attempt)
            late = limit is not None and done.error == past_deadline(limit)
            if not late or attempt >= MAX_RETRIES:
                if done.result is not None:
                    self.deadlines.learn(done.result)
                return [done]
            attempt += 1

    def _attempt(
        self, job: Submission, on_epoch: EpochHook, limit: float | None, attempt: int
    ) -> Finished:
        from loratune.trainer import TrialFailed

        end = None if limit is None else time.monotonic() + limit

        def step(epoch: int, i: int, n: int, loss: float) -> None:
            if end is not None and time.monotonic() > end:
                raise TrialFailed(past_deadline(limit or 0.0))
            if self.on_step is not None:
                self.on_step(epoch, i, n, loss)

        def hook(epoch: int, acc: float) -> bool:
            return on_epoch(job.ticket, epoch, acc)

        hooks = TrialHooks(on_step=step, on_epoch=hook)
        watchdog = _watchdog(job, limit) if limit is not None else None
        try:
            result = self.executor.run(job.config, hooks, save_adapter=job.save_adapter)
        except TrialFailed as exc:
            return Finished(job.ticket, None, str(exc), retries=attempt)
        finally:
            if watchdog is not None:
                watchdog.cancel()
        return Finished(job.ticket, result, retries=attempt)

    def test(self, config: Config, adapter: Path) -> Evaluation:
        return self.executor.test(config, adapter)

    def close(self) -> None:
        self._queue.clear()


def _watchdog(job: Submission, limit: float) -> threading.Timer:
    """End the process if the trial is still inside one call well past its deadline."""
    grace = max(HANG_GRACE_MIN, HANG_GRACE * limit)

    def fire() -> None:
        print(
            f"error: trial {job.ticket} hung {limit + grace:.0f} s, past its deadline of "
            f"{limit:.0f} s, and does not return: exiting; rerun with --resume "
            "(the trial is retried once)",
            file=sys.stderr,
            flush=True,
        )
        os._exit(HANG_EXIT)  # the hung call never returns: nothing else can end it

    timer = threading.Timer(limit + grace, fire)
    timer.daemon = True
    timer.start()
    return timer
