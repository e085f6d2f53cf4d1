"""The evidence as tables: predicted vs actual, statistics, regret, compute, top predictions."""

from __future__ import annotations

from loratune.report.data import ReportData
from loratune.report.document import Block, Para, Table
from loratune.report.fmt import DASH, diff, factor, lr, money, num, p_is, pct, score, secs, wd
from loratune.report.measures import (
    Z90,
    grid_regret,
    interval_hits,
    predicted_best,
    shown_ci,
    spent_trials,
    top1_regret,
)
from loratune.space import config_key, varying_extras
from loratune.stats import Correlation, TestResult

TOP = 10


def verified_table(data: ReportData) -> list[Block]:
    if not data.verified:
        return [Para("No verified config has a stored prediction yet.")]
    rows = []
    for i, p in enumerate(data.verified, 1):
        err = (
            p.predicted - p.accuracy if p.predicted is not None and p.accuracy is not None else None
        )
        inside = (
            DASH if err is None or p.std is None else "yes" if abs(err) <= Z90 * p.std else "**no**"
        )
        rows.append(
            [
                str(i),
                p.label,
                f"{score(p.predicted)} ± {diff(p.std)}",
                score(p.accuracy),
                diff(err, signed=True),
                inside,
                f"{secs(p.predicted_latency)} → {secs(p.latency)}",
            ]
        )
    header = [
        "#",
        "config",
        "predicted ± std",
        "actual (validation)",
        "error",
        "in 90% interval",
        "s/epoch",
    ]
    note = (
        "error = predicted − actual; the 90% interval is predicted ± 1.645 std. "
        "s/epoch: predicted → measured."
    )
    return [Table(header, rows, "rlrrrrr", note)]


def statistics(data: ReportData) -> list[Block]:
    if data.validation.prediction is None and not data.verified:
        return [Para("Nothing to test: no verified config.")]
    return [_stats_table(data)]


def _stats_table(data: ReportData) -> Table:
    v = data.validation
    p, tests = v.prediction, v.tests
    mae_ci = shown_ci(v.mae_ci95)
    err_ci = shown_ci(v.error_ci95)
    if p is not None:
        bias: float | None = p.bias
    else:
        errs = [
            x.predicted - x.accuracy
            for x in data.verified
            if x.predicted is not None and x.accuracy is not None
        ]
        bias = sum(errs) / len(errs) if errs else None
    inside = interval_hits(data.verified)
    level = pct(p.level if p is not None else 0.9, 0)
    coverage = p.coverage if p is not None else None
    cov = pct(coverage, 0) + (f" ({inside[0]} of {inside[1]})" if inside[1] else "")

    def with_ci(x: float | None, ci: tuple[float, float] | None, signed: bool = False) -> str:
        text = diff(x, signed=signed)
        if ci is not None:
            text += f" (95% CI {diff(ci[0], signed)} to {diff(ci[1], signed)})"
        return text

    rows = [
        [
            "verified configs (n)",
            str(p.n if p is not None else len(data.verified)),
            "out-of-sample tests",
        ],
        ["mean absolute error", with_ci(p.mae if p else None, mae_ci), "typical miss"],
        ["mean error (bias)", with_ci(bias, err_ci, True), "> 0: predictions too optimistic"],
        ["RMSE", diff(p.rmse if p else None), "penalises large misses"],
        ["Spearman ρ", _corr(p.spearman if p else None), "1 = verified configs ranked perfectly"],
        ["Kendall τ", _corr(p.kendall if p else None), "share of pairs ordered right, rescaled"],
        [f"{level} interval coverage", cov, f"should be near {level} if the std is honest"],
        [
            "paired t-test",
            _test(tests.t_test if tests else None),
            "small p: predictions off on average",
        ],
        [
            "Wilcoxon signed-rank",
            _test(tests.wilcoxon if tests else None),
            "same, without assuming normal errors",
        ],
    ]
    return Table(["statistic", "value", "what it says"], rows, "lrl")


