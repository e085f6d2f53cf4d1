"""Task records shared by the domain generators and user data.

A task is three splits of (prompt, completion) pairs plus how to score them. Classification
tasks carry their label set (accuracy = the highest-likelihood label is the right one);
extraction tasks are scored by greedy decoding and a normalised exact match.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from loratune.errors import LoratuneError

TaskKind = Literal["classification", "extraction"]

# Kept short on purpose: every prompt token is paid for in every training step.
PROMPT_TEMPLATE = "{instruction}\nInput: {text}\nAnswer:"


@dataclass(frozen=True)
class Example:
    prompt: str
    completion: str  # the answer alone, without a leading space


@dataclass(frozen=True)
class Task:
    name: str
    kind: TaskKind
    train: tuple[Example, ...]
    validation: tuple[Example, ...]
    test: tuple[Example, ...]
    labels: tuple[str, ...] = ()
    source: str = "generator"

    def __post_init__(self) -> None:
        if self.kind not in ("classification", "extraction"):
            raise LoratuneError(f"task {self.name}: unknown kind {self.kind!r}")
        if self.kind == "classification" and len(self.labels) < 2:
            raise LoratuneError(f"task {self.name}: classification needs at least 2 labels")
        for split, rows in (("train", self.train), ("test", self.test)):
            if not rows:
                raise LoratuneError(f"task {self.name}: the {split} split is empty")


@dataclass(frozen=True)
class DomainSpec:
    """One domain generator: `sample(rng)` returns (input text, answer)."""

    name: str
    kind: TaskKind
    instruction: str
    sample: Callable[[random.Random], tuple[str, str]]
    labels: tuple[str, ...] = field(default=())
    description: str = ""


def format_prompt(instruction: str, text: str) -> str:
    return PROMPT_TEMPLATE.format(instruction=instruction, text=text)


def normalise_answer(text: str) -> str:
    """Case, spacing and trailing punctuation do not decide an extraction match."""
    text = text.strip().split("\n")[0].lower()
    text = re.sub(r"\s+", " ", text)
    return text.strip(" .;")


def build_task(
    spec: DomainSpec, seed: int = 0, n_train: int = 100, n_val: int = 32, n_test: int = 200
) -> Task:
    """Draw the three splits from one seeded stream, with no input text shared across splits.

    Duplicates are redrawn so a test score never rewards memorising a training example.
    """
    rng = random.Random(f"{spec.name}:{seed}")
    seen: set[str] = set()
    splits: list[list[Example]] = []
    for size in (n_train, n_val, n_test):
        rows: list[Example] = []
        attempts = 0
        while len(rows) < size:
            attempts += 1
            if attempts > 50 * size + 1000:
                raise LoratuneError(f"domain {spec.name}: cannot draw {size} distinct examples")
            text, answer = spec.sample(rng)
            if text in seen:
                continue
            seen.add(text)
            rows.append(Example(format_prompt(spec.instruction, text), answer))
        splits.append(rows)
    train, val, test = splits
    return Task(spec.name, spec.kind, tuple(train), tuple(val), tuple(test), spec.labels)
