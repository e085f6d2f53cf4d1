"""The autotune report from a hand-made AutotuneResult: no training, a second or two."""

from __future__ import annotations

import dataclasses
import math
import re
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from loratune import stats
from loratune.report import write_report
from loratune.report.data import Point, pareto_front
from loratune.report.fmt import p_is, pct, pts, pval
from loratune.report.tables import _corr, _test
from loratune.results import (
    AutotuneResult,
    GridSummary,
    Pick,
    Prediction,
    RunnerUp,
    Speedup,
    Spent,
    Validation,
    VerifiedRow,
)
from loratune.space import Config, Space, config_key
from loratune.study import TrialRecord

SPACE = Space(
    "tiny",
    {"rank": (4, 8, 16), "learning_rate": (1e-4, 1e-3), "weight_decay": (0.0, 0.01)},
    {"epochs": 3, "alpha_ratio": 2},
)
PLOTS = ("predicted_vs_actual", "accuracy_vs_time", "learning_curves", "heatmap_rank_lr")
PROVENANCE = {"packages": {"loratune": "0.1.0"}, "git_commit": "abc123", "cpu": "Test CPU"}


def true_accuracy(c: Config) -> float:
    return (
        0.6
        + 0.04 * math.log2(c.rank / 4)
        + (0.12 if c.learning_rate == 1e-3 else 0.0)
        - (2.0 * c.weight_decay)
    )


def seconds_per_epoch(c: Config) -> float:
    return 2.0 + 0.4 * c.rank


def record(number: int, c: Config, phase: str, prediction: Prediction | None = None) -> TrialRecord:
    acc = true_accuracy(c)
    metrics: dict[str, Any] = {
        "config_key": config_key(c),
        "latency": seconds_per_epoch(c),
        "wall_seconds": 3 * seconds_per_epoch(c) + 1.5,
        "cost": 0.0,
        "phase": phase,
        "device": "cpu",
    }
    if prediction is not None:
        metrics.update(prediction.attrs())
    return TrialRecord(
        number=number,
        config=c,
        state="complete",
        accuracy=acc,
        curve=(acc - 0.12, acc - 0.04, acc - 0.01),
        metrics=metrics,
        attrs={"domain": "toy", "model": "tiny-llama", "space": "tiny", "provenance": PROVENANCE},
    )


def build_result(n_verified: int, validation: Validation | None = None) -> AutotuneResult:
    configs = SPACE.configs()
    explored = [record(i, configs[j], "explore") for i, j in enumerate([0, 3, 5, 7, 8, 9])]
    tried = {config_key(r.config) for r in explored}
    # Predictions a little off the truth, optimistic for big ranks: something to see in plots.
    predictions = sorted(
        (
            Prediction(
                c,
                true_accuracy(c) + 0.012 * ((i * 7) % 5 - 2) + 0.01 * (c.rank == 16),
                0.01 + 0.005 * (i % 2),
                seconds_per_epoch(c) * 1.05,
                0.2,
                0.0,
                config_key(c) in tried,
            )
            for i, c in enumerate(configs)
        ),
        key=lambda p: -p.accuracy,
    )
    picks = [p for p in predictions if not p.tried][:n_verified]
    verified = [record(len(explored) + i, p.config, "verify", p) for i, p in enumerate(picks)]
    finished = explored + verified
    best = max(finished, key=lambda r: r.accuracy or 0.0)
    if validation is None:
        validation = full_validation(best, verified, len(finished))
    return AutotuneResult(
        study="autotune:toy:tiny-llama:tiny",
        best=best,
        predictions=tuple(predictions),
        explored=tuple(explored),
        verified=tuple(verified),
        validation=validation,
        surrogates={"accuracy": "gp", "latency": "ridge", "cost": "ridge"},
    )


PICK_TEST = 0.765  # the pick's one test score: below its validation accuracy, as often


def _pick(best: TrialRecord) -> Pick:
    return Pick(best.config.describe(), best.accuracy, "verify", test_accuracy=PICK_TEST)


