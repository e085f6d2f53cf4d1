"""Task records shared by the domain generators and user data.

A task is three splits of (prompt, completion) pairs plus how to score them. Classification
tasks carry their label set (the prediction is the highest-likelihood label); extraction
tasks are answered by greedy decoding. The metric (`tasks.metrics`) turns the answers into
one number: accuracy unless the task was given another.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from loratune.errors import LoratuneError
from loratune.tasks.metrics import TaskKind, get_metric

# Kept short on purpose: every prompt token is paid for in every training step.
PROMPT_TEMPLATE = "{instruction}\nInput: {text}\nAnswer:"

# Split sizes of the built-in domains. Validation decides (the pick, the predictor's targets,
# verification) and must tell the top configs apart: at the top configs' accuracy (0.90-0.95)
# 256 examples give a standard error of 1.4-1.9 points, and paired differences between two
# top configs (which disagree on about 5-10% of examples) about 1.4-2 points; 32 gave 4-5.
# The test split only reports, and its standard error at the top configs must be at most
# about one point: 800 examples give 0.77 at 0.95 and 1.06 at 0.90 (docs/protocol.md).
N_TRAIN = 100
N_VAL = 256
N_TEST = 800
# Early stopping reads only this many validation examples after each epoch but the last: a
# cheap check, since the decision it feeds (stop a clearly weak trial) needs less precision.
N_CHECK = 64


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
    instruction: str = ""  # the prompt's first line; kept so a saved adapter can be tried
    data_seed: int = 0  # the seed that drew (or split) the examples
    # The metric tuned for (`tasks.metrics`); empty: the kind's default, accuracy.
    metric: str = ""

    def fingerprint(self) -> str:
        """sha256 of every example of every split: two runs on equal data share it."""
        h = hashlib.sha256()
        for split in (self.train, self.validation, self.test):
            h.update(json.dumps([[e.prompt, e.completion] for e in split]).encode())
            h.update(b"|")
        return h.hexdigest()

    def describe(self) -> dict[str, object]:
        """What a trial or a saved adapter records of its task."""
        return {
            "name": self.name,
            "kind": self.kind,
            "instruction": self.instruction,
            "labels": list(self.labels),
            # A user's extraction rows are trained on their prompts as written.
            "prompt_template": PROMPT_TEMPLATE if self.instruction else "{text}",
            "source": self.source,
            "data_seed": self.data_seed,
            "n_train": len(self.train),
            "n_val": len(self.validation),
            "n_test": len(self.test),
            "data_sha256": self.fingerprint(),
            "metric": self.metric or "accuracy",
        }

    def __post_init__(self) -> None:
        if self.kind not in ("classification", "extraction"):
            raise LoratuneError(f"task {self.name}: unknown kind {self.kind!r}")
        if self.kind == "classification" and len(self.labels) < 2:
            raise LoratuneError(f"task {self.name}: classification needs at least 2 labels")
        for split, rows in (("train", self.train), ("validation", self.validation)):
            if not rows:
                raise LoratuneError(f"task {self.name}: the {split} split is empty")
        if self.metric:
            get_metric(self.metric, self.kind)


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
    spec: DomainSpec,
    seed: int = 0,
    n_train: int = N_TRAIN,
    n_val: int = N_VAL,
    n_test: int = N_TEST,
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
    return Task(
        spec.name,
        spec.kind,
        tuple(train),
        tuple(val),
        tuple(test),
        spec.labels,
        instruction=spec.instruction,
        data_seed=seed,
    )
