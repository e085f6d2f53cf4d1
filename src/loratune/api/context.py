"""Shared set-up of a tuning job: space, task, study, model, and the loop that runs configs.

Inputs are all checked before the base model loads or the study is written, so bad input
costs a second, not a model load, and never touches recorded trials.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from typing import Protocol

import optuna

from loratune.api.spec import JobSpec
from loratune.errors import LoratuneError
from loratune.executors import Executor, LocalExecutor
from loratune.executors.base import Backend
from loratune.models import BaseModel, load_base_model
from loratune.space import Config, Space
from loratune.study import (
    PROTOCOL,
    Storage,
    TrialRecord,
    mark_interrupted,
    name_objective,
    open_study,
    records,
    study_name,
)
from loratune.tasks import Metric, Task, get_task, task_metric


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

    spec: JobSpec
    domain: str  # the domain, or the user's data's name
    task: Task
    study: optuna.Study
    progress: Progress = field(default_factory=SilentProgress)
    executor: Executor | None = None
    backend: Backend | None = None

    @property
    def space(self) -> Space:
        return self.spec.grid

    @property
    def metric(self) -> Metric:
        """What validation decides by: the task carries it to every executor and worker."""
        return task_metric(self.task)

    @property
    def seed(self) -> int:
        """The training seed (adapter init, dropout, batch order)."""
        return self.spec.seed

    @property
    def data_seed(self) -> int:
        return self.spec.task.data_seed

    @property
    def storage(self) -> Storage:
        """The study's storage as given (its URL is what workers open)."""
        return self.spec.storage

    @property
    def evaluate_test(self) -> bool:
        """A ground-truth grid scores every config on the test split."""
        return self.spec.kind == "sweep" and self.spec.plan.evaluate_test

    @functools.cached_property
    def data_sha256(self) -> str:
        return self.task.fingerprint()

    def get_executor(self) -> Executor:
        if self.executor is None:
            # The base model does not depend on the training seed (tiny-llama's random init
            # is fixed), so two training seeds differ only in what training does.
            base = cached_base_model(self.spec.model, self.spec.device, 0)
            self.executor = LocalExecutor(
                base, self.task, self.spec.price_per_hour, evaluate_test=self.evaluate_test
            )
        return self.executor

    def get_backend(self) -> Backend:
        """Where trials run: in this process (default), or on Ray actors."""
        if self.backend is None:
            spec = self.spec
            if spec.backend.kind == "ray" and self.executor is None:
                from loratune.executors.ray_backend import RayBackend

                self.backend = RayBackend(
                    spec.backend,
                    spec.model,
                    spec.device,
                    self.task,
                    spec.price_per_hour,
                    self.evaluate_test,
                    deadlines=spec.backend.deadlines(),
                )
            else:
                from loratune.executors.inprocess import InProcessBackend

                self.backend = InProcessBackend(
                    self.get_executor(),
                    on_step=self.progress.step,
                    deadlines=spec.backend.deadlines(),
                )
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
    spec: JobSpec,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> Job:
    """Load the task and open (or create) the study; the spec checked the rest already."""
    t = spec.task
    task = get_task(
        t.domain,
        data=t.data,
        seed=t.data_seed,
        n_train=t.n_train,
        n_val=t.n_val,
        n_test=t.n_test,
        val_data=t.val_data,
        test_data=t.test_data,
    )
    if spec.metric is not None:  # the task checks that the metric applies to its kind
        task = dataclasses.replace(task, metric=spec.metric)
    metric = task_metric(task).name
    if spec.kind == "autotune" and spec.budget.separate and metric != "accuracy":
        raise LoratuneError(
            f"--separate compares adapters example by example (McNemar on accuracy's hits); "
            f"--metric {metric} has none: drop --separate or tune for accuracy"
        )
    described = task.describe()
    label = t.domain or task.name
    sp = spec.grid
    name = spec.study or study_name(label, spec.model, sp, spec.kind)
    st = open_study(
        spec.storage,
        name,
        {
            "domain": label,
            "model": spec.model,
            "space": sp.name,
            "space_def": sp.to_dict(),
            "kind": spec.kind,
            "seed": spec.seed,
            "data_seed": t.data_seed,
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
    if st.user_attrs.get("seed", spec.seed) != spec.seed:
        raise LoratuneError(
            f"study {name!r} was recorded with --seed {st.user_attrs['seed']}: "
            "resume it with that seed, or use --study NAME for a new one"
        )
    recorded_kind = st.user_attrs.get("kind")
    if recorded_kind not in (None, spec.kind):
        # An autotune resumed on a sweep's study took the sweep's trials for its own and then
        # looked for adapters a sweep never saved.
        hint = (
            f"; --grid-study {name} compares autotune with it" if recorded_kind == "sweep" else ""
        )
        raise LoratuneError(
            f"study {name!r} was recorded by loratune {recorded_kind}, not {spec.kind}: use "
            f"--study NAME for a new one{hint}"
        )
    recorded_space = st.user_attrs.get("space_def")
    if recorded_space is not None and recorded_space != json.loads(json.dumps(sp.to_dict())):
        # Optuna cannot resume a study whose categorical choices changed (it raised "does not
        # support dynamic value space" mid-run), and the trials would not be one grid's.
        raise LoratuneError(
            f"study {name!r} was recorded on another space ({st.user_attrs.get('space')!r}, "
            "or the same name with other values): resume it with that space, or use --study "
            "NAME for a new one"
        )
    existing = records(st)
    # A study records its metric; one from before metrics were objects was tuned for accuracy.
    recorded_metric = st.user_attrs.get("metric") or ("accuracy" if existing else None)
    if recorded_metric not in (None, metric):
        raise LoratuneError(
            f"study {name!r} was tuned for --metric {recorded_metric}: resume it with that "
            "metric, or use --study NAME for a new one"
        )
    if st.user_attrs.get("metric") is None:
        st.set_user_attr("metric", metric)
    name_objective(st, metric)  # Optuna's name of the value: "validation_accuracy"
    if existing and not spec.resume:
        raise LoratuneError(
            f"study {name!r} already has {len(existing)} trials: pass --resume to continue it, "
            "or --study NAME for a new one"
        )
    if spec.resume:
        mark_interrupted(st)
    return Job(spec, label, task, st, progress or SilentProgress(), executor)