def full_validation(best: TrialRecord, verified: list[TrialRecord], trials: int) -> Validation:
    """As `loratune.api.validate.validate_study` returns it, with the real statistics."""
    checks: dict[str, Any] = {}
    if verified:
        pred = np.array([r.metrics["predicted_accuracy"] for r in verified])
        sd = np.array([r.metrics["predicted_accuracy_std"] for r in verified])
        actual = np.array([r.accuracy for r in verified], dtype=float)
        top1 = verified[int(np.argmax(pred))]
        checks = {
            "prediction": stats.prediction_stats(pred, sd, actual, level=0.9),
            "tests": stats.paired_tests(pred, actual),
            "mae_ci95": stats.bootstrap_ci(np.abs(pred - actual)),
            "error_ci95": stats.bootstrap_ci(pred - actual),
            "top1_regret_vs_study": stats.regret(top1.accuracy or 0.0, best.accuracy or 0.0),
            "rows": tuple(
                VerifiedRow(
                    config=r.config.describe(),
                    config_key=r.metrics["config_key"],
                    trial=r.number,
                    predicted=r.metrics["predicted_accuracy"],
                    std=r.metrics["predicted_accuracy_std"],
                    actual=r.accuracy or 0.0,
                    latency=r.metrics["latency"],
                    predicted_latency=r.metrics["predicted_latency"],
                )
                for r in verified
            ),
        }
    return Validation(
        study="autotune:toy:tiny-llama:tiny",
        trials=trials,
        verified=len(verified),
        pick=_pick(best),
        spent=Spent(180.0, 0.0, trials),
        grid=GridSummary("sweep:toy:tiny-llama:tiny", 12, True, 0.8, 0.79, 420.0, 0.0),
        regret_vs_grid=stats.regret(PICK_TEST, 0.8),
        exhaustive_regret=stats.regret(0.79, 0.8),
        pick_grid_accuracy=0.79,
        speedup=Speedup(420.0, "measured", stats.speedup(420.0, 180.0), 1 - 180.0 / 420.0, 0.0),
        warnings=tuple(
            stats.evidence_warnings(checks.get("prediction"), mae_ci=checks.get("mae_ci95"))
        ),
        **checks,
    )


def read(out: Path) -> tuple[str, str]:
    return (out / "report.html").read_text(), (out / "report.md").read_text()


def test_full_report(tmp_path: Path) -> None:
    result = build_result(4)
    out = write_report(result, SPACE, tmp_path / "rep")
    assert out == tmp_path / "rep"
    html, md = read(out)
    assert html.count("data:image/png;base64,") >= 4
    for name in PLOTS:
        png = out / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({name}.png)" in md
    # Self-contained: nothing fetched from elsewhere.
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "<script" not in html and "<link" not in html
    best = result.best
    p = result.validation.prediction
    assert p is not None and p.spearman is not None and p.kendall is not None
    rho, tau = p.spearman, p.kendall
    assert result.validation.mae_ci95 is not None
    lo, hi = result.validation.mae_ci95
    for text in (html, md):
        assert "toy" in text and "tiny-llama" in text and result.study in text
        assert best.config.describe() in text
        assert pct(best.accuracy) in text
        assert f"(Spearman ρ = {rho.value:.2f}, {p_is(rho.p)}" in text
        assert f"{tau.value:.2f} ({p_is(tau.p)})" in text
        assert pts(p.mae) in text and pts(lo) in text and pts(hi) in text  # MAE and its CI
        assert "needs at least 6 non-zero differences" in text  # why Wilcoxon has no p
        assert "Only 4 predicted config(s) were verified" in text  # the warning, shown
        assert "**measured**" in md and "<strong>measured</strong>" in html
        assert "2.3×" in text  # speedup
        assert "gp" in text and "ridge" in text  # surrogates in the footer
        for r in result.verified:
            assert r.config.describe() in text
    # Order of the content: verdict, warnings, tables, plots, provenance.
    order = [
        "Verdict",
        "Read this first",
        "Predicted vs actual",
        "Statistics",
        "Regret",
        "Speedup",
        "Top 10",
        "Plots",
        "Surrogates",
    ]
    positions = [md.index(h) for h in order]
    assert positions == sorted(positions)


