"""The race as a benchmark: every strategy x grid x seed replayed, then summarised.

Every strategy picks by validation and is judged on the pick's test accuracy; exhaustive
search picks by validation too, and each strategy's regret is compared with its regret on
the same (grid, seed). Compute is what replay charged. Grids are grouped as `holdout.toml`
fixes them (tuning / held out) and every summary is made per group as well as over all grids.
`benchmarks/race.py` is a thin script over `run_bench`.
"""

from __future__ import annotations

import multiprocessing
import statistics
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from loratune.errors import LoratuneError
from loratune.provenance import GENERATED, git_commit
from loratune.race.checks import (
    Runs,
    false_stops,
    predictor_check,
    predictor_summary,
    reached,
)
from loratune.race.compare import (
    holm,
    random_pick_curve,
    regret_vs,
    wilcoxon_vs,
    wilson,
)
from loratune.race.grids import GROUPS, Grid, Holdout
from loratune.race.roster import DEFAULT, EXHAUSTIVE, Defaults, Entry, roster
from loratune.race.run import (
    SUCCESS_WITHIN,
    RunResult,
    run_strategy,
    test_score,
    val_score,
)
from loratune.space import Space
from loratune.stats import bootstrap_ci
from loratune.strategies.builtin import COLD
from loratune.strategies.search import SurrogateFit, quick_fit

# The strategies whose predictor is checked after its explore phase: the cold start (the
# default until the warm start replaced it; the warm start predicts no whole grid), and the
# cold start without early stopping (its stopped trials enter the fit with a check accuracy
# from epoch 1; the other shows what the predictor does on full trials alone).
NO_STOP = "autotune-no-early-stop"
CHECKED = (COLD, NO_STOP)

# ---------------------------------------------------------------------------------- race

# Set before the worker pool forks, so workers read grids without pickling them.
_CONTEXT: dict[str, Any] = {}


@dataclass(frozen=True)
class Task:
    label: str
    name: str
    seed: int


def _run_task(task: Task) -> tuple[Task, RunResult, dict[str, Any] | None]:
    grids: dict[str, Grid] = _CONTEXT["grids"]
    space: Space = _CONTEXT["space"]
    target = grids[task.label]
    entry = roster(space, target, list(grids.values()), _CONTEXT["defaults"], _CONTEXT["fit"])[
        task.name
    ]
    strategy = entry.make()
    with warnings.catch_warnings():  # optimiser chatter on tiny data sets
        warnings.simplefilter("ignore")
        result = run_strategy(
            strategy, target.rows, task.seed, space=space, noise_within=_CONTEXT["noise_margin"]
        )
    checked = predictor_check(strategy, target) if task.name in CHECKED else None
    return task, result, checked


@dataclass
class RaceOutput:
    runs: dict[str, Runs] = field(default_factory=dict)  # strategy -> (grid, seed) -> result
    # strategy (CHECKED) -> grid -> one check per seed
    predictor: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)


def race(
    grids: Sequence[Grid],
    space: Space,
    names: Sequence[str],
    seeds: int,
    jobs: int,
    defaults: Defaults,
    fit: SurrogateFit | None = quick_fit,
    progress: bool = True,
    noise_margin: float | None = None,
) -> RaceOutput:
    """Every strategy of `names` x grid x seed, replayed; success is also scored at
    `noise_margin` where one is given."""
    _CONTEXT.update(
        grids={g.label: g for g in grids},
        space=space,
        fit=fit,
        defaults=defaults,
        noise_margin=noise_margin,
    )
    tasks = [
        Task(g.label, name, seed)
        for g in grids
        for name in roster(space, g, grids, defaults, fit)
        if name in names
        for seed in range(seeds)
    ]
    finished: dict[tuple[str, str, int], tuple[RunResult, dict[str, Any] | None]] = {}
    for done, (task, result, checked) in enumerate(_map(tasks, jobs), 1):
        finished[(task.label, task.name, task.seed)] = (result, checked)
        if progress and (done % 50 == 0 or done == len(tasks)):
            print(f"  {done}/{len(tasks)} runs", flush=True)
    # Stored in task order, not in the order parallel jobs finished: the bootstrap intervals
    # resample these in order, so --jobs 2 must give what --jobs 1 gives.
    out = RaceOutput()
    for task in tasks:
        result, checked = finished[(task.label, task.name, task.seed)]
        out.runs.setdefault(task.name, {})[(task.label, task.seed)] = result
        if checked is not None:
            out.predictor.setdefault(task.name, {}).setdefault(task.label, []).append(checked)
    return out


def _map(tasks: list[Task], jobs: int) -> Iterator[tuple[Task, RunResult, dict[str, Any] | None]]:
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(_run_task, tasks)
        return
    with multiprocessing.get_context("fork").Pool(jobs, initializer=_one_thread) as pool:
        yield from pool.imap_unordered(_run_task, tasks, chunksize=4)


