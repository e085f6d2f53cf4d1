"""`loratune.autotune`: explore a few configs, predict the grid, verify the top few, prove it."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import optuna

from loratune.api.context import Job, Progress, prepare_job
from loratune.api.pick import (
    SEPARATE_ATTR,
    SEPARATE_PHASE,
    card_adapter,
    keep_adapters,
    pick_best,
    runs_dir,
    test_pick,
)
from loratune.api.prior import choose_prior
from loratune.api.record import StudyRecorder
from loratune.api.separate import separate
from loratune.api.spec import (  # the defaults are read here by benchmarks and tests
    DEFAULT_EARLY_STOP,
    DEFAULT_EXPLORE,
    DEFAULT_VERIFY,
    JobSpec,
    SaveRule,
)
from loratune.api.validate import validate_study
from loratune.errors import LoratuneError
from loratune.executors import Executor
from loratune.models import DEFAULT_MODEL
from loratune.report import write_report
from loratune.results import AutotuneResult
from loratune.strategies import registry
from loratune.strategies.autotune import EarlyStop
from loratune.strategies.base import Strategy
from loratune.strategies.loop import run_loop
from loratune.strategies.search import Autotune
from loratune.strategies.warm import DEFAULT_PORTFOLIO, WarmStart
from loratune.study import records
from loratune.study.pruner import EpochOnePruner
from loratune.tasks import N_CHECK

__all__ = [
    "DEFAULT_EARLY_STOP",
    "DEFAULT_EXPLORE",
    "DEFAULT_VERIFY",
    "AutotuneResult",
    "SaveRule",
    "autotune",
]


def autotune(
    spec: JobSpec | str | None = None,
    *,
    progress: Progress | None = None,
    executor: Executor | None = None,
    **options: Any,
) -> AutotuneResult:
    """Explore `explore` configs, fit the predictor, train the `verify` best predicted.

    `spec` is a `JobSpec`, or the domain, with the spec's fields as keywords
    (`autotune("customer_support", model="tiny-llama", explore=6)`).
    Every decision reads validation only, by the spec's `metric` (accuracy unless given): the
    predictor's targets, the configs to verify, the pick. The test split is read once, at the
    end, for the pick alone. Early stopping applies to proportion metrics only (see `_strategy`).
    With `early_stop`, a trial (explored or verified) stops after its first epoch when its
    check accuracy is clearly below the best first-epoch accuracy so far (`EarlyStop`);
    it still informs the predictor but is never the pick.
    Every step is deterministic given the seeds, so resume=True replays the same decisions
    and trains only what is missing.

    The run is the one loop (`strategies.loop`): the strategy asks (the `Autotune` strategy,
    or the one `budget.strategy` names in the registry), the backend (in this process, or
    `ray` with `workers` actors) trains, the study records and its pruner stops weak trials,
    so several workers or processes share one early-stopping state. With `separate` = K >= 2
    (off by default), the noise-aware last step (`api.separate`) may retrain the top K with
    the next training seed when the pick is within validation noise of the runner-up. Then
    the pick (by validation) is tested once and reported.
    """
    spec = JobSpec.given(spec, "autotune", options)
    pruner = _Pruner()
    job = prepare_job(spec, progress, executor, pruner=pruner)
    target = Path(spec.out) if spec.out else runs_dir(job.study.study_name)
    adapters = target / "adapters"
    strategy, recorder, prior_note = _strategy(job, pruner, adapters)
    try:
        started = time.perf_counter()
        run_loop(strategy, job.get_backend(), recorder)
        search_seconds = time.perf_counter() - started
        all_records = records(job.study)
        if isinstance(strategy, Autotune):
            explore_keys, verify_keys = strategy.explore_keys(), strategy.verify_keys()
        else:  # a strategy without phases: every trial is a search trial
            explore_keys, verify_keys = {r.metrics.get("config_key") for r in all_records}, set()
        # The noise-aware last step's trials (another training seed) are not the search's.
        all_records = [r for r in all_records if r.metrics.get("phase") != SEPARATE_PHASE]
        explored = [r for r in all_records if r.metrics.get("config_key") in explore_keys]
        verified = [r for r in all_records if r.metrics.get("config_key") in verify_keys]
        best = pick_best(all_records)
        if best is None:
            raise LoratuneError(
                "no trial finished all its epochs (failed or stopped early): "
                "see them with `loratune export`"
            )
        pruner.rule = None  # the separating trials run every epoch
        separated = separate(job, all_records, spec.budget.separate, adapters)
        if separated is not None:
            # The test reads the kept adapter's trial (first or second seed).
            best, separation = separated
        else:
            separation = None
            if job.study.user_attrs.get(SEPARATE_ATTR):  # an earlier run's, with the step on
                job.study.set_user_attr(SEPARATE_ATTR, None)
        tested = test_pick(job, best, adapters)
    finally:
        job.close()
    validation = validate_study(job.study.study_name, spec.storage, grid_study=spec.grid_study)
    kept = keep_adapters(adapters, target, best, verified, all_records, spec.keep)
    if kept is not None:
        card_adapter(kept, job.study.study_name, best.number, tested, validation)
    autotuned = strategy if isinstance(strategy, Autotune) else None
    predictor = autotuned.predictor if autotuned else None
    result = AutotuneResult(
        study=job.study.study_name,
        best=best,
        predictions=tuple(autotuned.predictions or ()) if autotuned else (),
        explored=tuple(explored),
        verified=tuple(verified),
        validation=validation,
        surrogates=dict(predictor.chosen) if predictor else {},
        strategy=spec.budget.strategy,
        adapter_dir=kept,
        separation=separation,
        prior=prior_note,
        stop_reason=strategy.stop_reason if isinstance(strategy, WarmStart) else "",
        search_seconds=search_seconds,
    )
    if spec.report:
        result = dataclasses.replace(result, report_dir=write_report(result, job.space, target))
    return result


def _strategy(job: Job, pruner: _Pruner, adapters: Path) -> tuple[Strategy, StudyRecorder, str]:
    """The strategy the spec names, reset for this job, the recorder that runs it, and a line
    on the prior it starts from.

    The default is the warm start (`WarmStart`) from the prior `--prior` chooses, or, with
    `--prior none` (or no prior to use), the cold-start `Autotune` strategy; either way with
    early stopping in the study's pruner (shared by every worker and process). Another
    registered strategy runs as the registry builds it
    for this job's budget, with `loratune.autotune`'s own predictor fit; it stops trials itself.
    """
    spec = job.spec
    budget = spec.budget
    n_check = min(N_CHECK, len(job.task.validation))
    # The epoch-1 rule is a two-proportion z-test: it holds for a proportion of examples right
    # (accuracy, exact match), not for an F1 or a loss, whose spread on the check subset it
    # cannot know. For those, early stopping is off and every trial runs all its epochs.
    early_stop = budget.early_stop and job.metric.proportion
    strategy: Strategy
    note = ""
    if budget.strategy == registry.DEFAULT_STRATEGY:
        pruner.rule = EarlyStop(n_val=n_check) if early_stop else None
        model = job.spec.model or DEFAULT_MODEL
        chosen = choose_prior(budget.prior, model, job.domain, job.study._storage)
        note = chosen.note
        if chosen.prior is None:
            strategy = Autotune(budget.explore, budget.verify, budget.rule)
        else:
            ceiling = min(budget.ceiling, budget.explore + budget.verify)
            portfolio = min(DEFAULT_PORTFOLIO, ceiling)
            strategy = WarmStart(chosen.prior, portfolio, ceiling, name=registry.DEFAULT_STRATEGY)
    else:
        setting = registry.Setting(
            job.space, budget.explore, budget.verify, early_stop, n_check, None, job.domain
        )
        strategy = registry.entry(budget.strategy, setting).make()
    strategy.reset(job.space, spec.seed)
    phased = isinstance(strategy, Autotune | WarmStart)
    recorder = StudyRecorder(
        job,
        strategy.phase if phased else (lambda c: "search"),
        strategy.trial_attrs if phased else None,
        adapters,
        total=strategy.budget() or len(job.space),
        early_stop=(pruner.rule.n_val, pruner.rule.z) if pruner.rule else None,
        remote=getattr(job.get_backend(), "remote", False),
    )
    return strategy, recorder, note


class _Pruner(EpochOnePruner):
    """The study's pruner; its rule is set once the validation split's size is known (None:
    early stopping is off, or left to the strategy; nothing is pruned)."""

    def __init__(self) -> None:
        self.rule: EarlyStop | None = None  # type: ignore[assignment]

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return self.rule is not None and super().prune(study, trial)