def test_missing_and_undefined_statistics(tmp_path: Path) -> None:
    result = build_result(2)
    best = result.best
    validation = Validation(
        study=result.study,
        trials=6,
        verified=2,
        pick=_pick(best),
        prediction=stats.PredictionStats(2, 0.02, 0.03, 0.01, None, None, float("nan"), 0.9),
        tests=stats.paired_tests([0.5, 0.6], [0.5, 0.6]),
        rows=full_validation(best, list(result.verified), 6).rows,
        spent=Spent(0.0, 0.0, 6),
        speedup=Speedup(float("nan"), "predicted", None, None, 0.0),
        warnings=("n = 2 < 3: no rank correlation", "no exhaustive grid to compare with"),
    )
    out = write_report(dataclasses.replace(result, validation=validation), SPACE, tmp_path)
    html, md = read(out)
    assert html.count("data:image/png;base64,") >= 4
    assert "cannot be measured" in md
    assert "**predicted**" in md
    assert "nan" not in md.lower().replace("nano", "")
    assert "all differences are zero" in md  # why the t-test has no p
    # Escaped in both: Markdown renderers pass raw HTML through, so text from data must not.
    assert "n = 2 &lt; 3" in html and "n = 2 &lt; 3" in md


@pytest.mark.parametrize("n_verified", [0, 1])
def test_few_or_no_verified(tmp_path: Path, n_verified: int) -> None:
    result = build_result(n_verified)
    best = result.best
    if n_verified == 0:
        # What validate returns with nothing verified: no prediction, tests or rows at all.
        validation = Validation(
            study=result.study,
            trials=len(result.explored),
            verified=0,
            pick=_pick(best),
            spent=Spent(50.0, 0.0, len(result.explored)),
            speedup=Speedup(300.0, "predicted", 6.0, 0.83, 0.0),
            warnings=("no verified configs: predictions untested",),
        )
    else:
        one = stats.prediction_stats([0.5], [0.01], [0.51])
        validation = dataclasses.replace(result.validation, prediction=one)
    out = write_report(
        dataclasses.replace(result, validation=validation), SPACE, tmp_path / "nested" / "dir"
    )
    html, md = read(out)
    assert html.count("data:image/png;base64,") >= 4
    assert pct(best.accuracy) in md
    if n_verified == 0:
        assert "No verified config" in md


def test_empty_predictions(tmp_path: Path) -> None:
    """A strategy without a predictor (`--strategy random`): no predictions, no verified."""
    result = build_result(0)
    bare = Validation(
        study=result.study,
        trials=len(result.explored),
        verified=0,
        pick=_pick(result.best),
        spent=Spent(0.0, 0.0, 0),
        speedup=Speedup(float("nan"), "predicted", None, None, 0.0),
    )
    result = dataclasses.replace(result, validation=bare, predictions=(), surrogates={})
    html, md = read(write_report(result, SPACE, tmp_path))
    assert html.count("data:image/png;base64,") >= 4
    assert "No predictions." in md


def test_does_not_touch_the_users_matplotlib(tmp_path: Path) -> None:
    import matplotlib

    backend = matplotlib.get_backend()
    write_report(build_result(3), SPACE, tmp_path)
    assert matplotlib.get_backend() == backend
    import sys

    if "matplotlib.pyplot" in sys.modules:
        assert not sys.modules["matplotlib.pyplot"].get_fignums()


def test_pareto_front() -> None:
    def pt(acc: float, lat: float) -> Point:
        return Point(f"{acc}/{lat}", "", None, acc, lat, None, None, None, ())

    front = pareto_front([pt(0.7, 1), pt(0.6, 2), pt(0.8, 3), pt(0.8, 4), pt(0.9, 5), pt(0.5, 0.5)])
    assert [(p.accuracy, p.latency) for p in front] == [(0.5, 0.5), (0.7, 1), (0.8, 3), (0.9, 5)]


