"""`loratune.sweep`: train a list of configs of a space for real and record every one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loratune.api.context import Progress, prepare_job
from loratune.api.pick import card_adapter, keep_adapters, pick_best, runs_dir
from loratune.api.record import run_configs
from loratune.api.spec import JobSpec
from loratune.executors import Executor
from loratune.strategies import design_configs
from loratune.study import TrialRecord, records


def sweep(
    spec: JobSpec | str | None = None,
    *,
    progress: Progress | None = None,
    executor: Executor | None = None,
    **options: Any,
) -> list[TrialRecord]:
    """Run the whole grid, or `n` configs of it spread by a Sobol design; returns all records.

    `spec` is a `JobSpec` of kind "sweep", or the domain, with the spec's fields as keywords
    (`sweep("customer_support", model="tiny-llama", n=4)`).
    With resume=True, configs already finished in the study are not run again. `design_seed`
    (default: `seed`) fixes the Sobol subset apart from the training seed, so that repeats of
    one subset under several seeds measure noise on the same configs. `backend="ray"` runs
    `workers` trials at once on Ray actors; several processes may share one study (each
    config is claimed before it trains, so none is trained twice).
    """
    spec = JobSpec.given(spec, "sweep", options)
    job = prepare_job(spec, progress, executor)
    plan = spec.plan
    configs = (
        job.space.configs()
        if plan.n is None
        else design_configs(
            job.space, plan.n, spec.seed if plan.design_seed is None else plan.design_seed
        )
    )
    target = Path(spec.out) if spec.out else runs_dir(job.study.study_name)
    adapters = target / "adapters" if spec.keep != "none" else None
    try:
        run_configs(job, configs, phase="sweep", save_dir=adapters)
    finally:
        job.close()
    if adapters is None:
        return records(job.study)
    recs = records(job.study)
    best = pick_best(recs)
    if best is not None:
        # A sweep has no verify phase: "verified" keeps the pick's adapter in adapters/.
        kept = keep_adapters(adapters, target, best, [best], recs, spec.keep)
        if kept is not None and kept.is_dir():
            tested: dict[str, Any] = {"test_accuracy": best.test_accuracy}
            if best.metric != "accuracy":
                tested["test_score"] = best.test_score
            card_adapter(kept, job.study.study_name, best.number, tested, None)
    return records(job.study)
