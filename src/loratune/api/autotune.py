"""`loratune.autotune`: explore a few configs, predict the grid, verify the top few, prove it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loratune.api.context import Progress, prepare_job, run_configs
from loratune.api.validate import validate_study
from loratune.errors import LoratuneError
from loratune.executors import Executor
from loratune.models import DEFAULT_MODEL
from loratune.space import Space, config_key
from loratune.strategies import design_configs
from loratune.strategies.autotune import (
    Prediction,
    VerifyRule,
    fit_predictor,
    pick_verify,
    predict_grid,
)
from loratune.study import Storage, TrialRecord, done_keys, records

DEFAULT_EXPLORE = 12
DEFAULT_VERIFY = 5


@dataclass
class AutotuneResult:
    study: str
    best: TrialRecord
    predictions: list[Prediction]  # the whole grid, as predicted after exploring
    explored: list[TrialRecord]
    verified: list[TrialRecord]
    validation: dict[str, Any]
    surrogates: dict[str, str] = field(default_factory=dict)
    report_dir: Path | None = None


def autotune(
    domain: str | None = None,
    *,
    data: str | Path | None = None,
    model: str = DEFAULT_MODEL,
    space: str | Path | Space = "default",
    explore: int = DEFAULT_EXPLORE,
    verify: int = DEFAULT_VERIFY,
    rule: VerifyRule = "top-k",
    storage: Storage = None,
    study: str | None = None,
    grid_study: str | None = None,
    resume: bool = False,
    seed: int = 0,
    device: str | None = None,
    price_per_hour: float = 0.0,
    n_train: int = 100,
    out: str | Path | None = None,
    report: bool = True,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> AutotuneResult:
    """Explore `explore` configs, fit the predictor, train the `verify` best predicted.

    Every step is deterministic given the seed, so resume=True replays the same decisions
    and trains only what is missing.
    """
    if explore < 2:
        raise LoratuneError("--explore must be >= 2: the predictor needs two trials")
    if verify < 1:
        raise LoratuneError("--verify must be >= 1")
    job = prepare_job(
        domain=domain,
        data=data,
        model=model,
        space=space,
        storage=storage,
        study=study,
        kind="autotune",
        resume=resume,
        seed=seed,
        device=device,
        price_per_hour=price_per_hour,
        n_train=n_train,
        progress=progress,
        executor=executor,
    )
    if explore + verify > len(job.space):
        raise LoratuneError(f"explore + verify exceeds the grid's {len(job.space)} configs")
    _phase(progress, "explore")
    plan = design_configs(job.space, explore, seed)
    done = done_keys(job.study)
    run_configs(job, [c for c in plan if config_key(c) not in done], phase="explore")
    plan_keys = {config_key(c) for c in plan}
    explored = [r for r in records(job.study) if r.metrics.get("config_key") in plan_keys]

    predictor = fit_predictor(explored, seed=seed)
    predictions = predict_grid(predictor, job.space, explored)
    best_seen = max((r.accuracy for r in explored if r.ok), default=0.0)
    picks = pick_verify(predictions, verify, best_seen, rule)

    _phase(progress, "verify")
    done = done_keys(job.study)
    todo = [p for p in picks if config_key(p.config) not in done]
    # Each pick's prediction is stored on its trial, so validation can read it back later.
    run_configs(job, [p.config for p in todo], "verify", [p.attrs() for p in todo])
    pick_keys = {config_key(p.config) for p in picks}
    all_records = records(job.study)
    verified = [r for r in all_records if r.metrics.get("config_key") in pick_keys]
    finished = [r for r in all_records if r.ok]
    if not finished:
        raise LoratuneError("every trial failed: see the errors with `loratune export`")
    validation = validate_study(job.study.study_name, storage, grid_study=grid_study)
    result = AutotuneResult(
        study=job.study.study_name,
        best=max(finished, key=lambda r: r.accuracy or 0.0),
        predictions=predictions,
        explored=explored,
        verified=verified,
        validation=validation,
        surrogates=dict(predictor.chosen),
    )
    if report:
        from loratune.report import write_report

        target = Path(out) if out else Path("runs") / job.study.study_name.replace(":", "_")
        result.report_dir = write_report(result, job.space, target)
    return result


def _phase(progress: Progress | None, name: str) -> None:
    if progress is not None and hasattr(progress, "phase"):
        progress.phase(name)
