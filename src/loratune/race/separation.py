"""Does the noise-aware last step (`--separate K`) pay? A replay on a noise subset.

The race proper cannot say: its grids hold one training seed per config, and the step trains
its top K again with the next seed. A noise subset (20 configs of a grid recorded again with
training seed 1, `<domain>-seed1.jsonl`) holds exactly that second seed. Here a search over
the subset draws `budget` configs at random (the whole subset: exhaustive search), picks the
one with the most validation examples right, and, with the step on, applies the step's own
decisions (`strategies.separate`, as `api.separate` does) to its top K, reading the seed-1
rows for the extra trials: the step keeps the best of the 2K adapters by validation
(`keep_best_adapter`; a tie goes to the first seed, then to the first ranking). The first
design, pooling each config's two seeds and deploying the pooled best config's first-seed
adapter (`pool_seeds`), is replayed beside it. Validation decides; two judges read test
accuracy, never seen by a decision:

- the deployed adapter: its test accuracy (what the user gets), against the subset's best
  first-seed adapter, so a kept second-seed adapter can score a regret below 0;
- the config: its test accuracy averaged over every training seed recorded for it (what the
  config is worth beyond one adapter's luck).

Regret on each judge is against the subset's best on that judge; compute is the charged
seconds of the trials run (the extra ones included) over the subset's total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy import stats as sps

from loratune.race.compare import mean_ci
from loratune.race.run import SUCCESS_WITHIN, test_score, val_score, within
from loratune.strategies.separate import (
    DISTINGUISHABLE_P,
    SeedScore,
    keep_best_adapter,
    mcnemar_p,
    pool_seeds,
)

Rows = Mapping[str, Mapping[str, Any]]  # config key -> recorded row


@dataclass(frozen=True)
class SeparationRun:
    """One search on the subset, its pick without and with the step."""

    budget: int
    seed: int
    exhaustive: bool  # every config of the subset, in grid order
    triggered: bool  # the top K were within noise: the extra trials were spent
    changed: bool  # pooling picked another config
    kept_changed: bool  # the kept adapter is not the plain pick's
    regret_plain: float  # deployed-adapter judge, accuracy (fraction)
    regret_pooled: float
    config_regret_plain: float  # config judge (mean over training seeds)
    config_regret_pooled: float
    regret_kept: float  # the step as shipped: the best of the 2K adapters by validation
    config_regret_kept: float
    success_plain: bool
    success_pooled: bool
    success_kept: bool
    compute_plain: float  # charged seconds / the subset's first-seed total
    compute_with_step: float


def _score(row: Mapping[str, Any]) -> SeedScore:
    return SeedScore(int(row["val_correct"]), int(row["val_total"]), str(row.get("val_hits") or ""))


def _charged(row: Mapping[str, Any]) -> float:
    return float(row.get("charged_seconds") or 0.0)


def subset_keys(first: Rows, second: Rows) -> list[str]:
    """The configs with both seeds recorded, in the first seed's grid order."""
    return [k for k in first if k in second]


def replay(
    first: Rows,
    second: Rows,
    others: Sequence[Rows] = (),
    budget: int | None = None,
    k: int = 3,
    seed: int = 0,
    margin: float = SUCCESS_WITHIN,
) -> SeparationRun:
    """One random search of `budget` configs of the subset, judged without and with the step
    on its top `k`; with `budget` None, exhaustive search (every config, in grid order; the
    seed plays no part). `others` are further training seeds, read only by the config judge."""
    keys = subset_keys(first, second)
    if len(keys) < 2 or k < 2:
        raise ValueError("separation needs at least 2 configs with both seeds, and k >= 2")
    if budget is None:
        b, drawn = len(keys), list(keys)
    else:
        b = min(budget, len(keys))
        drawn = [keys[i] for i in np.random.default_rng([seed, b]).permutation(len(keys))[:b]]
    # Validation order; the earlier drawn wins a tie (the race's pick_by_validation).
    ranked = sorted(range(b), key=lambda i: (val_score(first[drawn[i]]), -i), reverse=True)
    top = [drawn[i] for i in ranked[:k]]
    plain = top[0]
    spent = sum(_charged(first[key]) for key in drawn)
    scores = [_score(first[key]) for key in top]
    # Told apart already (or nothing to tell apart): the step spends nothing.
    p_before = mcnemar_p(scores[0], scores[1]) if len(top) > 1 else None
    triggered = len(top) > 1 and not (p_before is not None and p_before < DISTINGUISHABLE_P)
    pooled_key, extra = plain, 0.0
    kept_key, kept_row = plain, first[plain]
    if triggered:
        pooled = pool_seeds(scores, [_score(second[key]) for key in top])
        pooled_key = top[pooled.pick]
        extra = sum(_charged(second[key]) for key in top)
        kept = keep_best_adapter(scores, [_score(second[key]) for key in top])
        kept_key = top[kept.pick]
        kept_row = (second if kept.second else first)[kept_key]

    test_best = max(test_score(first[key]) for key in keys)
    config_test = {key: _config_test(key, [first, second, *others]) for key in keys}
    config_best = max(config_test.values())
    total = sum(_charged(first[key]) for key in keys)
    return SeparationRun(
        budget=b,
        seed=seed,
        exhaustive=budget is None,
        triggered=triggered,
        changed=pooled_key != plain,
        kept_changed=kept_row is not first[plain],
        regret_plain=float(test_best - test_score(first[plain])),
        regret_pooled=float(test_best - test_score(first[pooled_key])),
        config_regret_plain=float(config_best - config_test[plain]),
        config_regret_pooled=float(config_best - config_test[pooled_key]),
        regret_kept=float(test_best - test_score(kept_row)),
        config_regret_kept=float(config_best - config_test[kept_key]),
        success_plain=within(test_score(first[plain]), test_best, margin),
        success_pooled=within(test_score(first[pooled_key]), test_best, margin),
        success_kept=within(test_score(kept_row), test_best, margin),
        compute_plain=spent / total if total else 0.0,
        compute_with_step=(spent + extra) / total if total else 0.0,
    )


