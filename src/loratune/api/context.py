"""Shared set-up of a tuning job: space, task, study, model, and the loop that runs configs.

Inputs are all checked before the base model loads or the study is written, so bad input
costs a second, not a model load, and never touches recorded trials.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import optuna

from loratune.errors import LoratuneError
from loratune.executors import Executor, LocalExecutor, TrialHooks
from loratune.models import DEFAULT_MODEL, BaseModel, check_model_name, load_base_model
from loratune.provenance import provenance
from loratune.space import Config, Space, load_space
from loratune.study import (
    PROTOCOL,
    Storage,
    TrialRecord,
    fail_trial,
    finish_trial,
    mark_interrupted,
    open_study,
    records,
    start_trial,
    study_name,
)
from loratune.tasks import N_TEST, N_TRAIN, N_VAL, Task, get_task
from loratune.trainer import TrialFailed
from loratune.trainer.loop import EpochCallback


class Progress(Protocol):
    """What a front end hears while configs run; the CLI draws it with rich."""

    def trial_started(self, index: int, total: int, config: Config) -> None: ...
    def step(self, epoch: int, step: int, steps: int, loss: float) -> None: ...
    def trial_finished(self, record: TrialRecord) -> None: ...


class SilentProgress:
    def trial_started(self, index: int, total: int, config: Config) -> None:
        pass

    def step(self, epoch: int, step: int, steps: int, loss: float) -> None:
        pass

    def trial_finished(self, record: TrialRecord) -> None:
        pass


@dataclass
class Job:
    """Everything one sweep or autotune works with, resolved and validated."""

    domain: str
    model: str
    space: Space
    task: Task
    study: optuna.Study
    seed: int  # training seed (adapter init, dropout, batch order)
    device: str | None
    price_per_hour: float
    progress: Progress = field(default_factory=SilentProgress)
    executor: Executor | None = None
    data_seed: int = 0
    evaluate_test: bool = False  # a ground-truth grid scores every config on the test split

    @functools.cached_property
    def data_sha256(self) -> str:
        return self.task.fingerprint()

    def attrs(self) -> dict[str, Any]:
        return {"domain": self.domain, "model": self.model, "space": self.space.name}

    def get_executor(self) -> Executor:
        if self.executor is None:
            # The base model does not depend on the training seed (tiny-llama's random init
            # is fixed), so two training seeds differ only in what training does.
            base = cached_base_model(self.model, self.device, 0)
            self.executor = LocalExecutor(
                base, self.task, self.price_per_hour, evaluate_test=self.evaluate_test
            )
        return self.executor


@functools.lru_cache(maxsize=2)
def cached_base_model(name: str, device: str | None, seed: int) -> BaseModel:
    """One resident copy per process: later jobs on the same model skip the load."""
    return load_base_model(name, device=device, seed=seed)


def prepare_job(
    *,
    domain: str | None,
    data: str | Path | None,
    model: str,
    space: str | Path | Space,
    storage: Storage,
    study: str | None,
    kind: str,
    resume: bool,
    seed: int,
    device: str | None,
    price_per_hour: float,
    n_train: int | None = N_TRAIN,
    progress: Progress | None = None,
    executor: Executor | None = None,
    data_seed: int = 0,
    n_val: int | None = N_VAL,
    n_test: int | None = N_TEST,
    val_data: str | Path | None = None,
    test_data: str | Path | None = None,
    evaluate_test: bool = False,
) -> Job:
    if domain is None and data is None:
        raise LoratuneError("give a --domain, or --data with your own examples")
    if not math.isfinite(price_per_hour) or price_per_hour < 0:
        raise LoratuneError("price per hour must be a number >= 0")
    for name, value in (("--seed", seed), ("--data-seed", data_seed)):
        if not isinstance(value, int) or value < 0:
            raise LoratuneError(f"{name} must be an integer >= 0")
    check_model_name(model or DEFAULT_MODEL)
    task = get_task(
        domain,
        data=data,
        seed=data_seed,
        n_train=n_train,
        n_val=n_val,
        n_test=n_test,
        val_data=val_data,
        test_data=test_data,
    )
    described = task.describe()
    label = domain or task.name
    sp = space if isinstance(space, Space) else load_space(space)
    name = study or study_name(label, model, sp, kind)
    st = open_study(
        storage,
        name,
        {
            "domain": label,
            "model": model,
            "space": sp.name,
            "space_def": sp.to_dict(),
            "kind": kind,
            "seed": seed,
            "data_seed": data_seed,
            "task": described,
            "protocol": PROTOCOL,
        },
    )
    recorded = st.user_attrs.get("task") or {}
    if recorded.get("data_sha256") not in (None, described["data_sha256"]):
        raise LoratuneError(
            f"study {name!r} was recorded on other data (or other split sizes or data seed): "
            "use --study NAME for a new one"
        )
    if st.user_attrs.get("seed", seed) != seed:
        raise LoratuneError(
            f"study {name!r} was recorded with --seed {st.user_attrs['seed']}: "
            "resume it with that seed, or use --study NAME for a new one"
        )
    existing = records(st)
    if existing and not resume:
        raise LoratuneError(
            f"study {name!r} already has {len(existing)} trials: pass --resume to continue it, "
            "or --study NAME for a new one"
        )
    if resume:
        mark_interrupted(st)
    return Job(
        label,
        model,
        sp,
        task,
        st,
        seed,
        device,
        price_per_hour,
        progress or SilentProgress(),
        executor,
        data_seed=data_seed,
        evaluate_test=evaluate_test,
    )


def run_configs(
    job: Job,
    configs: Sequence[Config],
    phase: str,
    attrs: Sequence[dict[str, Any]] | None = None,
    keep_going: EpochCallback | None = None,
    save_dir: Path | None = None,
) -> list[TrialRecord]:
    """Train each config for real and record it; a failed trial is recorded and skipped past.

    `attrs[i]` is stored on config i's trial (autotune stores its prediction there).
    `keep_going(epoch, validation accuracy)` returning False stops a trial after that epoch
    (early stopping); the trial is recorded with `stopped_early` and the epochs it ran.
    With `save_dir`, each trial's adapter is saved in <save_dir>/trial-<number>.
    """
    executor = job.get_executor()
    done: list[TrialRecord] = []
    for i, planned in enumerate(configs):
        config = dataclasses.replace(planned, seed=job.seed)
        job.progress.trial_started(i, len(configs), config)
        extra = attrs[i] if attrs else {}
        trial = start_trial(
            job.study,
            job.space,
            config,
            {
                "phase": phase,
                "seed": job.seed,
                "data_seed": job.data_seed,
                "data_sha256": job.data_sha256,
                "split_sizes": [len(job.task.train), len(job.task.validation), len(job.task.test)],
                "provenance": provenance(),
                **extra,
            },
        )

        def on_epoch(epoch: int, acc: float, trial: optuna.Trial = trial) -> bool:
            trial.report(acc, epoch + 1)
            return keep_going is None or keep_going(epoch, acc)

        hooks = TrialHooks(on_step=job.progress.step, on_epoch=on_epoch)
        try:
            folder = save_dir / f"trial-{trial.number}" if save_dir else None
            result = executor.run(config, hooks, save_adapter=folder)
        except TrialFailed as exc:
            fail_trial(job.study, trial, str(exc))
        except BaseException:
            # Ctrl-C or a crash: leave a FAIL with no reason, so --resume runs it again.
            job.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        else:
            finish_trial(job.study, trial, result.accuracy, result.metrics())
        record = next(r for r in records(job.study) if r.number == trial.number)
        done.append(record)
        job.progress.trial_finished(record)
    return done
