"""Text helpers shared by the domain generators.

Every helper draws only from the `rng` it is given, so a domain's data depends on its seed
alone.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from string import Template

COMPANIES = (
    "Northwind",
    "Bluepeak",
    "Solvay Tech",
    "Harbor Foods",
    "Quantix",
    "Veritas Labs",
    "Redwood Retail",
    "Orbital Freight",
    "Lumen Health",
    "Copperline",
    "Atlas Robotics",
    "Greenfield Energy",
)


def fill(template: str, values: dict[str, str]) -> str:
    """`$name` placeholders, so code snippets may keep their own braces."""
    return Template(template).substitute(values)


def cap(text: str) -> str:
    return text[0].upper() + text[1:]


def join(parts: Sequence[str]) -> str:
    """The non-empty parts, space-separated (an empty opener or suffix leaves no gap)."""
    return " ".join(p for p in parts if p)


def other_label(rng: random.Random, labels: Sequence[str], label: str) -> str:
    """A label other than `label`, for a distractor that names it in passing."""
    return rng.choice([x for x in labels if x != label])


def arrange(rng: random.Random, main: str, extras: Sequence[str], k: int) -> str:
    """The main sentence with `k` distinct distractor sentences, in a random order."""
    parts = [*rng.sample(list(extras), k), main]
    rng.shuffle(parts)
    return " ".join(parts)


def instruction(what: str, labels: Sequence[str]) -> str:
    """A classification instruction that lists the labels: a zero-shot model is told them."""
    return f"Classify the {what} as one of: {', '.join(labels)}."


def passage(
    rng: random.Random, mains: Sequence[str], extras: Sequence[str], values: dict[str, str]
) -> str:
    """One main sentence and up to two distractors, shuffled, with `values` filled in.

    The draws run in a fixed order (main, count, distractors): a domain's data depends on it.
    """
    main = rng.choice(mains)
    k = rng.randint(0, 2)
    return fill(arrange(rng, main, extras, k), values)