def _config_test(key: str, seeds: Sequence[Rows]) -> Fraction:
    """The config's test accuracy averaged over the training seeds that recorded it."""
    values = [test_score(rows[key]) for rows in seeds if key in rows]
    return sum(values, Fraction(0)) / len(values)


def summarise(runs: Sequence[SeparationRun]) -> dict[str, Any]:
    """Means over the runs of one budget, and the step's paired effect on each judge:
    Δ = regret with the step - regret without (negative: the step helped), with its 95%
    interval (bootstrap over runs) and a two-sided Wilcoxon signed-rank p over the runs the
    step changed."""
    if not runs:
        raise ValueError("no runs to summarise")
    out: dict[str, Any] = {
        "budget": runs[0].budget,
        "exhaustive": runs[0].exhaustive,
        "runs": len(runs),
        "triggered": sum(r.triggered for r in runs),
        "changed": sum(r.changed for r in runs),
        "kept_changed": sum(r.kept_changed for r in runs),
        "compute_plain": float(np.mean([r.compute_plain for r in runs])),
        "compute_with_step": float(np.mean([r.compute_with_step for r in runs])),
        "success_plain": float(np.mean([r.success_plain for r in runs])),
        "success_pooled": float(np.mean([r.success_pooled for r in runs])),
        "success_kept": float(np.mean([r.success_kept for r in runs])),
    }
    for judge, a, b in (
        ("kept_adapter", "regret_plain", "regret_kept"),
        ("kept_config", "config_regret_plain", "config_regret_kept"),
        ("pooled_adapter", "regret_plain", "regret_pooled"),
        ("pooled_config", "config_regret_plain", "config_regret_pooled"),
    ):
        plain = np.array([getattr(r, a) for r in runs])
        sep = np.array([getattr(r, b) for r in runs])
        delta = sep - plain
        nonzero = delta[delta != 0]
        p = float(sps.wilcoxon(nonzero).pvalue) if len(nonzero) >= 1 else None
        out[judge] = {
            "regret_plain": float(plain.mean()),
            "regret_with_step": float(sep.mean()),
            "delta": mean_ci(delta.tolist()),
            "wilcoxon_p": p,
            "helped": int((delta < 0).sum()),
            "hurt": int((delta > 0).sum()),
        }
    return out


def analyse(
    first: Rows,
    second: Rows,
    others: Sequence[Rows] = (),
    budgets: Sequence[int | None] = (6, 10, None),
    k: int = 3,
    seeds: int = 200,
    margin: float = SUCCESS_WITHIN,
) -> list[dict[str, Any]]:
    """`summarise` per budget; None is exhaustive search, one run (nothing in it is drawn)."""
    out = []
    for b in budgets:
        n = 1 if b is None else seeds
        out.append(summarise([replay(first, second, others, b, k, s, margin) for s in range(n)]))
    return out


def markdown(label: str, k: int, configs: int, summaries: Sequence[Mapping[str, Any]]) -> str:
    """One table per subset: each budget without and with the step as shipped (keeping the
    best adapter), then the first design (pooling the seeds), on both judges."""
    lines = [
        f"### `{label}`: {configs} configs with training seeds 0 and 1, top {k} separated",
        "",
        "| search | runs | step spent (runs) | compute without → with | adapter kept changed "
        "| success without → with | **keeping the best adapter** (the step): adapter regret "
        "without → with, Δ [95% CI], Wilcoxon p | its config regret | pooling the seeds (the "
        "first design): pick changed | success | adapter regret | config regret |",
        "| --- " * 12 + "|",
    ]
    for s in summaries:
        name = "exhaustive (grid order)" if s["exhaustive"] else f"random {s['budget']}"
        cells = [
            name,
            str(s["runs"]),
            str(s["triggered"]),
            f"{100 * s['compute_plain']:.0f}% → {100 * s['compute_with_step']:.0f}%",
            str(s["kept_changed"]),
            f"{100 * s['success_plain']:.0f}% → {100 * s['success_kept']:.0f}%",
            _judged(s["kept_adapter"]),
            _judged(s["kept_config"]),
            str(s["changed"]),
            f"{100 * s['success_plain']:.0f}% → {100 * s['success_pooled']:.0f}%",
            _judged(s["pooled_adapter"]),
            _judged(s["pooled_config"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _judged(j: Mapping[str, Any]) -> str:
    d = j["delta"]
    p = "-" if j["wilcoxon_p"] is None else f"{j['wilcoxon_p']:.2g}"
    return (
        f"{100 * j['regret_plain']:.2f} → {100 * j['regret_with_step']:.2f} pt, "
        f"{100 * d['mean']:+.2f} [{100 * d['ci_low']:+.2f}, {100 * d['ci_high']:+.2f}], p {p}"
    )


__all__ = ["SeparationRun", "analyse", "markdown", "replay", "subset_keys", "summarise"]