def _corr(c: Correlation | None) -> str:
    if c is None:
        return f"{DASH} (too few configs)"
    return f"{c.value:.2f}" + (f" ({p_is(c.p)})" if c.p is not None else "")


def _test(t: TestResult | None) -> str:
    if t is None:
        return DASH
    if t.p is None:
        return f"{DASH} ({t.reason})" if t.reason else DASH
    return p_is(t.p) + (f" (statistic {t.statistic:.2f})" if t.statistic is not None else "")


def regret(data: ReportData) -> list[Block]:
    """Validation figures (what decided) and test figures (what judges) in separate rows,
    never one against the other."""
    v = data.validation
    rows = [
        [
            "the pick (best of this study by validation)",
            "validation",
            score(data.best.accuracy),
            DASH,
        ]
    ]
    top1 = predicted_best(data)
    if top1 is not None:
        rows.append(
            [
                f"predicted best of the verified ({top1.short})",
                "validation",
                score(top1.accuracy),
                diff(top1_regret(data)),
            ]
        )
    rows.append(
        ["the pick, scored once after it was chosen", "test", score(v.pick.test_accuracy), DASH]
    )
    grid = v.grid
    blocks: list[Block] = []
    if grid is not None:
        done = "complete" if grid.complete else "incomplete"
        rows += [
            [
                f"best of the grid study ({grid.trials} trials, {done})",
                "test",
                score(grid.best_accuracy),
                DASH,
            ],
            [
                "the pick, against the grid's best",
                "test",
                score(v.pick.test_accuracy),
                diff(grid_regret(data)),
            ],
            [
                "exhaustive search's pick (by validation), against the grid's best",
                "test",
                score(grid.exhaustive_pick_accuracy),
                diff(v.exhaustive_regret),
            ],
            [
                "the pick's config as trained in the grid study",
                "test",
                score(v.pick_grid_accuracy),
                DASH,
            ],
        ]
    blocks.append(
        Table(
            ["config", "split", "accuracy", "regret"],
            rows,
            "llrr",
            "regret = accuracy given up against the best of the same split; 0 is ideal. "
            "Validation chose; the test split only reports.",
        )
    )
    if grid is None:
        blocks.append(
            Para(
                "No exhaustive grid study was found for this domain, model and space, so regret "
                "against the true best is unknown. Run `loratune sweep` on the same space and "
                "validate with `--grid-study` to measure it."
            )
        )
    return blocks


def compute(data: ReportData) -> list[Block]:
    v = data.validation
    s, spent, grid = v.speedup, v.spent, v.grid
    if s.across is not None:
        return _compute_across(data)
    measured = s.source == "measured"
    if measured:
        source = (
            f"The grid's compute was **measured**: every config was trained in the grid study "
            f"{grid.study if grid else ''}."
        )
    else:
        source = (
            "The grid's compute was **predicted**, not measured: no complete grid sweep is "
            "recorded, so it is extrapolated from the charged seconds of this study's trials "
            "by the time model (seconds = a + b x rank, robust to one slow trial)."
        )
        if s.factor_ci95 is not None:
            source += (
                f" The predicted speedup's 95% interval (resampling the trials) is "
                f"{factor(s.factor_ci95[0])} to {factor(s.factor_ci95[1])}."
            )
    rows = [
        ["run by autotune", str(spent_trials(data)), secs(spent.seconds), money(spent.cost)],
        [
            "whole grid" + ("" if measured else " (predicted)"),
            str(len(data.space)),
            secs(s.grid_seconds),
            money(s.grid_cost),
        ],
    ]
    if num(s.factor) is None:
        summary = "The speedup is unknown: " + (
            "no wall time was recorded for this study's trials."
            if not num(spent.seconds)
            else "the whole grid's compute could not be estimated."
        )
    else:
        summary = (
            f"Speedup **{factor(s.factor)}**; compute saved **{pct(s.cost_saved)}** "
            f"of the grid's {'cost' if num(s.grid_cost) else 'time'}."
        )
    if not num(s.grid_cost) and not num(spent.cost):
        source += " No price per hour was set, so the saving is counted in wall time."
    return [
        Para(summary),
        Table(["", "trials", "wall time", "cost"], rows, "lrrr"),
        Para(source),
    ]


