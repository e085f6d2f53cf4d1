"""The noise-aware last step's decisions, pure: is the pick told apart from the runner-up on
validation, and which adapter to keep once the top configs are trained with a second seed.

The step keeps the best adapter (`keep_best_adapter`). Pooling each config's two seeds
(`pool_seeds`) was the first design; the replay on customer_support's training-noise subset
showed that a run's luck is the adapter's own (its validation and test residuals correlate
0.70), so pooling trades the lucky adapter for a config average the deployed adapter does not
have (benchmarks/SEPARATION.md). `pool_seeds` stays for that comparison.

`api.separate` applies them to real trials; the race's separation analysis
(`race.separation`) applies them to recorded rows, so both decide alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from loratune import stats
from loratune.stats import DISTINGUISHABLE_P


@dataclass(frozen=True)
class SeedScore:
    """One trained config's validation result: exact counts, and "1"/"0" per example ("" where
    per-example hits were not recorded)."""

    correct: int
    total: int
    hits: str = ""


def mcnemar_p(a: SeedScore, b: SeedScore) -> float | None:
    """Exact McNemar p of `a` against `b` on the same validation examples; None without hits."""
    if not a.hits or not b.hits or len(a.hits) != len(b.hits):
        return None
    return stats.paired_difference(a.hits, b.hits).p


@dataclass(frozen=True)
class Pooled:
    """The top configs' counts over both seeds, the one that pools best, and whether it is
    told apart from the next (McNemar over both seeds' hits)."""

    pick: int  # index into the first ranking
    correct: tuple[int, ...]
    total: tuple[int, ...]
    p_after: float | None
    distinguishable: bool


def pool_seeds(first: Sequence[SeedScore], second: Sequence[SeedScore | None]) -> Pooled:
    """Pool each config's first-seed score (`first`, best validation first) with its
    second-seed one (None where that trial failed or stopped) and pick the best.

    Pooled accuracy is an exact fraction: the same as comparing counts when every config has
    both seeds (one validation split), and fair to one whose second trial failed. A tie goes
    to the earlier in the first ranking.
    """
    if len(first) != len(second) or len(first) < 2:
        raise ValueError("pool_seeds needs two or more configs, each with its second seed or None")
    pooled = []
    for a, b in zip(first, second, strict=True):
        if b is None:
            pooled.append(a)
        else:
            hits = a.hits + b.hits if a.hits and b.hits else ""
            pooled.append(SeedScore(a.correct + b.correct, a.total + b.total, hits))
    order = sorted(
        range(len(first)),
        key=lambda i: (Fraction(pooled[i].correct, pooled[i].total or 1), -i),
        reverse=True,
    )
    best, runner = pooled[order[0]], pooled[order[1]]
    p_after = mcnemar_p(best, runner)
    return Pooled(
        pick=order[0],
        correct=tuple(p.correct for p in pooled),
        total=tuple(p.total for p in pooled),
        p_after=p_after,
        distinguishable=p_after is not None and p_after < DISTINGUISHABLE_P,
    )


@dataclass(frozen=True)
class Kept:
    """The adapter the step keeps: config `pick` (index into the first ranking) trained with
    the first seed (`second` False) or the second, and whether it is told apart from the next
    best adapter (McNemar on their validation hits)."""

    pick: int
    second: bool
    p_after: float | None
    distinguishable: bool


def keep_best_adapter(first: Sequence[SeedScore], second: Sequence[SeedScore | None]) -> Kept:
    """Of the top configs' adapters, first seed (`first`, best validation first) and second
    seed (`second`, None where that trial failed or stopped), the one with the most validation
    examples right; a tie goes to the first seed, then to the earlier in the first ranking."""
    if len(first) != len(second) or len(first) < 2:
        raise ValueError(
            "keep_best_adapter needs two or more configs, each with its second seed or None"
        )
    adapters = [(a, i, False) for i, a in enumerate(first)]
    adapters += [(b, i, True) for i, b in enumerate(second) if b is not None]
    order = sorted(
        adapters,
        key=lambda a: (Fraction(a[0].correct, a[0].total or 1), not a[2], -a[1]),
        reverse=True,
    )
    (best, pick, again), (runner, _, _) = order[0], order[1]
    p_after = mcnemar_p(best, runner)
    return Kept(pick, again, p_after, p_after is not None and p_after < DISTINGUISHABLE_P)


__all__ = [
    "DISTINGUISHABLE_P",
    "Kept",
    "Pooled",
    "SeedScore",
    "keep_best_adapter",
    "mcnemar_p",
    "pool_seeds",
]