def _one_thread() -> None:
    """Workers share the cores: one BLAS/torch thread each, or they fight over them."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


# ------------------------------------------------------------------------------ summary


def random_fraction_for(success: float, grids: Sequence[Grid]) -> float | None:
    """The compute fraction random search (picking by validation) needs to reach `success`,
    averaged over grids as the race averages strategies, interpolated between whole trials."""
    if success <= 0:
        return None
    f = np.linspace(0, 1, 2001)
    curves = [random_curve(g) for g in grids]
    mean = np.mean([np.interp(f, c["fraction"], c["success"]) for c in curves], axis=0)
    hit = np.nonzero(mean >= success - 1e-9)[0]
    return float(f[hit[0]]) if len(hit) else 1.0


_CURVES: dict[str, dict[str, np.ndarray]] = {}


def random_curve(grid: Grid) -> dict[str, np.ndarray]:
    key = f"{grid.path}:{grid.sha256}"
    if key not in _CURVES:
        rows = list(grid.rows.values())
        ok = [r.get("status") == "complete" for r in rows]
        _CURVES[key] = random_pick_curve(
            [val_score(r) if good else None for r, good in zip(rows, ok, strict=True)],
            [test_score(r) if good else Fraction(0) for r, good in zip(rows, ok, strict=True)],
            Fraction(str(SUCCESS_WITHIN)),
        )
    return _CURVES[key]


def summarise(
    runs: Runs,
    entry: Entry,
    grids: Sequence[Grid],
    default: Runs | None,
    exhaustive: Runs | None,
) -> dict[str, Any]:
    """One strategy's numbers over `runs` (already restricted to `grids`)."""
    rs = list(runs.values())
    regrets = [r.regret for r in rs]
    wins = sum(r.success for r in rs)
    compute = statistics.fmean(r.compute_fraction for r in rs)
    success = wins / len(rs)
    noisy = [bool(r.success_noise) for r in rs if r.success_noise is not None]
    lo, hi = bootstrap_ci(regrets, seed=0) if len(rs) > 1 else (regrets[0], regrets[0])
    need = random_fraction_for(success, grids)
    out: dict[str, Any] = {
        "rule": entry.rule,
        "budget": entry.budget,
        "equal_compute_to_default": entry.equal_compute,
        "runs": len(rs),
        "success_rate": success,
        "success_ci95": list(wilson(wins, len(rs))),
        "success_rate_noise_margin": statistics.fmean(noisy) if noisy else None,
        "success_noise_margin_ci95": list(wilson(sum(noisy), len(noisy))) if noisy else None,
        "reached_near_best": reached(runs, grids),
        "mean_regret": statistics.fmean(regrets),
        "regret_ci95": [lo, hi],
        "compute_fraction": compute,
        "epoch_fraction": statistics.fmean(r.epoch_fraction for r in rs),
        "mean_seconds": statistics.fmean(r.seconds for r in rs),
        "mean_trials": statistics.fmean(r.trials for r in rs),
        "speedup_vs_exhaustive": 1 / compute if compute > 0 else None,
        "speedup_at_equal_success": need / compute if need is not None and compute > 0 else None,
        "regret_vs_exhaustive": regret_vs(exhaustive, runs) if exhaustive else None,
    }
    if default is not None and runs is not default:
        out["wilcoxon_vs_default"] = wilcoxon_vs(default, runs)
        out["compute_vs_default"] = compute / statistics.fmean(
            r.compute_fraction for r in default.values()
        )
    out["per_grid"] = {
        g.label: {
            "success_rate": statistics.fmean(
                r.success for (lab, _), r in runs.items() if lab == g.label
            ),
            "success_rate_noise_margin": _mean_or_none(
                r.success_noise for (lab, _), r in runs.items() if lab == g.label
            ),
            "mean_regret": statistics.fmean(
                r.regret for (lab, _), r in runs.items() if lab == g.label
            ),
            "compute_fraction": statistics.fmean(
                r.compute_fraction for (lab, _), r in runs.items() if lab == g.label
            ),
            "reached_near_best": reached({k: r for k, r in runs.items() if k[0] == g.label}, [g]),
        }
        for g in grids
        if any(lab == g.label for lab, _ in runs)
    }
    return out


