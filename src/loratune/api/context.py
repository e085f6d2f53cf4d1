"""Shared set-up of a tuning job: space, task, study, model, and the loop that runs configs.

Inputs are all checked before the base model loads or the study is written, so bad input
costs a second, not a model load, and never touches recorded trials.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import optuna

from loratune.errors import LoratuneError
from loratune.executors import Executor, LocalExecutor
from loratune.executors.base import Backend
from loratune.executors.options import BackendOptions
from loratune.models import (
    DEFAULT_MODEL,
    BaseModel,
    check_device,
    check_model_name,
    load_base_model,
)
from loratune.space import Config, Space, load_space
from loratune.study import (
    PROTOCOL,
    Storage,
    TrialRecord,
    mark_interrupted,
    open_study,
    records,
    study_name,
)
from loratune.tasks import N_TEST, N_TRAIN, N_VAL, Task, get_task
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
    storage: Storage = None  # the study's storage as given (its URL is what workers open)
    options: BackendOptions = field(default_factory=BackendOptions)
    backend: Backend | None = None

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

    def get_backend(self) -> Backend:
        """Where trials run: in this process (default), or on Ray actors."""
        if self.backend is None:
            if self.options.kind == "ray" and self.executor is None:
                from loratune.executors.ray_backend import RayBackend

                self.backend = RayBackend(
                    self.options,
                    self.model,
                    self.device,
                    self.task,
                    self.price_per_hour,
                    self.evaluate_test,
                )
            else:
                from loratune.executors.inprocess import InProcessBackend

                self.backend = InProcessBackend(self.get_executor(), on_step=self.progress.step)
        return self.backend

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()
            self.backend = None


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
    pruner: optuna.pruners.BasePruner | None = None,
    options: BackendOptions | None = None,
) -> Job:
    options = options or BackendOptions()
    options.check(storage)
    if domain is None and data is None:
        raise LoratuneError("give a --domain, or --data with your own examples")
    if not math.isfinite(price_per_hour) or price_per_hour < 0:
        raise LoratuneError("price per hour must be a number >= 0")
    for name, value in (("--seed", seed), ("--data-seed", data_seed)):
        if not isinstance(value, int) or value < 0:
            raise LoratuneError(f"{name} must be an integer >= 0")
    check_model_name(model or DEFAULT_MODEL)
    if options.kind == "inprocess":  # on Ray the workers' devices count, not the driver's
        check_device(device)
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
        pruner=pruner,
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
        storage=storage,
        options=options,
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

    `attrs[i]` is stored on config i's trial. `keep_going(epoch, validation accuracy)`
    returning False stops a trial after that epoch (early stopping); the trial is recorded
    with `stopped_early` and the epochs it ran. With `save_dir`, each trial's adapter is
    saved in <save_dir>/trial-<number>. A config another process holds is left to it.
    """
    from loratune.api.record import StudyRecorder
    from loratune.space import config_key
    from loratune.strategies.loop import run_loop
    from loratune.strategies.race.base import Listed

    extra = {config_key(c): a for c, a in zip(configs, attrs, strict=True)} if attrs else {}

    class Run(Listed):
        def on_epoch(self, config: Config, epoch: int, val_acc: float) -> bool:
            return keep_going is None or keep_going(epoch, val_acc)

    strategy = Run(configs)
    strategy.reset(job.space, job.seed)
    recorder = StudyRecorder(
        job,
        lambda c: phase,
        lambda c: extra.get(config_key(c), {}),
        save_dir,
        total=len(configs),
        remote=getattr(job.get_backend(), "remote", False),
    )
    run_loop(strategy, job.get_backend(), recorder)
    return recorder.finished
