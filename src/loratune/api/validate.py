"""`loratune validate`: how good were autotune's predictions and pick? Read from the study only.

Every number comes from recorded trials: predictions were stored on each verify trial before
it trained, so predicted-vs-actual is an honest out-of-sample test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from loratune import stats
from loratune.api.machines import across_machines
from loratune.api.pick import PICK_ATTR, SEPARATE_ATTR, pick_best
from loratune.errors import LoratuneError
from loratune.predictor import TimeSurrogate
from loratune.results import GridSummary, Pick, RunnerUp, Speedup, Spent, Validation, VerifiedRow
from loratune.space import FEATURES, Space, config_key, encode
from loratune.stats import PairedTests, PredictionStats
from loratune.study import (
    Storage,
    TrialRecord,
    list_studies,
    open_study,
    records,
    study_name,
    study_space,
)


def find_grid_study(storage: Storage, domain: str, model: str, space: str) -> str | None:
    """The sweep study of the same domain, model and space, if one is recorded."""
    name = f"sweep:{domain}:{model}:{space}"
    return name if name in list_studies(storage) else None


def charged(r: TrialRecord) -> float:
    """Seconds a tuner paid for a trial: set-up, training, validation (no test evaluation)."""
    return float(r.metrics.get("charged_seconds", r.metrics.get("wall_seconds", 0.0)) or 0.0)


@dataclass(frozen=True)
class _Grid:
    """A ground-truth grid study's summary, and each config's test accuracy in it."""

    summary: GridSummary
    accuracy_by_key: dict[str, float | None]


def _grid_summary(name: str, grid: list[TrialRecord], space: Space | None) -> _Grid:
    """A ground-truth grid: the best test accuracy, and what exhaustive search would pick
    (by validation, as every strategy must) and score on test."""
    ok = [r for r in grid if r.ok]
    # The test score of the grid's metric (accuracy, or the metric it was swept for).
    scored = [r for r in ok if r.test_score is not None]
    keys = {r.metrics["config_key"] for r in ok}
    complete = space is not None and keys >= {config_key(c) for c in space.configs()}
    exhaustive = pick_best(scored)
    best = max((r.test_score for r in scored if r.test_score is not None), default=None)
    summary = GridSummary(
        study=name,
        trials=len(ok),
        complete=complete,
        best_accuracy=best,
        exhaustive_pick_accuracy=exhaustive.test_score if exhaustive else None,
        seconds=sum(charged(r) for r in ok),
        cost=sum(r.metrics.get("cost", 0.0) for r in ok),
    )
    return _Grid(summary, {r.metrics["config_key"]: r.test_score for r in scored})


def validate_study(
    name: str, storage: Storage = None, grid_study: str | None = None, seed: int = 0
) -> Validation:
    """Statistics of an autotune study: predicted vs actual, regret, speedup, cost saved."""
    study = open_study(storage, name, create=False)
    attrs = dict(study.user_attrs)
    metric = str(attrs.get("metric") or "accuracy")
    recs = records(study)
    ok = [r for r in recs if r.ok]
    if not ok:
        raise LoratuneError(f"study {name!r} has no finished trials")
    predicted = [
        r
        for r in ok
        if r.metrics.get("phase") == "verify" and r.metrics.get("predicted_accuracy") is not None
    ]
    # A verified trial stopped early was scored before it finished learning: comparing it with
    # a prediction of the fully trained config would count the stop as prediction error.
    verified = [r for r in predicted if r.full]
    space = study_space(study)
    # The noise-aware last step may have picked another of the top configs (pooled over two
    # training seeds): its pick is the one tested.
    separated = (attrs.get(SEPARATE_ATTR) or {}).get("trial")
    pick = next((r for r in ok if r.number == separated), None) or pick_best(ok)
    if pick is None:
        raise LoratuneError(f"study {name!r} has no trial that ran all its epochs")
    tested = attrs.get(PICK_ATTR) or {}
    test_key = "test_accuracy" if metric == "accuracy" else "test_score"
    is_tested = tested.get("trial") == pick.number and tested.get(test_key) is not None
    pick_test = tested[test_key] if is_tested else None
    picked = Pick(
        config=pick.config.describe(),
        accuracy=pick.accuracy,
        phase=pick.metrics.get("phase"),
        val_correct=pick.metrics.get("val_correct"),
        val_total=pick.metrics.get("val_total"),
        test_accuracy=pick_test,  # read once, after the pick
        test_correct=tested.get("test_correct") if is_tested else None,
        test_total=tested.get("test_total") if is_tested else None,
    )
    checks = _prediction_checks(verified, pick, seed)
    spent_s = sum(charged(r) for r in recs if r.ok or r.state == "failed")
    spent = Spent(spent_s, sum(r.metrics.get("cost", 0.0) for r in recs), len(recs))

    grid_name = grid_study or find_grid_study(
        storage, attrs.get("domain", ""), attrs.get("model", ""), attrs.get("space", "")
    )
    grid_study_ = open_study(storage, grid_name, create=False) if grid_name else None
    # A grid swept for another metric is no ground truth for this one.
    same_metric = (
        grid_study_ is not None and (grid_study_.user_attrs.get("metric") or "accuracy") == metric
    )
    grid_recs = records(grid_study_) if grid_study_ is not None and same_metric else []
    grid = (
        _grid_summary(str(grid_name), grid_recs, space)
        if grid_study_ is not None and same_metric
        else None
    )
    regret_vs_grid = exhaustive_regret = pick_grid_accuracy = None
    summary = grid.summary if grid is not None and grid.summary.trials else None
    if grid is not None and summary is not None:
        if pick_test is not None and summary.best_accuracy is not None:
            # Test accuracy against the grid's best test accuracy: the judge's numbers, read
            # after every decision was made on validation.
            regret_vs_grid = stats.regret(pick_test, summary.best_accuracy)
        if summary.exhaustive_pick_accuracy is not None and summary.best_accuracy is not None:
            exhaustive_regret = stats.regret(
                summary.exhaustive_pick_accuracy, summary.best_accuracy
            )
        # The pick's grid test accuracy too: another training seed may score it differently.
        pick_grid_accuracy = grid.accuracy_by_key.get(pick.metrics["config_key"])
    return Validation(
        study=name,
        trials=len(ok),
        verified=len(verified),
        stopped_early=sum(not r.full for r in ok),
        verified_stopped_early=len(predicted) - len(verified),
        pick=picked,
        # McNemar's test reads the recorded per-example hits, which are accuracy's: for
        # another metric the pick is compared with the runner-up by value only (no test).
        pick_vs_runner_up=runner_up(pick, ok) if metric == "accuracy" else None,
        spent=spent,
        speedup=_speedup(summary, ok, space, spent, seed, grid_recs, recs),
        prediction=checks.prediction,
        tests=checks.tests,
        mae_ci95=checks.mae_ci95,
        error_ci95=checks.error_ci95,
        top1_regret_vs_study=checks.top1_regret_vs_study,
        rows=checks.rows,
        grid=summary,
        regret_vs_grid=regret_vs_grid,
        exhaustive_regret=exhaustive_regret,
        pick_grid_accuracy=pick_grid_accuracy,
        warnings=tuple(
            stats.evidence_warnings(checks.prediction, mae_ci=checks.mae_ci95, tests=checks.tests)
        ),
        metric=metric,
    )


@dataclass(frozen=True)
class _Checks:
    """The verified configs' predictions against what they scored (out of sample)."""

    prediction: PredictionStats | None = None  # None: nothing was verified
    tests: PairedTests | None = None
    mae_ci95: tuple[float, float] | None = None
    error_ci95: tuple[float, float] | None = None
    top1_regret_vs_study: float | None = None
    rows: tuple[VerifiedRow, ...] = ()


