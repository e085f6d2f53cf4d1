"""What each stage of an autotune hands the next, as read-only records.

`loratune.autotune` is a pipeline: prepare -> search -> pick -> separate -> test once ->
validate -> keep and card -> report. Each stage is a function of the previous stage's
result and returns its own; each result holds everything the one before it held, plus what
its stage added, so a later stage reads `kept.best` or `kept.target` without reaching back
through the chain, and no stage changes what an earlier one returned.

The `Job` the results carry is the run's resources (the study, the backend that trains), not
a state passed between stages: stages write trials to the study, as the study is for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from loratune.api.context import Job
from loratune.api.spec import JobSpec
from loratune.results import Prediction, Separation, Validation
from loratune.strategies.base import Strategy
from loratune.study import TrialRecord
from loratune.study.pruner import EarlyStop


@dataclass(frozen=True)
class SearchPlan:
    """How the search runs: its strategy (made fresh by `make`), the epoch-1 rule of the
    search's pruner (None: every trial runs every epoch, or the strategy stops trials itself)
    and one line on the prior the strategy starts from ("" for a registered strategy)."""

    make: Callable[[], Strategy]
    early_stop: EarlyStop | None
    prior: str


@dataclass(frozen=True)
class Prepared:
    """The job set up and checked, where its files go, and how the search will run."""

    spec: JobSpec
    job: Job
    target: Path  # the run folder: report, kept adapter
    adapters: Path  # where each trial's adapter is saved while the run decides
    plan: SearchPlan


@dataclass(frozen=True)
class Searched(Prepared):
    """The search's trials (never the separating step's) and what its strategy learned."""

    trials: tuple[TrialRecord, ...]
    explored: tuple[TrialRecord, ...]
    verified: tuple[TrialRecord, ...]
    predictions: tuple[Prediction, ...]  # the whole grid, as predicted after exploring
    surrogates: Mapping[str, str]
    stop_reason: str
    search_seconds: float


@dataclass(frozen=True)
class Picked(Searched):
    """The search's best trial by validation."""

    best: TrialRecord


@dataclass(frozen=True)
class Separated(Picked):
    """The trial whose adapter is kept: the search's best, or, after the noise-aware step,
    the best of the top K over two training seeds."""

    pick: TrialRecord
    separation: Separation | None  # None: the step was off or had too few configs


@dataclass(frozen=True)
class Tested(Separated):
    """The pick's one test evaluation, as stored on the study."""

    tested: Mapping[str, Any]


@dataclass(frozen=True)
class Validated(Tested):
    """The study's statistics, read back from the study alone."""

    validation: Validation


@dataclass(frozen=True)
class Kept(Validated):
    """The pick's adapter folder after keeping what `keep` asks for (None: none kept)."""

    adapter_dir: Path | None


_Next = TypeVar("_Next", bound=Prepared)


def advance(stage: type[_Next], previous: Prepared, **added: Any) -> _Next:
    """The next stage's result: every field of `previous`, and the ones its stage adds."""
    held = {f.name: getattr(previous, f.name) for f in dataclasses.fields(previous)}
    return stage(**held, **added)


__all__ = [
    "Kept",
    "Picked",
    "Prepared",
    "SearchPlan",
    "Searched",
    "Separated",
    "Tested",
    "Validated",
    "advance",
]
