"""What every backend speaks: trials are submitted, run asynchronously, and reported as they
finish. The one loop (`strategies.loop`) drives any backend through these types.

A backend calls `on_epoch(ticket, epoch, check accuracy)` after each epoch of a trial it runs
in this process (in-process, replay); False stops that trial there. A backend whose trials run
in other processes (Ray) reports epochs to the study instead, where the study's pruner decides
(`TrialRef`), so early stopping reads the same state wherever a trial runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from loratune.space import Config

if TYPE_CHECKING:  # the trainer imports torch; a replay or a race never needs it
    from loratune.trainer import TrialResult
    from loratune.trainer.loop import Evaluation

# (ticket, epoch (0-based), check accuracy) -> keep going
EpochHook = Callable[[int, int, float], bool]


@dataclass(frozen=True)
class TrialRef:
    """Where a worker in another process reports a trial: its study's storage URL, the study,
    the Optuna trial id; `early_stop` = (n_check, z) of the study's pruner, or None."""

    storage: str
    study: str
    trial_id: int
    early_stop: tuple[int, float] | None = None
    heartbeat: bool = False


@dataclass(frozen=True)
class Submission:
    ticket: int  # the loop's handle of the trial (the Optuna trial number in real runs)
    config: Config
    save_adapter: Path | None = None
    trial: TrialRef | None = None


@dataclass(frozen=True)
class Finished:
    """A trial's end: its result, or the reason it failed; who ran it; how often it was retried."""

    ticket: int
    result: TrialResult | None
    error: str | None = None
    worker: dict[str, Any] | None = None
    retries: int = 0


class Backend(Protocol):
    workers: int  # trials it runs at once

    def submit(self, job: Submission) -> None: ...

    def wait(self, on_epoch: EpochHook) -> list[Finished]:
        """Block until at least one submitted trial finishes; return those that did."""
        ...

    def test(self, config: Config, adapter: Path) -> Evaluation:
        """The test split scored with a trial's saved adapter (autotune's pick, once)."""
        ...

    def close(self) -> None: ...