def test_statistics_as_printed() -> None:
    assert _corr(None) == "– (too few configs)"
    assert _corr(stats.Correlation(0.5, 0.2)) == "0.50 (p = 0.200)"
    assert _test(None) == "–"
    assert _test(stats.TestResult(None, None, "needs at least 2 pairs")) == (
        "– (needs at least 2 pairs)"
    )
    assert _test(stats.TestResult(1.5, 0.0001)) == "p < 0.001 (statistic 1.50)"
    assert pct(None) == pts(None) == "–"
    assert pct(float("nan")) == "–"
    assert p_is(0.3219) == "p = 0.322" and p_is(0.0004) == "p < 0.001" and pval(0.0004) == "< 0.001"


def test_validation_decides_and_test_reports_apart(tmp_path: Path) -> None:
    """The pick's validation accuracy is never set against the grid's test accuracy: the
    headline names both splits, the verdict and the regret table judge on test."""
    result = build_result(4)
    best = result.best
    assert best.accuracy is not None and best.accuracy != PICK_TEST
    _, md = read(write_report(result, SPACE, tmp_path / "rep"))
    assert f"**{pct(best.accuracy)}** validation accuracy, **{pct(PICK_TEST)}** on the test" in md
    assert (
        f"On the test split the pick scores {pct(PICK_TEST)}, **{pts(0.8 - PICK_TEST)}** below"
        in md
    )
    assert f"would score {pct(0.79)} on test ({pts(0.01)} below the best)" in md
    assert (
        f"| the pick, against the grid's best | test | {pct(PICK_TEST)} | {pts(0.8 - PICK_TEST)} |"
        in md
    )
    assert (
        f"| the pick (best of this study by validation) | validation | {pct(best.accuracy)} |" in md
    )
    assert "test accuracy" not in md.split("## Plots")[1].split("![accuracy")[0]


def test_pick_not_scored_on_test(tmp_path: Path) -> None:
    result = build_result(4)
    v = dataclasses.replace(
        result.validation,
        pick=dataclasses.replace(result.validation.pick, test_accuracy=None),
        regret_vs_grid=None,
    )
    _, md = read(write_report(dataclasses.replace(result, validation=v), SPACE, tmp_path / "r"))
    assert "validation accuracy (not scored on the test split)" in md
    assert "not compared with the grid study's test accuracies" in md


@pytest.mark.parametrize(
    ("a_only", "b_only", "told_apart"), [(1, 0, False), (20, 2, True)], ids=["draw", "apart"]
)
def test_verdict_says_whether_the_pick_is_told_apart_from_the_runner_up(
    tmp_path: Path, a_only: int, b_only: int, told_apart: bool
) -> None:
    result = build_result(4)
    pick = "1" * a_only + "0" * b_only + "1" * (256 - a_only - b_only)
    runner_hits = "0" * a_only + "1" * b_only + "1" * (256 - a_only - b_only)
    diff = stats.paired_difference(pick, runner_hits)
    assert (diff.p < stats.DISTINGUISHABLE_P) is told_apart
    runner = RunnerUp("rank=8 alpha=16 lr=0.001 wd=0", 0.75, diff)
    v = dataclasses.replace(result.validation, pick_vs_runner_up=runner)
    _, md = read(write_report(dataclasses.replace(result, validation=v), SPACE, tmp_path))
    verdict = md.split("## Verdict")[1].split("## ")[0]
    counts = f"{a_only} vs {b_only} of 256 validation examples"
    assert counts in verdict and f"McNemar {escape(p_is(diff.p))}" in verdict  # markdown escapes <
    assert (
        "told apart from the runner-up (rank=8 alpha=16 lr=0.001 wd=0)" in verdict
    ) is told_apart
    assert ("**within noise** of the runner-up" in verdict) is not told_apart
    assert ("--separate 3" in verdict) is not told_apart
