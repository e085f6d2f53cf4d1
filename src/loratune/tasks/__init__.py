"""Tasks: the twelve domain generators and user data, as train / validation / test splits."""

from __future__ import annotations

from pathlib import Path

from loratune.errors import LoratuneError
from loratune.tasks.base import (
    DomainSpec,
    Example,
    Task,
    TaskKind,
    build_task,
    format_prompt,
    normalise_answer,
)

__all__ = [
    "DomainSpec",
    "Example",
    "Task",
    "TaskKind",
    "build_task",
    "domain_names",
    "format_prompt",
    "get_task",
    "normalise_answer",
]


def domain_names() -> list[str]:
    from loratune.tasks.domains import DOMAINS

    return list(DOMAINS)


def get_task(
    domain: str | None = None,
    data: str | Path | None = None,
    seed: int = 0,
    n_train: int = 100,
    n_val: int = 32,
    n_test: int = 200,
) -> Task:
    """A generated domain task, or a task read from a user's JSONL/CSV file."""
    if data is not None:
        from loratune.tasks.userdata import load_user_task

        return load_user_task(data, seed=seed, n_train=n_train, n_val=n_val, n_test=n_test)
    from loratune.tasks.domains import DOMAINS

    if domain not in DOMAINS:
        raise LoratuneError(f"unknown domain {domain!r}: choose one of {', '.join(DOMAINS)}")
    return build_task(DOMAINS[domain], seed=seed, n_train=n_train, n_val=n_val, n_test=n_test)
