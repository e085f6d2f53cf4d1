"""Rich tables for predictions and validation statistics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from loratune.strategies.autotune import Prediction


def _f(x: Any, fmt: str = ".3f") -> str:
    return "-" if x is None else format(x, fmt)


def predictions_table(preds: Sequence[Prediction], title: str, limit: int = 20) -> Table:
    t = Table(title=title)
    for col in ("#", "rank", "alpha", "lr", "wd", "pred. accuracy", "s/epoch", "cost", "tried"):
        t.add_column(col, justify="right")
    for i, p in enumerate(preds[:limit], 1):
        c = p.config
        t.add_row(
            str(i),
            str(c.rank),
            f"{c.alpha:g}",
            f"{c.learning_rate:g}",
            f"{c.weight_decay:g}",
            f"{p.accuracy:.3f} ± {p.accuracy_std:.3f}",
            f"{p.latency:.1f}",
            f"{p.cost:.4f}",
            "yes" if p.tried else "",
        )
    return t


def verified_table(validation: dict[str, Any]) -> Table:
    t = Table(title="Predicted vs actual (verified configs)")
    for col in ("config", "predicted", "actual", "error"):
        t.add_column(col, justify="right")
    for row in validation.get("rows", []):
        t.add_row(
            row["config"],
            f"{row['predicted']:.3f} ± {row['std']:.3f}",
            f"{row['actual']:.3f}",
            f"{row['predicted'] - row['actual']:+.3f}",
        )
    return t


def _why(tests: dict[str, Any], name: str) -> str:
    """The reason a test is undefined (too few verified configs), so '-' is not a mystery."""
    reason = (tests.get(name) or {}).get("reason")
    return f" ({name.replace('_', '-')}: {reason})" if reason else ""


def print_validation(console: Console, v: dict[str, Any]) -> None:
    console.print(verified_table(v))
    r = v.get("pick_vs_runner_up")
    if r:
        verdict = "told apart from" if r["distinguishable"] else "within validation noise of"
        console.print(
            f"the pick is {verdict} the runner-up {r['config']} (validation {r['accuracy']:.3f}): "
            f"{r['a_only']} vs {r['b_only']} of {r['examples']} examples answered by one only, "
            f"exact McNemar p = {r['p']:.3f}"
        )
    p = v.get("prediction") or {}
    tests = v.get("tests") or {}
    ci = v.get("mae_ci95")
    console.print(
        f"MAE {_f(p.get('mae'))} (95% CI {_f(ci[0]) if ci else '-'}–{_f(ci[1]) if ci else '-'}), "
        f"RMSE {_f(p.get('rmse'))}, Spearman {_f(_get(p, 'spearman'))}, "
        f"Kendall {_f(_get(p, 'kendall'))}, 90% coverage {_f(p.get('coverage'), '.2f')}"
    )
    console.print(
        f"paired t-test p={_f(_get(tests, 't_test', 'p'), '.3g')}, "
        f"Wilcoxon p={_f(_get(tests, 'wilcoxon', 'p'), '.3g')}"
        + _why(tests, "t_test")
        + _why(tests, "wilcoxon")
    )
    console.print(
        f"regret of the predicted best vs best in study: {_f(v.get('top1_regret_vs_study'))}"
    )
    if "regret_vs_grid" in v:
        console.print(
            f"regret of the pick vs the grid's best: {_f(v['regret_vs_grid'])} "
            f"(grid study {v['grid']['study']}, {v['grid']['trials']} trials)"
        )
    if v.get("stopped_early"):
        console.print(
            f"{v['stopped_early']} trials stopped early after epoch 1 "
            f"({v.get('verified_stopped_early', 0)} of them verified picks, left out of the "
            "prediction statistics)"
        )
    s = v.get("speedup", {})
    ci = s.get("factor_ci95")
    if ci:
        console.print(f"predicted speedup, 95% interval {ci[0]:.1f}x to {ci[1]:.1f}x")
    console.print(
        f"speedup {_f(s.get('factor'), '.1f')}x against the exhaustive grid "
        f"({s.get('source')}: {_f(s.get('grid_seconds'), '.0f')} s vs "
        f"{_f(v['spent']['seconds'], '.0f')} s spent), compute saved "
        f"{_f((s.get('cost_saved') or 0) * 100, '.1f')}%"
    )
    for w in v.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {w}")


def _get(d: dict[str, Any], *keys: str) -> Any:
    """Nested lookup tolerant of missing keys and of (value, p) pairs stored as dicts."""
    cur: Any = d
    for k in keys:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(k)
    if isinstance(cur, dict):
        return cur.get("rho", cur.get("tau", cur.get("value")))
    return cur