def _mean_or_none(values: Iterable[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def summarise_all(
    output: RaceOutput, entries: Mapping[str, Entry], grids: Sequence[Grid]
) -> dict[str, dict[str, Any]]:
    """Every strategy's summary over `grids`, with Holm-adjusted p-values against the default
    across all its rivals."""
    labels = {g.label for g in grids}
    sub = {
        name: {k: r for k, r in runs.items() if k[0] in labels}
        for name, runs in output.runs.items()
    }
    sub = {name: runs for name, runs in sub.items() if runs}
    default, exhaustive = sub.get(DEFAULT), sub.get(EXHAUSTIVE)
    out = {
        name: summarise(runs, entries[name], grids, default, exhaustive)
        for name, runs in sub.items()
    }
    adjusted = holm(
        {n: s["wilcoxon_vs_default"]["p"] for n, s in out.items() if "wilcoxon_vs_default" in s}
    )
    for name, p in adjusted.items():
        out[name]["wilcoxon_vs_default"]["p_holm"] = p
    return out


def goal_check(strategies: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """Issue 10's goal for the default: no worse than exhaustive search (upper end of the
    regret difference's interval <= 0.5 pt) at <= 20% of its compute, and lower regret than
    Optuna TPE and random search at equal compute (Holm-adjusted p < 0.05)."""
    d = strategies.get(DEFAULT)
    if d is None or d.get("regret_vs_exhaustive") is None:
        return None
    rivals = {}
    for name in ("optuna-tpe", "random"):
        w = (strategies.get(name) or {}).get("wilcoxon_vs_default")
        if w is not None:
            p = w.get("p_holm")
            rivals[name] = {
                "p_holm": p,
                "met": p is not None and p < 0.05 and (w["mean_diff"] or 0) > 0,
            }
    return {
        "regret_vs_exhaustive_ci_high_pt": 100 * d["regret_vs_exhaustive"]["ci_high"],
        "no_worse_than_exhaustive": d["regret_vs_exhaustive"]["ci_high"] <= 0.005,
        "compute_fraction": d["compute_fraction"],
        "within_20pct_compute": d["compute_fraction"] <= 0.20,
        "beats": rivals,
    }


# ---------------------------------------------------------------------------------- report


@dataclass
class Report:
    space: Space
    seeds: int
    used: list[Grid]
    skipped: list[dict[str, Any]]
    holdout: Holdout
    defaults: Defaults
    faithful: bool = False  # predictor fitted exactly as loratune.autotune (else quick_fit)
    recordings: list[dict[str, Any]] = field(default_factory=list)
    noise: dict[str, Any] = field(default_factory=dict)
    margin_line: str = ""
    noise_margin: float | None = None  # the second success margin (noise.noise_margin)
    strategies: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_grid: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Read when the race starts; the figures benchmarks write do not count as edits.
    commit: str | None = field(default_factory=lambda: git_commit(GENERATED))

    def group_of(self, grid: Grid) -> str:
        return self.holdout.group(grid.name)


def fill(report: Report, output: RaceOutput, entries: Mapping[str, Entry]) -> None:
    """The summaries of a finished race: over all grids, per group, per grid."""
    report.strategies = summarise_all(output, entries, report.used)
    for group in GROUPS:
        grids = [g for g in report.used if report.group_of(g) == group]
        if grids:
            strategies = summarise_all(output, entries, grids)
            report.groups[group] = {
                "grids": [g.label for g in grids],
                "strategies": strategies,
                "goal": goal_check(strategies),
            }
    for g in report.used:
        info: dict[str, Any] = {"group": report.group_of(g)}
        checks = output.predictor.get(COLD, {})
        if g.label in checks:
            info["predictor"] = predictor_summary(checks[g.label])
        no_stop = output.predictor.get(NO_STOP, {})
        if g.label in no_stop:
            info["predictor_no_early_stop"] = predictor_summary(no_stop[g.label])
        info["early_stopping"] = {
            name: false_stops(runs, g)
            for name, runs in output.runs.items()
            if entries[name].stops_early
        }
        report.per_grid[g.label] = info


def run_bench(
    report: Report,
    names: Sequence[str] | None,
    jobs: int,
    fit: SurrogateFit | None = quick_fit,
) -> Report:
    """Race `names` (default: every strategy of the roster) on the report's grids; exhaustive
    search, the default and the cold start are always raced: every other strategy is compared
    with the first two, and the predictor check reads the cold start."""
    all_entries = entries_of(report.space, report.used, report.defaults, fit)
    names = list(dict.fromkeys([EXHAUSTIVE, DEFAULT, COLD, *(names or all_entries)]))
    unknown = [n for n in names if n not in all_entries] if report.used else []
    if unknown:
        raise LoratuneError(f"unknown strategies {unknown}: choose from {sorted(all_entries)}")
    if not report.used:
        return report
    print(
        f"race: {len(report.used)} grid(s), {len(names)} strategies, {report.seeds} seeds",
        flush=True,
    )
    output = race(
        report.used,
        report.space,
        names,
        report.seeds,
        jobs,
        report.defaults,
        fit,
        noise_margin=report.noise_margin,
    )
    fill(report, output, all_entries)
    return report


def entries_of(
    space: Space, grids: Sequence[Grid], defaults: Defaults, fit: SurrogateFit | None
) -> dict[str, Entry]:
    """Every strategy raced on any grid (transfer exists only where another domain does)."""
    out: dict[str, Entry] = {}
    for g in grids:
        for name, entry in roster(space, g, grids, defaults, fit).items():
            out.setdefault(name, entry)
    return out
