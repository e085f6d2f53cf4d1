"""`loratune.autotune`: explore a few configs, predict the grid, verify the top few, prove it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import optuna

from loratune.api.context import Progress, prepare_job
from loratune.api.pick import card_adapter, keep_adapters, pick_best, runs_dir, test_pick
from loratune.api.record import StudyRecorder
from loratune.api.validate import validate_study
from loratune.errors import LoratuneError
from loratune.executors import Executor
from loratune.executors.options import BackendKind, BackendOptions
from loratune.models import DEFAULT_MODEL
from loratune.space import Space
from loratune.strategies.autotune import EarlyStop, Prediction, VerifyRule
from loratune.strategies.loop import run_loop
from loratune.strategies.pruner import EpochOnePruner
from loratune.strategies.race.autotune import Autotune
from loratune.study import Storage, TrialRecord, records
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
    backend: BackendKind = "inprocess",
    address: str | None = None,
    workers: int = 1,
    gpus_per_trial: float = 0.0,
    cpus_per_trial: float = 1.0,
) -> AutotuneResult:
    """Explore `explore` configs, fit the predictor, train the `verify` best predicted.

    Every decision reads validation accuracy only: the predictor's targets, the configs to
    verify, the pick. The test split is read once, at the end, for the pick alone.
    With `early_stop`, a trial (explored or verified) stops after its first epoch when its
    check accuracy is clearly below the best first-epoch accuracy so far (`EarlyStop`);
    it still informs the predictor but is never the pick.
    Every step is deterministic given the seeds, so resume=True replays the same decisions
    and trains only what is missing.

    The run is the one loop (`strategies.loop`): the `Autotune` strategy asks, the backend
    (`backend`: in this process, or `ray` with `workers` actors) trains, the study records and
    its pruner stops weak trials, so several workers or processes share one early-stopping
    state. Then the pick is tested once and reported.
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
        options=BackendOptions(backend, address, workers, gpus_per_trial, cpus_per_trial),
        pruner=_Pruner(),
    )
    target = Path(out) if out else runs_dir(job.study.study_name)
    adapters = target / "adapters"
    rule_es = EarlyStop(n_val=min(N_CHECK, len(job.task.validation))) if early_stop else None
    job.study.pruner.rule = rule_es  # type: ignore[attr-defined]
    strategy = Autotune(explore, verify, rule)
    strategy.reset(job.space, seed)
    recorder = StudyRecorder(
        job,
        strategy.phase,
        strategy.trial_attrs,
        adapters,
        total=explore + verify,
        early_stop=(rule_es.n_val, rule_es.z) if rule_es else None,
        remote=getattr(job.get_backend(), "remote", False),
    )
    try:
        run_loop(strategy, job.get_backend(), recorder)
        all_records = records(job.study)
        explored = [
            r for r in all_records if r.metrics.get("config_key") in strategy.explore_keys()
        ]
        verified = [r for r in all_records if r.metrics.get("config_key") in strategy.verify_keys()]
        predictions = strategy.predictions or []
        best = pick_best(all_records)
        if best is None:
            raise LoratuneError(
                "no trial finished all its epochs (failed or stopped early): "
                "see them with `loratune export`"
            )
        tested = test_pick(job, best, adapters)
    finally:
        job.close()
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
        surrogates=dict(strategy.predictor.chosen) if strategy.predictor else {},
        adapter_dir=kept,
    )
    if report:
        from loratune.report import write_report

        result.report_dir = write_report(result, job.space, target)
    return result


class _Pruner(EpochOnePruner):
    """The study's pruner; its rule is set once the validation split's size is known (None:
    early stopping is off, nothing is pruned)."""

    def __init__(self) -> None:
        self.rule: EarlyStop | None = None  # type: ignore[assignment]

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return self.rule is not None and super().prune(study, trial)
