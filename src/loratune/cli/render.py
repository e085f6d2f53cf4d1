"""Rich tables for predictions and validation statistics."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from loratune.results import Prediction, Validation
from loratune.space import varying_extras
from loratune.stats import TestResult


def _f(x: float | None, fmt: str = ".3f") -> str:
    return "-" if x is None else format(x, fmt)


def predictions_table(preds: Sequence[Prediction], title: str, limit: int = 20) -> Table:
    t = Table(title=title)
    shown = preds[:limit]
    varying = varying_extras([p.config for p in shown])  # a grid over batch size, modules...
    other = bool(varying)
    cols = ["#", "rank", "alpha", "lr", "wd", *(["other"] * other)]
    for col in (*cols, "pred. accuracy", "s/epoch", "cost", "tried"):
        # "other" folds rather than ellipsises: it is what tells two rows apart.
        t.add_column(col, justify="right", overflow="fold" if col == "other" else "ellipsis")
    for i, p in enumerate(shown, 1):
        c = p.config
        t.add_row(
            str(i),
            str(c.rank),
            f"{c.alpha:g}",
            f"{c.learning_rate:g}",
            f"{c.weight_decay:g}",
            *([c.extras(varying)] * other),
            f"{p.accuracy:.3f} ± {p.accuracy_std:.3f}",
            f"{p.latency:.1f}",
            f"{p.cost:.4f}",
            "yes" if p.tried else "",
        )
    return t


def verified_table(validation: Validation) -> Table:
    t = Table(title="Predicted vs actual (verified configs)")
    for col in ("config", "predicted", "actual", "error"):
        t.add_column(col, justify="right")
    for row in validation.rows:
        t.add_row(
            row.config,
            f"{row.predicted:.3f} ± {row.std:.3f}",
            f"{row.actual:.3f}",
            f"{row.predicted - row.actual:+.3f}",
        )
    return t


def _why(name: str, test: TestResult | None) -> str:
    """The reason a test is undefined (too few verified configs), so '-' is not a mystery."""
    return f" ({name}: {test.reason})" if test is not None and test.reason else ""


def print_validation(console: Console, v: Validation) -> None:
    console.print(verified_table(v))
    r = v.pick_vs_runner_up
    if r is not None:
        d = r.difference
        verdict = "told apart from" if r.distinguishable else "within validation noise of"
        console.print(
            f"the pick is {verdict} the runner-up {r.config} (validation {_f(r.accuracy)}): "
            f"{d.a_only} vs {d.b_only} of {d.examples} examples answered by one only, "
            f"exact McNemar p = {d.p:.3f}"
        )
    p, tests, ci = v.prediction, v.tests, v.mae_ci95
    rho = p.spearman if p is not None else None
    tau = p.kendall if p is not None else None
    console.print(
        f"MAE {_f(p.mae if p else None)} (95% CI {_f(ci[0]) if ci else '-'}–"
        f"{_f(ci[1]) if ci else '-'}), RMSE {_f(p.rmse if p else None)}, "
        f"Spearman {_f(rho.value if rho else None)}, Kendall {_f(tau.value if tau else None)}, "
        f"90% coverage {_f(p.coverage if p else None, '.2f')}"
    )
    t_test = tests.t_test if tests else None
    wilcoxon = tests.wilcoxon if tests else None
    console.print(
        f"paired t-test p={_f(t_test.p if t_test else None, '.3g')}, "
        f"Wilcoxon p={_f(wilcoxon.p if wilcoxon else None, '.3g')}"
        + _why("t-test", t_test)
        + _why("wilcoxon", wilcoxon)
    )
    console.print(f"regret of the predicted best vs best in study: {_f(v.top1_regret_vs_study)}")
    if v.grid is not None and v.regret_vs_grid is not None:
        console.print(
            f"regret of the pick vs the grid's best: {_f(v.regret_vs_grid)} "
            f"(grid study {v.grid.study}, {v.grid.trials} trials)"
        )
    if v.stopped_early:
        console.print(
            f"{v.stopped_early} trials stopped early after epoch 1 "
            f"({v.verified_stopped_early} of them verified picks, left out of the "
            "prediction statistics)"
        )
    s = v.speedup
    if s.across is not None:  # the grid's seconds were measured on another machine
        _print_across(console, v)
    else:
        if s.factor_ci95:
            console.print(
                f"predicted speedup, 95% interval {s.factor_ci95[0]:.1f}x to "
                f"{s.factor_ci95[1]:.1f}x"
            )
        console.print(
            f"speedup {_f(s.factor, '.1f')}x against the exhaustive grid "
            f"({s.source}: {_f(s.grid_seconds, '.0f')} s vs "
            f"{_f(v.spent.seconds, '.0f')} s spent), compute saved "
            f"{_f((s.cost_saved or 0) * 100, '.1f')}%"
        )
    for w in v.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")


def _print_across(console: Console, v: Validation) -> None:
    """The grid was recorded on another machine: no seconds ratio across machines; the
    speedup in trials and epochs, and in seconds only against the grid calibrated here."""
    s, a = v.speedup, v.speedup.across
    assert a is not None
    console.print(a.machines_line())
    console.print(a.counts_line())
    if a.calibrated_grid_seconds is None:
        console.print(
            "no config this run trained to the end is in the grid: no calibrated seconds ratio"
        )
        return
    n = a.calibrated_on
    console.print(
        f"calibrated speedup {_f(s.factor, '.1f')}x against the exhaustive grid "
        f"(its {_f(s.grid_seconds, '.0f')} s scaled by {_f(a.calibration, '.2f')}, the median "
        f"of this run's seconds / the grid's on the {n} config{'' if n == 1 else 's'} both "
        f"trained, to {_f(a.calibrated_grid_seconds, '.0f')} s on this machine, vs "
        f"{_f(v.spent.seconds, '.0f')} s spent), compute saved "
        f"{_f((s.cost_saved or 0) * 100, '.1f')}%"
    )
