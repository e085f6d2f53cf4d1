"""`loratune.sweep`: train a list of configs of a space for real and record every one."""

from __future__ import annotations

from pathlib import Path

from loratune.api.context import Progress, prepare_job, run_configs
from loratune.api.pick import card_adapter, keep_adapters, pick_best, runs_dir
from loratune.errors import LoratuneError
from loratune.executors import Executor
from loratune.executors.options import BackendKind, BackendOptions
from loratune.models import DEFAULT_MODEL
from loratune.space import Space
from loratune.strategies import design_configs
from loratune.study import Storage, TrialRecord, records
from loratune.tasks import N_TEST, N_TRAIN, N_VAL


def sweep(
    domain: str | None = None,
    *,
    data: str | Path | None = None,
    model: str = DEFAULT_MODEL,
    space: str | Path | Space = "default",
    n: int | None = None,
    storage: Storage = None,
    study: str | None = None,
    resume: bool = False,
    seed: int = 0,
    device: str | None = None,
    price_per_hour: float = 0.0,
    n_train: int | None = N_TRAIN,
    n_val: int | None = N_VAL,
    n_test: int | None = N_TEST,
    data_seed: int = 0,
    val_data: str | Path | None = None,
    test_data: str | Path | None = None,
    progress: Progress | None = None,
    evaluate_test: bool = False,
    executor: Executor | None = None,
    design_seed: int | None = None,
    save: str = "none",
    out: str | Path | None = None,
    backend: BackendKind = "inprocess",
    address: str | None = None,
    workers: int = 1,
    gpus_per_trial: float = 0.0,
    cpus_per_trial: float = 1.0,
) -> list[TrialRecord]:
    """Run the whole grid, or `n` configs of it spread by a Sobol design; returns all records.

    With resume=True, configs already finished in the study are not run again. `design_seed`
    (default: `seed`) fixes the Sobol subset apart from the training seed, so that repeats of
    one subset under several seeds measure noise on the same configs. `backend="ray"` runs
    `workers` trials at once on Ray actors; several processes may share one study (each
    config is claimed before it trains, so none is trained twice).
    """
    if n is not None and n < 1:
        raise LoratuneError("--n must be >= 1")
    if save not in ("best", "verified", "all", "none"):
        raise LoratuneError(f"unknown --save {save!r}: use best, verified, all or none")
    job = prepare_job(
        domain=domain,
        data=data,
        model=model,
        space=space,
        storage=storage,
        study=study,
        kind="sweep",
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
        evaluate_test=evaluate_test,
        options=BackendOptions(backend, address, workers, gpus_per_trial, cpus_per_trial),
    )
    configs = (
        job.space.configs()
        if n is None
        else design_configs(job.space, n, seed if design_seed is None else design_seed)
    )
    target = Path(out) if out else runs_dir(job.study.study_name)
    adapters = target / "adapters" if save != "none" else None
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
        kept = keep_adapters(adapters, target, best, [best], recs, save)
        if kept is not None and kept.is_dir():
            tested = {"test_accuracy": best.test_accuracy}
            card_adapter(kept, job.study.study_name, best.number, tested, {})
    return records(job.study)
