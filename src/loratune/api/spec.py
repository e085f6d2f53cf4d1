"""What a tuning job is, as one validated record: the task, the model, the space, the budget,
the seeds, the storage and the backend.

The CLI and the Python API both build a `JobSpec` once and hand it to `autotune` or `sweep`;
every check of the caller's input runs here, in `__post_init__`, before the base model loads
or a study is written, so bad input costs a second and never touches recorded trials.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from loratune.errors import LoratuneError
from loratune.executors.options import BackendOptions
from loratune.models import DEFAULT_MODEL, check_device, check_model_name
from loratune.space import Space, load_space
from loratune.strategies.autotune import VerifyRule
from loratune.strategies.registry import DEFAULT_STRATEGY, check_name
from loratune.strategies.warm import DEFAULT_CEILING
from loratune.study import Storage
from loratune.tasks import METRICS, N_TEST, N_TRAIN, N_VAL

DEFAULT_EXPLORE = 12
DEFAULT_VERIFY = 5
# Chosen by the race on the recorded grids (benchmarks/RESULTS.md; docs/measurements.md).
DEFAULT_EARLY_STOP = True
MAX_SEED = 2**32 - 1  # scikit-learn and numpy's legacy generators take seeds below 2**32

Kind = Literal["autotune", "sweep"]
SaveRule = Literal["best", "verified", "all", "none"]
SAVE_RULES = ("best", "verified", "all", "none")


def check_seed(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise LoratuneError(f"{name} must be an integer from 0 to {MAX_SEED} (got {value})")


@dataclass(frozen=True)
class TaskSpec:
    """The examples: a built-in domain, or the user's files, split by size and data seed.

    A size of None takes all of the user's examples; the validation and test files, when
    given, replace the splits drawn from `data`."""

    domain: str | None = None
    data: str | Path | None = None
    val_data: str | Path | None = None
    test_data: str | Path | None = None
    n_train: int | None = N_TRAIN
    n_val: int | None = N_VAL
    n_test: int | None = N_TEST
    data_seed: int = 0  # draws a domain's examples, or splits the user's file

    def __post_init__(self) -> None:
        if self.domain is None and self.data is None:
            raise LoratuneError("give a --domain, or --data with your own examples")
        for name, n in (("--n-train", self.n_train), ("--n-val", self.n_val)):
            if n is not None and n < 1:
                raise LoratuneError(f"{name} must be a positive integer or 'all' (got {n})")
        if self.n_test is not None and self.n_test < 1:
            raise LoratuneError(f"--n-test must be a positive integer or 'all' (got {self.n_test})")
        check_seed("--data-seed", self.data_seed)


@dataclass(frozen=True)
class Budget:
    """How autotune spends its trials: `explore` by a space-filling design, then `verify` chosen
    by `rule`; `strategy` names another strategy of the registry to run instead."""

    explore: int = DEFAULT_EXPLORE
    verify: int = DEFAULT_VERIFY
    rule: VerifyRule = "top-k"
    early_stop: bool = DEFAULT_EARLY_STOP
    strategy: str = DEFAULT_STRATEGY
    # The noise-aware last step (docs/protocol.md): 0 is off; K >= 2 retrains the top K
    # with another training seed when the pick is within validation noise of the runner-up.
    separate: int = 0
    # What the default strategy starts from (`api.prior`): "auto", "none" (the cold start:
    # Sobol `explore`, verify `verify`) or a prior file. With a prior, the warm start runs
    # `portfolio` prior configs, then stops on evidence or at `ceiling` trials (at most
    # explore + verify).
    prior: str = "auto"
    ceiling: int = DEFAULT_CEILING

    def __post_init__(self) -> None:
        if self.separate != 0 and self.separate < 2:
            raise LoratuneError(f"--separate must be 0 (off) or >= 2 (got {self.separate})")
        if self.explore < 2:
            raise LoratuneError("--explore must be >= 2: the predictor needs two trials")
        if self.verify < 1:
            raise LoratuneError("--verify must be >= 1")
        if self.ceiling < 1:
            raise LoratuneError("--ceiling must be >= 1")
        if self.prior not in ("auto", "none") and not Path(self.prior).is_file():
            raise LoratuneError(f"--prior {self.prior}: no such file (use auto, none or a file)")
        if self.rule not in ("top-k", "ei"):
            raise LoratuneError(f"unknown verify rule {self.rule!r}: use top-k or ei")


@dataclass(frozen=True)
class SweepPlan:
    """Which configs a sweep trains: all, or `n` spread by a Sobol design drawn with
    `design_seed` (None: the training seed); `evaluate_test` scores each on the test split
    too (a ground-truth grid)."""

    n: int | None = None
    design_seed: int | None = None
    evaluate_test: bool = False

    def __post_init__(self) -> None:
        if self.n is not None and self.n < 1:
            raise LoratuneError("--n must be >= 1")
        if self.design_seed is not None:
            check_seed("--design-seed", self.design_seed)


@dataclass(frozen=True)
class JobSpec:
    """One tuning job, checked as a whole. `save` None keeps the kind's default: the pick's
    adapter for autotune, none for a sweep."""

    task: TaskSpec
    kind: Kind = "autotune"
    model: str = DEFAULT_MODEL
    space: str | Path | Space = "default"
    budget: Budget = field(default_factory=Budget)
    plan: SweepPlan = field(default_factory=SweepPlan)
    seed: int = 0  # training seed: adapter init, dropout, batch order; the design
    storage: Storage = None
    study: str | None = None
    grid_study: str | None = None  # a full-grid sweep study to validate against
    resume: bool = False
    device: str | None = None
    price_per_hour: float = 0.0
    save: SaveRule | None = None
    out: str | Path | None = None
    report: bool = True
    backend: BackendOptions = field(default_factory=BackendOptions)
    # What validation decides by (`tasks.metrics`); None: the task's default, accuracy. Whether
    # it applies to the task's kind is checked once the task is read (`prepare_job`).
    metric: str | None = None

    def __post_init__(self) -> None:
        if self.metric is not None:
            METRICS.lookup(self.metric)
        if self.kind not in ("autotune", "sweep"):
            raise LoratuneError(f"unknown job kind {self.kind!r}: autotune or sweep")
        if self.save is not None and self.save not in SAVE_RULES:
            raise LoratuneError(f"unknown --save {self.save!r}: use best, verified, all or none")
        self.backend.check(self.storage)
        if not math.isfinite(self.price_per_hour) or self.price_per_hour < 0:
            raise LoratuneError("price per hour must be a number >= 0")
        check_seed("--seed", self.seed)
        check_model_name(self.model or DEFAULT_MODEL)
        if self.backend.kind == "inprocess":  # on Ray the workers' devices count, not the driver's
            check_device(self.device)
        if self.out is not None and Path(self.out).exists() and not Path(self.out).is_dir():
            raise LoratuneError(f"--out {self.out}: is a file, not a folder")
        n_configs = len(self.grid)
        if self.kind == "autotune":
            explore, verify = self.budget.explore, self.budget.verify
            if explore + verify > n_configs:
                asked = f"--explore {explore} + --verify {verify} = {explore + verify} configs"
                every = f"train all {n_configs} with `loratune sweep`"
                if n_configs < 3:  # the predictor needs 2 explored and there must be 1 to verify
                    raise LoratuneError(f"{asked}, but the grid has {n_configs}: {every}")
                fit = max(2, n_configs // 2)
                raise LoratuneError(
                    f"{asked}, but the grid has {n_configs}: lower them "
                    f"(--explore {fit} --verify {min(verify, n_configs - fit)} fits), or {every}"
                )
            check_name(self.budget.strategy)

    @functools.cached_property
    def grid(self) -> Space:
        """The space, loaded (and checked) once."""
        return self.space if isinstance(self.space, Space) else load_space(self.space)

    @property
    def keep(self) -> SaveRule:
        """The adapters to keep."""
        if self.save is not None:
            return self.save
        return "best" if self.kind == "autotune" else "none"

    @classmethod
    def given(cls, spec: JobSpec | str | None, kind: Kind, options: dict[str, Any]) -> JobSpec:
        """What `autotune(spec, **options)` and `sweep(...)` were given, as a spec of `kind`:
        a spec as it is, or a domain (or None) with flat keywords (`from_options`)."""
        if not isinstance(spec, JobSpec):
            return cls.from_options(spec, kind=kind, **options)
        if options:
            raise TypeError("give a JobSpec or keyword options, not both")
        if spec.kind != kind:
            raise LoratuneError(f"{kind} needs a job spec of kind {kind!r}, not {spec.kind!r}")
        return spec

    @classmethod
    def from_options(cls, domain: str | None = None, **options: Any) -> JobSpec:
        """A spec from flat keywords, as `loratune.autotune(domain, explore=6, ...)` takes them:
        each keyword goes to the part that has a field of its name (`backend` names the
        backend's kind)."""
        parts: dict[type, dict[str, Any]] = {TaskSpec: {"domain": domain}, Budget: {}}
        parts.update({SweepPlan: {}, BackendOptions: {}})
        top = {f.name for f in dataclasses.fields(cls)} - {"task", "budget", "plan", "backend"}
        rest: dict[str, Any] = {}
        for name, value in options.items():
            owner = next((t for t in parts if name in _field_names(t)), None)
            if name in top:  # `kind` is the job's; the backend's kind comes as `backend`
                rest[name] = value
            elif name == "backend":
                parts[BackendOptions]["kind"] = value
            elif owner is not None:
                parts[owner][name] = value
            else:
                raise TypeError(f"unexpected keyword argument {name!r}")
        return cls(
            task=TaskSpec(**parts[TaskSpec]),
            budget=Budget(**parts[Budget]),
            plan=SweepPlan(**parts[SweepPlan]),
            backend=BackendOptions(**parts[BackendOptions]),
            **rest,
        )


@functools.cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


__all__ = [
    "DEFAULT_EARLY_STOP",
    "DEFAULT_EXPLORE",
    "DEFAULT_VERIFY",
    "Budget",
    "JobSpec",
    "SweepPlan",
    "TaskSpec",
]
