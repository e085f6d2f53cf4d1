"""Numbers derived from the validation and the trials, shared by the verdict and the tables.

Where the validation and the trials both hold a number (regret), it is recomputed from the
trials' accuracies so the verdict and the tables can never disagree.
"""

from __future__ import annotations

from loratune.report.data import Point, ReportData
from loratune.report.fmt import num

Z90 = 1.645  # half-width of a 90% normal interval, in standard deviations
SAME = 5e-4  # accuracies closer than this (0.05 pts) read as equal


def shown_ci(ci: tuple[float, float] | None) -> tuple[float, float] | None:
    """A bootstrap interval worth printing: one verified config gives a point, which says
    nothing about the spread."""
    return ci if ci is not None and ci[1] - ci[0] > 1e-9 else None


def grid_regret(data: ReportData) -> float | None:
    """Test accuracy the pick gives up against the grid's best test accuracy (< 0: the pick
    scored higher); None when the pick was not scored on test. Never its validation accuracy:
    the grid's best is a test figure."""
    return num(data.validation.regret_vs_grid)


def top1_regret(data: ReportData) -> float | None:
    """Accuracy the predicted-best verified config gives up against the best trial."""
    top1, pick = predicted_best(data), num(data.best.accuracy)
    if top1 is not None and top1.accuracy is not None and pick is not None:
        return pick - top1.accuracy
    return data.validation.top1_regret_vs_study


def predicted_best(data: ReportData) -> Point | None:
    with_pred = [p for p in data.verified if p.predicted is not None]
    return max(with_pred, key=lambda p: p.predicted or 0.0) if with_pred else None


def interval_hits(points: list[Point]) -> tuple[int, int]:
    """(how many actual accuracies fell inside the 90% predicted interval, how many judged)."""
    judged = [p for p in points if None not in (p.predicted, p.std, p.accuracy)]
    hits = sum(
        1 for p in judged if abs((p.accuracy or 0.0) - (p.predicted or 0.0)) <= Z90 * (p.std or 0.0)
    )
    return hits, len(judged)


def spent_trials(data: ReportData) -> int:
    return data.validation.spent.trials or len(data.trained)
