"""`loratune.autotune`: explore a few configs, predict the grid, verify the top few, prove it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import optuna

from loratune.api.context import Progress, prepare_job, run_configs
from loratune.api.pick import card_adapter, keep_adapters, pick_best, runs_dir, test_pick
from loratune.api.validate import validate_study
from loratune.errors import LoratuneError
from loratune.executors import Executor
from loratune.models import DEFAULT_MODEL
from loratune.space import Space, config_key
from loratune.strategies import design_configs
from loratune.strategies.autotune import (
    EarlyStop,
    EpochGate,
    Prediction,
    VerifyRule,
    fit_predictor,
    pick_verify,
    predict_grid,
)
from loratune.study import Storage, TrialRecord, done_keys, records
from loratune.tasks import N_CHECK, N_TEST, N_TRAIN, N_VAL

DEFAULT_EXPLORE = 12
DEFAULT_VERIFY = 5
# Chosen by the race on the recorded grids (benchmarks/RESULTS.md, README "Tuning strategies").
DEFAULT_EARLY_STOP = True


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
    adapter_dir: Path | None = None  # the pick's saved adapter (None with save="none")


SaveRule = Literal["best", "verified", "all", "none"]


def autotune(
    domain: str | None = None,
    *,
    data: str | Path | None = None,
    model: str = DEFAULT_MODEL,
    space: str | Path | Space = "default",
    explore: int = DEFAULT_EXPLORE,
    verify: int = DEFAULT_VERIFY,
    rule: VerifyRule = "top-k",
    early_stop: bool = DEFAULT_EARLY_STOP,
    storage: Storage = None,
    study: str | None = None,
    grid_study: str | None = None,
    resume: bool = False,
    seed: int = 0,
    data_seed: int = 0,
    device: str | None = None,
    price_per_hour: float = 0.0,
    n_train: int | None = N_TRAIN,
    n_val: int | None = N_VAL,
    n_test: int | None = N_TEST,
    val_data: str | Path | None = None,
    test_data: str | Path | None = None,
    save: SaveRule = "best",
    out: str | Path | None = None,
    report: bool = True,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> AutotuneResult:
    """Explore `explore` configs, fit the predictor, train the `verify` best predicted.

    Every decision reads validation accuracy only: the predictor's targets, the configs to
    verify, the pick. The test split is read once, at the end, for the pick alone.
    With `early_stop`, a trial (explored or verified) stops after its first epoch when its
    check accuracy is clearly below the best first-epoch accuracy so far (`EarlyStop`);
    it still informs the predictor but is never the pick.
    Every step is deterministic given the seeds, so resume=True replays the same decisions
    and trains only what is missing.
    """
    if explore < 2:
        raise LoratuneError("--explore must be >= 2: the predictor needs two trials")
    if verify < 1:
        raise LoratuneError("--verify must be >= 1")
    if rule not in ("top-k", "ei"):
        raise LoratuneError(f"unknown verify rule {rule!r}: use top-k or ei")
    if save not in ("best", "verified", "all", "none"):
        raise LoratuneError(f"unknown --save {save!r}: use best, verified, all or none")
    if isinstance(space, Space):
        n_configs = len(space)
    else:
        from loratune.space import load_space

        n_configs = len(load_space(space))
    if explore + verify > n_configs:
        raise LoratuneError(f"explore + verify exceeds the grid's {n_configs} configs")
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
        n_val=n_val,
        n_test=n_test,
        data_seed=data_seed,
        val_data=val_data,
        test_data=test_data,
        progress=progress,
        executor=executor,
    )
    target = Path(out) if out else runs_dir(job.study.study_name)
    adapters = target / "adapters"
    n_check = min(N_CHECK, len(job.task.validation))
    gate = _gate(job.study, n_check) if early_stop else None
    keep_going = gate.keep_going if gate else None
    _phase(progress, "explore")
    plan = design_configs(job.space, explore, seed)
    done = done_keys(job.study)
    todo_explore = [c for c in plan if config_key(c) not in done]
    run_configs(job, todo_explore, "explore", keep_going=keep_going, save_dir=adapters)
    plan_keys = {config_key(c) for c in plan}
    explored = [r for r in records(job.study) if r.metrics.get("config_key") in plan_keys]

    predictor = fit_predictor(explored, seed=seed)
    predictions = predict_grid(predictor, job.space, explored)
    best_seen = max((r.accuracy or 0.0 for r in explored if r.full), default=0.0)
    picks = pick_verify(predictions, verify, best_seen, rule)

    _phase(progress, "verify")
    done = done_keys(job.study)
    todo = [p for p in picks if config_key(p.config) not in done]
    # Each pick's prediction is stored on its trial, so validation can read it back later.
    run_configs(
        job,
        [p.config for p in todo],
        "verify",
        [p.attrs() for p in todo],
        keep_going,
        save_dir=adapters,
    )
    pick_keys = {config_key(p.config) for p in picks}
    all_records = records(job.study)
    verified = [r for r in all_records if r.metrics.get("config_key") in pick_keys]
    best = pick_best(all_records)
    if best is None:
        raise LoratuneError(
            "no trial finished all its epochs (failed or stopped early): "
            "see them with `loratune export`"
        )
    tested = test_pick(job, best, adapters)
    validation = validate_study(job.study.study_name, storage, grid_study=grid_study)
    kept = keep_adapters(adapters, target, best, verified, all_records, save)
    if kept is not None:
        card_adapter(kept, job.study.study_name, best.number, tested, validation)
    result = AutotuneResult(
        study=job.study.study_name,
        best=best,
        predictions=predictions,
        explored=explored,
        verified=verified,
        validation=validation,
        surrogates=dict(predictor.chosen),
        adapter_dir=kept,
    )
    if report:
        from loratune.report import write_report

        result.report_dir = write_report(result, job.space, target)
    return result


def _gate(study: optuna.Study, n_check: int) -> EpochGate:
    """The early-stopping gate, primed with the first-epoch accuracies already recorded in
    the study, so a resumed run judges its remaining trials as the uninterrupted run would."""
    seen = [r.curve[0] for r in records(study) if r.ok and r.curve]
    return EarlyStop(n_val=n_check).first_epoch_gate(seen)


def _phase(progress: Progress | None, name: str) -> None:
    if progress is not None and hasattr(progress, "phase"):
        progress.phase(name)
