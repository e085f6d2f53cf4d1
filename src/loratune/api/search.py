"""The search stage: which strategy runs, with which pruner, and what it leaves behind.

Every way a run searches is a strategy (`strategies`): the warm start from a prior
(`WarmStart`, with its evidence stop), the cold start (`Autotune`: Sobol design, predictor,
verify) or any strategy of the registry. `plan_search` chooses one, and the one loop
(`strategies.loop`) runs it; nothing here branches on how the strategy decides.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from loratune.api.context import Job
from loratune.api.pick import SEPARATE_PHASE
from loratune.api.prior import choose_prior
from loratune.api.record import StudyRecorder
from loratune.api.stages import Prepared, Searched, SearchPlan, advance
from loratune.models import DEFAULT_MODEL
from loratune.strategies import registry
from loratune.strategies.base import Strategy
from loratune.strategies.loop import run_loop
from loratune.strategies.search import Autotune
from loratune.strategies.warm import DEFAULT_PORTFOLIO, WarmStart
from loratune.study import TrialRecord, records
from loratune.study.pruner import EarlyStop
from loratune.tasks import N_CHECK


def plan_search(job: Job) -> SearchPlan:
    """The strategy the spec names, its pruner's rule, and the prior it starts from.

    The default is the warm start (`WarmStart`) from the prior `--prior` chooses, or, with
    `--prior none` (or no prior to use), the cold-start `Autotune`; either way early stopping
    is the search pruner's epoch-1 rule (decided from the study, so every worker and process
    shares it). Another registered strategy runs as the registry builds it for this job's
    budget, with `loratune.autotune`'s own predictor fit; it stops trials itself.
    """
    budget = job.spec.budget
    n_check = min(N_CHECK, len(job.task.validation))
    # The epoch-1 rule is a two-proportion z-test: it holds for a proportion of examples right
    # (accuracy, exact match), not for an F1 or a loss, whose spread on the check subset it
    # cannot know. For those, early stopping is off and every trial runs all its epochs.
    early_stop = budget.early_stop and job.metric.proportion
    if budget.strategy != registry.DEFAULT_STRATEGY:
        setting = registry.Setting(
            job.space, budget.explore, budget.verify, early_stop, n_check, None, job.domain
        )
        return SearchPlan(registry.entry(budget.strategy, setting).make, None, "")
    rule = EarlyStop(n_val=n_check) if early_stop else None
    model = job.spec.model or DEFAULT_MODEL
    chosen = choose_prior(budget.prior, model, job.domain, job.study._storage)
    if chosen.prior is None:
        cold = functools.partial(Autotune, budget.explore, budget.verify, budget.rule)
        return SearchPlan(cold, rule, chosen.note)
    ceiling = min(budget.ceiling, budget.explore + budget.verify)
    warm = functools.partial(
        WarmStart,
        chosen.prior,
        min(DEFAULT_PORTFOLIO, ceiling),
        ceiling,
        name=registry.DEFAULT_STRATEGY,
    )
    return SearchPlan(warm, rule, chosen.note)


def search(prepared: Prepared) -> Searched:
    """Run the plan's strategy to its end through the one loop; its trials are recorded in
    the study and their adapters saved in `prepared.adapters`."""
    job, plan = prepared.job, prepared.plan
    strategy = plan.make()
    strategy.reset(job.space, job.seed)
    phased = isinstance(strategy, Autotune | WarmStart)
    recorder = StudyRecorder(
        job,
        strategy.phase if phased else (lambda c: "search"),
        strategy.trial_attrs if phased else None,
        prepared.adapters,
        total=strategy.budget() or len(job.space),
        early_stop=plan.early_stop,
        remote=getattr(job.get_backend(), "remote", False),
    )
    started = time.perf_counter()
    run_loop(strategy, job.get_backend(), recorder)
    seconds = time.perf_counter() - started
    # A resumed study may hold an earlier run's separating trials (another training seed):
    # they are not the search's.
    trials = [r for r in records(job.study) if r.metrics.get("phase") != SEPARATE_PHASE]
    explore, verify = _phases(strategy, trials)
    predictor = strategy.predictor if isinstance(strategy, Autotune) else None
    return advance(
        Searched,
        prepared,
        trials=tuple(trials),
        explored=tuple(r for r in trials if r.metrics.get("config_key") in explore),
        verified=tuple(r for r in trials if r.metrics.get("config_key") in verify),
        predictions=tuple(strategy.predictions or ()) if isinstance(strategy, Autotune) else (),
        surrogates=dict(predictor.chosen) if predictor else {},
        stop_reason=strategy.stop_reason if isinstance(strategy, WarmStart) else "",
        search_seconds=seconds,
    )


def _phases(strategy: Strategy, trials: list[TrialRecord]) -> tuple[set[Any], set[Any]]:
    """The config keys the strategy explored and verified; a strategy without phases
    explored every trial."""
    if isinstance(strategy, Autotune):
        return strategy.explore_keys(), strategy.verify_keys()
    return {r.metrics.get("config_key") for r in trials}, set()


__all__ = ["plan_search", "search"]
