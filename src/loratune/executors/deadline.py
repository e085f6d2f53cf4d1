"""A trial's deadline: how long it may run before it is failed as hung and retried once.

A hung trial (a stuck collective, a dead GPU driver call, a data loader that never returns)
keeps its process alive and its heartbeat beating, so nothing else ever fails it. The deadline
is derived from what this run has measured: the slowest set-up and the slowest epoch (its
training plus its check) of the trials finished so far, times the config's epochs, times
`FACTOR`, and never under `FLOOR_SECONDS`. Before any trial has finished nothing is measured,
so only `--trial-timeout` (an override in seconds, for every trial) bounds the first ones.

Fault injection for the fault tests and `benchmarks/faults.py`: `LORATUNE_FAULT_HANG=PATH`
makes the first trial that finds no file at PATH create it and then hang (sleep) forever; a
retry finds the file and trains normally. Unset, it costs one environment lookup per trial.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from loratune.errors import LoratuneError
from loratune.space import Config

if TYPE_CHECKING:
    from loratune.trainer import TrialResult

# 4x the slowest measured pace: a trial's epochs vary by rank and by a busy machine, rarely by
# 2x; a hang is unbounded. The floor keeps short trials (a tiny model: a second an epoch) from
# being failed by a pause of the machine.
FACTOR = 4.0
FLOOR_SECONDS = 60.0
HANG_ENV = "LORATUNE_FAULT_HANG"
RETRY_STRETCH = 2.0  # a retried trial's deadline, times the first attempt's


@dataclass
class Deadlines:
    """The run's deadline policy; `learn` each finished trial, `limit` before each start."""

    override: float | None = None  # --trial-timeout: seconds for every trial
    factor: float = FACTOR
    floor: float = FLOOR_SECONDS
    _setup: float = field(default=0.0, repr=False)
    _epoch: float = field(default=0.0, repr=False)
    _learned: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.override is not None and not (math.isfinite(self.override) and self.override > 0):
            raise LoratuneError("--trial-timeout must be a number of seconds > 0")

    def learn(self, result: TrialResult) -> None:
        if result.epochs_run < 1:
            return
        checks = sum(result.check_seconds) / max(1, len(result.check_seconds))
        epoch = max(result.epoch_seconds, default=result.latency) + checks
        self._epoch = max(self._epoch, epoch)
        self._setup = max(self._setup, result.setup_seconds)
        self._learned += 1

    def limit(self, config: Config, attempt: int = 0) -> float | None:
        """Seconds `config`'s trial may run, or None (nothing measured and no override).

        A retry (`attempt` 1) gets twice the time: a trial failed for being slow (a starved
        machine) must not fail again for the same slowness; a hang outlasts any bound.
        """
        if self.override is not None:
            return self.override * RETRY_STRETCH**attempt
        if not self._learned:
            return None
        expected = self._setup + self._epoch * config.epochs
        return max(self.floor, self.factor * expected) * RETRY_STRETCH**attempt


def past_deadline(limit: float) -> str:
    return f"ran past its deadline of {limit:.0f} s (hung or far slower than measured)"


def maybe_hang() -> None:
    """Hang here if fault injection asks this trial to (see the module's docstring)."""
    marker = os.environ.get(HANG_ENV)
    if not marker:
        return
    path = Path(marker)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # one trial wins the hang
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    while True:
        time.sleep(3600)
