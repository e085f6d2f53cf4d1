"""Tasks: the registered domain generators and user data, as train / validation / test splits."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from loratune.errors import LoratuneError
from loratune.tasks.base import (
    N_CHECK,
    N_TEST,
    N_TRAIN,
    N_VAL,
    DomainSpec,
    Example,
    Task,
    TaskKind,
    build_task,
    format_prompt,
    normalise_answer,
)
from loratune.tasks.metrics import (
    DEFAULT_METRIC,
    METRICS,
    Metric,
    Outputs,
    get_metric,
    register_metric,
    task_metric,
    unregister_metric,
)
from loratune.tasks.registry import REGISTRY, register, unregister

__all__ = [
    "DEFAULT_METRIC",
    "METRICS",
    "Metric",
    "Outputs",
    "get_metric",
    "register_metric",
    "task_metric",
    "unregister_metric",
    "N_CHECK",
    "N_TEST",
    "N_TRAIN",
    "N_VAL",
    "DomainSpec",
    "Example",
    "Task",
    "TaskKind",
    "build_task",
    "domain_names",
    "registered_domains",
    "format_prompt",
    "get_task",
    "normalise_answer",
    "register",
    "unregister",
]


def registered_domains() -> Mapping[str, DomainSpec]:
    """Every registered domain by name, in registration order: the built-ins first."""
    import loratune.tasks.domains  # noqa: F401  (registers the built-ins on first use)

    return REGISTRY


def domain_names() -> list[str]:
    return list(registered_domains())


def get_task(
    domain: str | None = None,
    data: str | Path | None = None,
    seed: int = 0,
    n_train: int | None = N_TRAIN,
    n_val: int | None = N_VAL,
    n_test: int | None = N_TEST,
    val_data: str | Path | None = None,
    test_data: str | Path | None = None,
) -> Task:
    """A generated domain task, or a task read from a user's JSONL/CSV file (or folder).

    `seed` is the data seed: it draws the generated examples, or shuffles the user's file
    into splits. A size of None means every row (user data only).
    """
    for name, size in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if size is not None and (not isinstance(size, int) or size < 1):
            raise LoratuneError(f"--{name.replace('_', '-')} must be a positive integer or 'all'")
    if data is not None:
        from loratune.tasks.userdata import load_user_task

        return load_user_task(
            data,
            seed=seed,
            n_train=n_train,
            n_val=n_val,
            n_test=n_test,
            val_data=val_data,
            test_data=test_data,
        )
    if val_data is not None or test_data is not None:
        raise LoratuneError("--val-data and --test-data go with --data, not a built-in domain")
    known = registered_domains()
    if domain not in known:
        raise LoratuneError(f"unknown domain {domain!r}: choose one of {', '.join(known)}")
    if n_train is None or n_val is None or n_test is None:
        raise LoratuneError("'all' is for your own data: a built-in domain needs sizes")
    return build_task(known[domain], seed=seed, n_train=n_train, n_val=n_val, n_test=n_test)
