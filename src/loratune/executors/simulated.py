"""The replay backend with N simulated workers on a simulated clock (Syne Tune's simulator
backend, on loratune's recorded grids).

Every submitted trial starts at the simulated time it was submitted on a free worker; each
recorded epoch ends at start + set-up + the recorded training and check seconds so far. Events
are delivered in simulated time order (ties: the earlier submission first), so an epoch
decision or an `ask` sees exactly the trials that had finished by then, and results come back
in finish-time order. With one worker this is the old sequential replay, event for event.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loratune.errors import LoratuneError
from loratune.executors.base import EpochHook, Finished, Submission
from loratune.executors.replay import ReplayExecutor, replayed_result
from loratune.space import Config, config_key

if TYPE_CHECKING:
    from loratune.trainer.loop import Evaluation


@dataclass
class _Running:
    job: Submission
    row: dict[str, Any]
    start: float
    epoch: int = 0  # the next epoch to end

    def next_time(self) -> float:
        row = self.row
        if row.get("status") != "complete":
            return self.start + float(row.get("charged_seconds") or row.get("wall_seconds") or 0.0)
        e = self.epoch + 1
        return (
            self.start
            + float(row["setup_seconds"])
            + sum(float(s) for s in row["epoch_seconds"][:e])
            + sum(float(s) for s in row["check_seconds"][:e])
        )


class SimulatedBackend:
    """Replays a recorded grid with `workers` simulated workers."""

    def __init__(self, grid: dict[str, dict[str, Any]], workers: int = 1) -> None:
        if workers < 1:
            raise LoratuneError(f"a simulated backend needs workers >= 1, got {workers}")
        self.grid = grid
        self.workers = workers
        self.now = 0.0  # simulated wall time: the makespan once the run ends
        self.clock = 0.0  # compute charged so far, summed over workers
        self.epochs = 0
        self._running: list[_Running] = []

    def submit(self, job: Submission) -> None:
        if len(self._running) >= self.workers:
            raise LoratuneError("every simulated worker is busy")
        row = self.grid.get(config_key(job.config))
        if row is None:
            raise LoratuneError(f"config not in the recorded grid: {job.config.describe()}")
        self._running.append(_Running(job, row, self.now))

    def wait(self, on_epoch: EpochHook) -> list[Finished]:
        while self._running:
            run = min(self._running, key=lambda r: (r.next_time(), r.job.ticket))
            self.now = run.next_time()
            row = run.row
            if row.get("status") != "complete":
                self._running.remove(run)
                self.clock += self.now - run.start
                return [Finished(run.job.ticket, None, row.get("error") or "failed when recorded")]
            e, total = run.epoch, len(row["curve"])
            go = on_epoch(run.job.ticket, e, float(row["curve"][e]))
            if e == total - 1 or not go:
                self._running.remove(run)
                result = replayed_result(row, e + 1)
                self.clock += result.charged_seconds
                self.epochs += e + 1
                return [Finished(run.job.ticket, result)]
            run.epoch += 1
        raise LoratuneError("wait() with no trial running")

    def test(self, config: Config, adapter: Path) -> Evaluation:
        return ReplayExecutor(self.grid).test(config, adapter)

    def close(self) -> None:
        self._running.clear()