def _compute_across(data: ReportData) -> list[Block]:
    """The grid's seconds were measured on another machine: no seconds ratio across machines.
    The speedup in trials and epochs, and in seconds against the grid calibrated to this
    machine where configs both trained allow it."""
    v = data.validation
    s, spent, a = v.speedup, v.spent, v.speedup.across
    assert a is not None
    machines = a.machines_line()
    blocks: list[Block] = [
        Para(machines[0].upper() + machines[1:] + "."),
        Para(
            f"Speedup **{factor(a.trials_factor)} in trials** ({a.trials} of the grid's "
            f"{a.grid_trials} configs trained) and **{factor(a.epochs_factor)} in epochs** "
            f"({a.epochs} epochs vs the exhaustive grid's {a.grid_epochs})."
        ),
    ]
    rows = [
        ["run by autotune (this machine)", str(a.trials), str(a.epochs), secs(spent.seconds)],
        [
            f"whole grid (on {a.grid_machine})",
            str(a.grid_trials),
            str(a.grid_epochs),
            secs(s.grid_seconds),
        ],
    ]
    if a.calibrated_grid_seconds is None:
        calibrated = Para(
            "No config this run trained to the end is in the grid, so the grid's seconds "
            "cannot be calibrated to this machine: no seconds ratio is given."
        )
    else:
        n = a.calibrated_on
        rows.append(
            [
                "whole grid (calibrated to this machine)",
                str(a.grid_trials),
                str(a.grid_epochs),
                secs(a.calibrated_grid_seconds),
            ]
        )
        calibrated = Para(
            f"Calibrated speedup **{factor(s.factor)}**; compute saved **{pct(s.cost_saved)}** "
            f"of the grid's time. The grid's seconds are calibrated to this machine: scaled by "
            f"{a.calibration:.2f}, the median of this run's seconds / the grid's over the {n} "
            f"config{'' if n == 1 else 's'} both trained to the end."
        )
    blocks += [Table(["", "trials", "epochs", "wall time"], rows, "lrrr"), calibrated]
    return blocks


def top_table(data: ReportData) -> list[Block]:
    if not data.predictions:
        return [Para("No predictions.")]
    trained = {config_key(p.config): p for p in data.trained if p.config is not None}
    verified = {config_key(p.config) for p in data.verified if p.config is not None}
    stopped = {config_key(p.config): p for p in data.stopped if p.config is not None}
    rows = []
    shown = data.predictions[:TOP]
    varying = varying_extras([p.config for p in shown])  # a grid over batch size, modules...
    other = bool(varying)
    for i, p in enumerate(shown, 1):
        c = p.config
        key = config_key(c)
        status = "verified" if key in verified else "explored" if key in trained else ""
        actual = trained[key].accuracy if key in trained else None
        if key in stopped:
            status, actual = "stopped at epoch 1", stopped[key].accuracy
        rows.append(
            [
                str(i),
                str(c.rank),
                f"{c.alpha:g}",
                lr(c.learning_rate),
                wd(c.weight_decay),
                *([c.extras(varying)] * other),
                f"{score(p.accuracy)} ± {diff(p.accuracy_std)}",
                secs(p.latency),
                status,
                score(actual) if actual is not None else "",
            ]
        )
    header = [
        "#",
        "rank",
        "alpha",
        "lr",
        "wd",
        *(["other"] * other),
        "predicted",
        "s/epoch",
        "trained",
        "actual (validation)",
    ]
    note = (
        "Predictions of configs already trained are fits to their own trial, not forecasts. "
        "A trial stopped early shows its accuracy when it stopped."
    )
    return [Table(header, rows, "rrrrr" + "l" * other + "rrlr", note)]