def _prediction_checks(verified: list[TrialRecord], pick: TrialRecord, seed: int) -> _Checks:
    if not verified:
        return _Checks()
    pred = np.array([r.metrics["predicted_accuracy"] for r in verified])
    sd = np.array([r.metrics["predicted_accuracy_std"] for r in verified])
    actual = np.array([r.accuracy for r in verified], dtype=float)
    several = len(verified) >= 2
    top1 = verified[int(np.argmax(pred))]
    return _Checks(
        prediction=stats.prediction_stats(pred, sd, actual, level=0.9),
        tests=stats.paired_tests(pred, actual),
        mae_ci95=stats.bootstrap_ci(np.abs(pred - actual), seed=seed) if several else None,
        error_ci95=stats.bootstrap_ci(pred - actual, seed=seed) if several else None,
        top1_regret_vs_study=stats.regret(top1.accuracy or 0.0, pick.accuracy or 0.0),
        rows=tuple(
            VerifiedRow(
                config=r.config.describe(),
                config_key=r.metrics.get("config_key"),
                trial=r.number,
                predicted=float(p),
                std=float(s),
                actual=float(a),
                latency=r.metrics.get("latency"),
                predicted_latency=r.metrics.get("predicted_latency"),
            )
            for r, p, s, a in zip(verified, pred, sd, actual, strict=True)
        ),
    )


