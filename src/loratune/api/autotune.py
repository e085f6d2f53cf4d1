"""`loratune.autotune`: explore a few configs, predict the grid, verify the top few, prove it."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from loratune.api.context import Progress, prepare_job
from loratune.api.pick import card_adapter, keep_adapters, pick_best, runs_dir, test_pick
from loratune.api.search import plan_search, search
from loratune.api.separate import separate
from loratune.api.spec import (  # the defaults are read here by benchmarks and tests
    DEFAULT_EARLY_STOP,
    DEFAULT_EXPLORE,
    DEFAULT_VERIFY,
    JobSpec,
    SaveRule,
)
from loratune.api.stages import (
    Kept,
    Picked,
    Prepared,
    Searched,
    Separated,
    Tested,
    Validated,
    advance,
)
from loratune.api.validate import validate_study
from loratune.errors import LoratuneError
from loratune.executors import Executor
from loratune.report import write_report
from loratune.results import AutotuneResult

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
    end, for the pick alone. Early stopping applies to proportion metrics only
    (`api.search.plan_search`).
    With `early_stop`, a trial (explored or verified) stops after its first epoch when its
    check accuracy is clearly below the best first-epoch accuracy so far (`EarlyStop`);
    it still informs the predictor but is never the pick.
    Every step is deterministic given the seeds, so resume=True replays the same decisions
    and trains only what is missing.

    The run is a pipeline of stages, each a function of the previous stage's result
    (`api.stages`): prepare, search, pick, separate, test once, validate, keep and card,
    report. The search is the one loop (`strategies.loop`): the strategy asks (the warm start
    from a prior, the cold-start `Autotune`, or the one `budget.strategy` names in the
    registry), the backend (in this process, or `ray` with `workers` actors) trains, the study
    records and the search's pruner stops weak trials, so several workers or processes share
    one early-stopping state. With `separate` = K >= 2 (off by default), the noise-aware step
    (`api.separate`) may retrain the top K with the next training seed when the pick is
    within validation noise of the runner-up. Then the pick (by validation) is tested once
    and reported.
    """
    spec = JobSpec.given(spec, "autotune", options)
    prepared = prepare(spec, progress, executor)
    try:
        picked = pick(search(prepared))
        # The separating trials run every epoch: a second seed stopped at epoch 1 could not
        # be compared, adapter for adapter, with the first seed's finished ones.
        tested = test_once(separate(picked, early_stop=None))
    finally:
        prepared.job.close()  # the backend's workers and resident model; the study stays
    return report(keep_and_card(validate(tested)))


def prepare(
    spec: JobSpec, progress: Progress | None = None, executor: Executor | None = None
) -> Prepared:
    """The prepare stage: inputs checked, the study opened, the search planned (its strategy,
    its pruner's rule, its prior), all before the base model loads."""
    job = prepare_job(spec, progress, executor)
    target = Path(spec.out) if spec.out else runs_dir(job.study.study_name)
    return Prepared(spec, job, target, target / "adapters", plan_search(job))


def pick(searched: Searched) -> Picked:
    """The pick stage: the search's best finished trial by validation."""
    best = pick_best(list(searched.trials))
    if best is None:
        raise LoratuneError(
            "no trial finished all its epochs (failed or stopped early): "
            "see them with `loratune export`"
        )
    return advance(Picked, searched, best=best)


def test_once(separated: Separated) -> Tested:
    """The test-once stage: the kept adapter's trial scored on the test split, once per study."""
    tested = test_pick(separated.job, separated.pick, separated.adapters)
    return advance(Tested, separated, tested=tested)


def validate(tested: Tested) -> Validated:
    """The validate stage: the run's statistics, read back from the study alone."""
    spec = tested.spec
    validation = validate_study(
        tested.job.study.study_name, spec.storage, grid_study=spec.grid_study
    )
    return advance(Validated, tested, validation=validation)


def keep_and_card(validated: Validated) -> Kept:
    """The keep-and-card stage: the adapters `keep` asks for stay, the pick's with its card."""
    v = validated
    kept = keep_adapters(
        v.adapters, v.target, v.pick, list(v.verified), list(v.trials), v.spec.keep
    )
    if kept is not None:
        card_adapter(kept, v.job.study.study_name, v.pick.number, dict(v.tested), v.validation)
    return advance(Kept, v, adapter_dir=kept)


def report(kept: Kept) -> AutotuneResult:
    """The report stage: the run's result, and its report written where `report` asks."""
    result = AutotuneResult(
        study=kept.job.study.study_name,
        best=kept.pick,
        predictions=kept.predictions,
        explored=kept.explored,
        verified=kept.verified,
        validation=kept.validation,
        surrogates=dict(kept.surrogates),
        strategy=kept.spec.budget.strategy,
        adapter_dir=kept.adapter_dir,
        separation=kept.separation,
        prior=kept.plan.prior,
        stop_reason=kept.stop_reason,
        search_seconds=kept.search_seconds,
    )
    if not kept.spec.report:
        return result
    return dataclasses.replace(result, report_dir=write_report(result, kept.job.space, kept.target))
