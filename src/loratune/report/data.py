"""What the report needs from an AutotuneResult, gathered once.

The validation's per-config rows carry the trial number, so they are matched back to the
trial records for the config itself and the learning curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from loratune import stats
from loratune.report.fmt import lr, num, wd
from loratune.results import AutotuneResult, Prediction, Separation, Validation, VerifiedRow
from loratune.space import Config, Space, config_key
from loratune.study import TrialRecord


@dataclass(frozen=True)
class Point:
    """One trained config as the tables and plots see it."""

    label: str  # Config.describe()
    short: str  # only the parameters the grid varies, for legends
    config: Config | None
    accuracy: float | None
    latency: float | None  # seconds per training epoch
    predicted: float | None  # predicted accuracy (out of sample for verified configs)
    std: float | None
    predicted_latency: float | None
    curve: tuple[float, ...]


@dataclass(frozen=True)
class ReportData:
    domain: str
    model: str
    study: str
    space: Space
    best: TrialRecord
    explored: list[Point]  # explore trials that ran all their epochs
    verified: list[Point]  # verified configs with a stored prediction, run to the end
    stopped: list[Point]  # trials stopped early (explored or verified): never picks
    failed: int  # trials that did not finish
    predictions: list[Prediction]  # the grid, best predicted first
    validation: Validation
    surrogates: dict[str, str]
    separation: Separation | None = None  # the noise-aware last step, when it ran
    prior: str = ""  # what the search started from
    stop_reason: str = ""  # why it stopped (the warm start)
    search_seconds: float = 0.0  # the search's wall time on this machine

    @property
    def trained(self) -> list[Point]:
        """Trials trained to their last epoch."""
        return self.explored + self.verified


def short_label(config: Config, space: Space) -> str:
    """'r8 · lr 1e-3 · wd 0.01 · α×2', naming only the parameters the grid varies."""
    varies = {k for k, v in space.grid.items() if len(v) > 1}
    parts = [f"r{config.rank}"]
    if "learning_rate" in varies:
        parts.append(f"lr {lr(config.learning_rate)}")
    if "weight_decay" in varies:
        parts.append(f"wd {wd(config.weight_decay)}")
    if "alpha_ratio" in varies or "alpha" in varies:
        parts.append(f"α×{config.alpha / config.rank:g}")
    return " · ".join(parts)


def _point(r: TrialRecord, space: Space) -> Point:
    m = r.metrics
    return Point(
        label=r.config.describe(),
        short=short_label(r.config, space),
        config=r.config,
        accuracy=num(r.accuracy),
        latency=num(m.get("latency")),
        predicted=num(m.get("predicted_accuracy")),
        std=num(m.get("predicted_accuracy_std")),
        predicted_latency=num(m.get("predicted_latency")),
        curve=tuple(r.curve),
    )


def _verified(
    records: Sequence[TrialRecord], rows: Sequence[VerifiedRow], space: Space
) -> list[Point]:
    ok = [r for r in records if r.full]
    if not rows:
        return [p for p in (_point(r, space) for r in ok) if p.predicted is not None]
    by_number = {r.number: r for r in ok}
    out = []
    for row in rows:
        rec = by_number.get(row.trial)
        out.append(
            Point(
                label=row.config,
                short=short_label(rec.config, space) if rec else row.config,
                config=rec.config if rec else None,
                accuracy=row.actual,
                latency=num(row.latency),
                predicted=row.predicted,
                std=row.std,
                predicted_latency=num(row.predicted_latency),
                curve=tuple(rec.curve) if rec else (),
            )
        )
    return out


def _title_parts(result: AutotuneResult) -> tuple[str, str]:
    attrs = result.best.attrs
    return str(attrs.get("domain") or "unknown domain"), str(attrs.get("model") or "unknown model")


def gather(result: AutotuneResult, space: Space) -> ReportData:
    seen: dict[int, TrialRecord] = {r.number: r for r in [*result.explored, *result.verified]}
    verified_numbers = {r.number for r in result.verified}
    explored = [
        _point(r, space) for r in result.explored if r.full and r.number not in verified_numbers
    ]
    stopped = [_point(r, space) for r in seen.values() if r.ok and not r.full]
    domain, model = _title_parts(result)
    return ReportData(
        domain=domain,
        model=model,
        study=result.study,
        space=space,
        best=result.best,
        explored=explored,
        verified=_verified(result.verified, result.validation.rows, space),
        stopped=stopped,
        failed=sum(1 for r in seen.values() if not r.ok),
        predictions=list(result.predictions),
        validation=result.validation,
        surrogates=dict(result.surrogates),
        separation=result.separation,
        prior=result.prior,
        stop_reason=result.stop_reason,
        search_seconds=result.search_seconds,
    )


def in_sample(data: ReportData) -> dict[str, float]:
    """Predicted accuracy of each explored config (a fit to that trial, not a forecast)."""
    return {config_key(p.config): p.accuracy for p in data.predictions if p.tried}


def pareto_front(points: Sequence[Point]) -> list[Point]:
    """Trained configs no other beats on both accuracy (higher) and seconds/epoch (lower),
    fastest first."""
    usable = [p for p in points if p.accuracy is not None and p.latency is not None]
    if not usable:
        return []
    acc = np.array([p.accuracy for p in usable], dtype=float)
    sec = np.array([p.latency for p in usable], dtype=float)
    return [usable[i] for i in stats.pareto_front(acc, sec)]