def _speedup(
    grid: GridSummary | None,
    ok: list[TrialRecord],
    space: Space | None,
    spent: Spent,
    seed: int,
    grid_recs: Sequence[TrialRecord] = (),
    recs: Sequence[TrialRecord] = (),
) -> Speedup:
    """Compute saved against the grid: measured when a complete grid study is recorded,
    otherwise predicted by the time model (with its interval). A grid recorded on another
    machine gives no seconds ratio: trials, epochs and a same-machine calibration instead."""
    grid_ci: tuple[float, float] | None = None
    if grid is not None and grid.complete:
        across = across_machines(grid, grid_recs, recs, spent, charged)
        if across is not None:
            return across
        grid_s, source, grid_cost = grid.seconds, "measured", grid.cost
    else:
        grid_s, grid_ci = _predicted_grid_seconds(ok, space, seed)
        source = "predicted"
        grid_cost = grid_s / spent.seconds * spent.cost if spent.seconds else 0.0
    factor_ci = None
    if grid_ci is not None and spent.seconds:
        # A speedup against a predicted grid is a prediction: it carries its interval.
        factor_ci = (grid_ci[0] / spent.seconds, grid_ci[1] / spent.seconds)
    return Speedup(
        grid_seconds=grid_s,
        source=source,
        factor=stats.speedup(grid_s, spent.seconds) if spent.seconds else None,
        cost_saved=stats.cost_saved(grid_cost, spent.cost)
        if grid_cost
        else (1.0 - spent.seconds / grid_s if grid_s else None),
        grid_cost=grid_cost,
        grid_seconds_ci95=grid_ci,
        factor_ci95=factor_ci,
    )


def runner_up(pick: TrialRecord, ok: list[TrialRecord]) -> RunnerUp | None:
    """Is the pick told apart from the next-best finished trial on validation? An exact
    McNemar test on the examples the two answered differently (the same examples for both):
    when p >= 0.05 the pick is within the validation split's noise of the runner-up."""
    others = [r for r in ok if r.full and r.number != pick.number]
    if not others:
        return None
    runner = pick_best(others)
    a, b = pick.metrics.get("val_hits"), runner.metrics.get("val_hits") if runner else None
    if runner is None or not a or not b or len(a) != len(b):
        return None
    return RunnerUp(runner.config.describe(), runner.accuracy, stats.paired_difference(a, b))


def _predicted_grid_seconds(
    ok: list[TrialRecord], space: Space | None, seed: int = 0, n_boot: int = 400
) -> tuple[float, tuple[float, float] | None]:
    """Whole-grid compute from the time model (a + b x rank, robust to a slow trial) fitted
    on the charged seconds of the trials that ran every epoch; with a 95% interval from
    resampling those trials."""
    if space is None:
        return float("nan"), None
    full = [r for r in ok if r.full] or ok  # a trial stopped early took less than a full one
    features = space.features()
    x = encode([r.config for r in full], features)
    y = np.array([charged(r) for r in full])
    grid_x = encode(space.configs(), features)
    if len(full) < 2:  # one trial: its time is all the evidence there is
        return float(y.mean()) * len(grid_x), None
    model = TimeSurrogate(range(len(FEATURES), len(features)))
    total = float(model.fit(x, y).predict(grid_x)[0].sum())
    if len(full) < 3:
        return total, None
    rng = np.random.default_rng(seed)
    sums = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(full), len(full))
        if len(set(pick.tolist())) < 2:
            continue
        sums.append(float(model.clone().fit(x[pick], y[pick]).predict(grid_x)[0].sum()))
    low, high = np.percentile(sums, [2.5, 97.5])
    return total, (float(low), float(high))


def latest_autotune_study(storage: Storage) -> str:
    names = [n for n in list_studies(storage) if n.startswith("autotune:")]
    if not names:
        raise LoratuneError("no autotune study in this storage: run `loratune autotune` first")
    return names[-1]


__all__ = ["latest_autotune_study", "runner_up", "study_name", "validate_study"]
