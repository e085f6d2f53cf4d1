"""Race every tuning strategy on every complete recorded grid, replayed (no training).

Each strategy runs with many seeds against a `ReplayExecutor` of each grid that holds every
config of the space, and is scored against the grid's best: regret, success (within 1 point),
compute spent (simulated seconds and epochs) as a fraction of the whole grid's. loratune's
default strategy is tested against each rival with a paired Wilcoxon test. Writes
RESULTS.md, results.json and regret_vs_compute.png next to this file (or in --out).

    python benchmarks/race.py                         # every grid in benchmarks/grids, 20 seeds
    python benchmarks/race.py --seeds 5 --strategies loratune-default random
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import multiprocessing
import os
import statistics
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats as sps

from loratune.api.autotune import DEFAULT_EARLY_STOP, DEFAULT_EXPLORE, DEFAULT_VERIFY
from loratune.errors import LoratuneError
from loratune.executors.replay import load_grid
from loratune.provenance import git_commit
from loratune.space import Space, config_key, load_space
from loratune.stats import bootstrap_ci
from loratune.strategies.race import (
    SUCCESS_WITHIN,
    Autotune,
    AutotuneTransfer,
    EarlyStop,
    Exhaustive,
    Hyperband,
    OptunaSearch,
    RandomSearch,
    RunResult,
    Strategy,
    SuccessiveHalving,
    SurrogateFit,
    quick_fit,
    run_strategy,
)

HERE = Path(__file__).resolve().parent
DEFAULT = "loratune-default"
RECIPE = (16, 5)  # the user document: 16 explored, top 5 predicted verified
TRANSFER_EXPLORE = 6
EXPLORE_VARIANTS = (6, 8, 16, 20)  # the default's own N is the `loratune-default` entry


# ---------------------------------------------------------------------------------- grids


@dataclass(frozen=True)
class Grid:
    """One recorded grid file and the facts RESULTS.md reports about where it came from."""

    path: Path
    label: str  # model/domain
    model: str
    domain: str
    rows: dict[str, dict[str, Any]]
    complete_rows: int
    failed_rows: int
    missing: int  # configs of the space not in the file
    commits: tuple[str, ...]
    sha256: str

    @property
    def usable(self) -> bool:
        return self.missing == 0 and self.complete_rows > 0


@functools.lru_cache(maxsize=64)
def _read(path: str, mtime: float) -> dict[str, dict[str, Any]]:
    """Parsed once per file version: the race replays each grid hundreds of times."""
    return load_grid(path)


def read_grid(path: Path, space: Space) -> Grid:
    rows = _read(str(path), path.stat().st_mtime)
    first = next(iter(rows.values()))
    have = set(rows)
    commits = sorted(
        {str((r.get("provenance") or {}).get("git_commit")) for r in rows.values()} - {"None"}
    )
    return Grid(
        path=path,
        label=f"{path.parent.name}/{path.stem}",
        model=str(first.get("model") or path.parent.name),
        domain=str(first.get("domain") or path.stem),
        rows=rows,
        complete_rows=sum(r.get("status") == "complete" for r in rows.values()),
        failed_rows=sum(r.get("status") != "complete" for r in rows.values()),
        missing=sum(config_key(c) not in have for c in space.configs()),
        commits=tuple(commits),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest()[:12],
    )


def find_grids(paths: Sequence[Path], space: Space) -> tuple[list[Grid], list[dict[str, str]]]:
    """Readable grids, and the files that could not be read (e.g. caught mid-write)."""
    grids, unreadable = [], []
    for p in paths:
        try:
            grids.append(read_grid(p, space))
        except (LoratuneError, OSError) as exc:
            unreadable.append({"path": str(p), "reason": str(exc)})
    return grids, unreadable


# ----------------------------------------------------------------------------- strategies


@dataclass(frozen=True)
class Entry:
    """A strategy of the race: how to build it, what it does, and whether its budget is set
    to the default's (so the paired test compares equal compute)."""

    make: Callable[[], Strategy]
    rule: str
    budget: str
    equal_compute: bool = False


def roster(
    space: Space, target: Grid, grids: Sequence[Grid], fit: SurrogateFit | None = quick_fit
) -> dict[str, Entry]:
    """The strategies raced on `target`; `fit` is the predictor fit of the autotune family
    (None: exactly `loratune.autotune`'s, three GP restarts and all targets model-selected)."""
    epochs = max(c.epochs for c in space.configs())
    n = DEFAULT_EXPLORE + DEFAULT_VERIFY
    ne = n * epochs
    es = EarlyStop()
    es_rule = f"stop at epoch 1 if z >= {es.z:g} below best (n_val {es.n_val})"
    # The default and its variants stop early exactly when `loratune autotune` does by default,
    # so each variant differs from the default in one thing only.
    default_es = es if DEFAULT_EARLY_STOP else None
    default_rule = f"Sobol {DEFAULT_EXPLORE}, fit predictor, verify top {DEFAULT_VERIFY} predicted"
    if DEFAULT_EARLY_STOP:
        default_rule += f", {es_rule}"
    toggled = "autotune-no-early-stop" if DEFAULT_EARLY_STOP else "autotune-early-stop"
    entries = {
        "exhaustive": Entry(Exhaustive, "every config, grid order", "whole grid"),
        "random": Entry(
            lambda: RandomSearch(n), "uniform without replacement", f"{n} trials", True
        ),
        "document-recipe": Entry(
            lambda: Autotune(*RECIPE, name="document-recipe", fit=fit),
            f"Sobol {RECIPE[0]}, fit predictor, verify top {RECIPE[1]} predicted",
            f"{sum(RECIPE)} trials",
        ),
        DEFAULT: Entry(
            lambda: Autotune(
                DEFAULT_EXPLORE, DEFAULT_VERIFY, early_stop=default_es, name=DEFAULT, fit=fit
            ),
            default_rule,
            f"<= {n} trials" if DEFAULT_EARLY_STOP else f"{n} trials",
        ),
        "optuna-tpe": Entry(
            lambda: OptunaSearch("tpe", n), "Optuna TPESampler, categorical", f"{n} trials", True
        ),
        "optuna-gp": Entry(
            lambda: OptunaSearch("gp", n), "Optuna GPSampler, categorical", f"{n} trials", True
        ),
        "hyperband": Entry(
            lambda: Hyperband(budget_epochs=ne),
            "Hyperband on epochs (eta 3), promoted configs retrained",
            f"{ne} epochs",
            True,
        ),
        "asha": Entry(
            lambda: SuccessiveHalving(budget_epochs=ne),
            "async successive halving, stop at epoch 1 unless top 1/3",
            f"{ne} epochs",
            True,
        ),
        toggled: Entry(
            lambda: Autotune(
                DEFAULT_EXPLORE,
                DEFAULT_VERIFY,
                early_stop=None if DEFAULT_EARLY_STOP else es,
                name=toggled,
                fit=fit,
            ),
            "default without early stopping" if DEFAULT_EARLY_STOP else f"default + {es_rule}",
            f"{n} trials" if DEFAULT_EARLY_STOP else f"<= {n} trials",
        ),
    }
    # Variants that choose autotune's defaults by measurement: explore size and verify rule.
    for n_explore in EXPLORE_VARIANTS:
        entries[f"autotune-n{n_explore}"] = Entry(
            lambda n_explore=n_explore: Autotune(
                n_explore,
                DEFAULT_VERIFY,
                early_stop=default_es,
                name=f"autotune-n{n_explore}",
                fit=fit,
            ),
            f"default with Sobol {n_explore} explored",
            f"{n_explore + DEFAULT_VERIFY} trials",
        )
    entries["autotune-ei"] = Entry(
        lambda: Autotune(
            DEFAULT_EXPLORE,
            DEFAULT_VERIFY,
            rule="ei",
            early_stop=default_es,
            name="autotune-ei",
            fit=fit,
        ),
        f"default, verifying the top {DEFAULT_VERIFY} by expected improvement",
        f"{n} trials",
    )
    others = {g.label: g.rows for g in grids if g.domain != target.domain and g.complete_rows}
    if others:
        entries["autotune-transfer"] = Entry(
            lambda: AutotuneTransfer(
                others,
                target.domain,
                TRANSFER_EXPLORE,
                DEFAULT_VERIFY,
                name="autotune-transfer",
                fit=fit,
            ),
            f"Sobol {TRANSFER_EXPLORE} + other domains' grids (domain one-hot), "
            f"verify top {DEFAULT_VERIFY}",
            f"{TRANSFER_EXPLORE + DEFAULT_VERIFY} trials",
        )
    return entries


# ---------------------------------------------------------------------------------- race

# Set before the worker pool forks, so workers read grids without pickling them.
_CONTEXT: dict[str, Any] = {}


def _run_task(task: tuple[str, str, int]) -> tuple[str, str, int, RunResult]:
    label, name, seed = task
    grids: dict[str, Grid] = _CONTEXT["grids"]
    space: Space = _CONTEXT["space"]
    entry = roster(space, grids[label], list(grids.values()), _CONTEXT["fit"])[name]
    with warnings.catch_warnings():  # optimiser chatter on tiny data sets
        warnings.simplefilter("ignore")
        result = run_strategy(entry.make(), grids[label].rows, seed, space=space)
    return label, name, seed, result


def race(
    grids: Sequence[Grid],
    space: Space,
    names: Sequence[str],
    seeds: int,
    jobs: int,
    fit: SurrogateFit | None = quick_fit,
) -> dict[str, dict[tuple[str, int], RunResult]]:
    """{strategy: {(grid label, seed): result}} for every strategy x grid x seed."""
    _CONTEXT.update(grids={g.label: g for g in grids}, space=space, fit=fit)
    tasks = [
        (g.label, name, seed)
        for g in grids
        for name in roster(space, g, grids)
        if name in names
        for seed in range(seeds)
    ]
    out: dict[str, dict[tuple[str, int], RunResult]] = {}
    for done, (label, name, seed, result) in enumerate(_map(tasks, jobs), 1):
        out.setdefault(name, {})[(label, seed)] = result
        if done % 50 == 0 or done == len(tasks):
            print(f"  {done}/{len(tasks)} runs", flush=True)
    return out


def _map(tasks: list[tuple[str, str, int]], jobs: int) -> Iterator[tuple[str, str, int, RunResult]]:
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


# ------------------------------------------------------------------------------ statistics


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a success rate: sound near 0 and 1, unlike p +- z se."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _accuracies(grid: Grid) -> list[float]:
    """Each row's test accuracy; a failed row counts 0, as a run that finds nothing does."""
    return [
        float(r["accuracy"]) if r.get("status") == "complete" else 0.0 for r in grid.rows.values()
    ]


def random_curve(grid: Grid, within: float = SUCCESS_WITHIN) -> dict[str, np.ndarray]:
    """Random search on this grid, exactly: for b = 0..M configs drawn without replacement,
    P(success) = 1 - C(M - g, b) / C(M, b) (g configs are within `within` of the best), and
    E[best found] by order statistics, P(max <= v_(k)) = C(k, b) / C(M, b). Its expected
    compute fraction is b / M, since every config is equally likely to be drawn."""
    acc = np.sort(np.array(_accuracies(grid)))
    m, best = len(acc), float(acc.max())
    g = int(np.sum(acc >= best - within - 1e-9))
    b = np.arange(m + 1)
    success = np.array([1 - math.comb(m - g, k) / math.comb(m, k) for k in b])
    expected = np.zeros(m + 1)
    for k in b[1:]:
        cdf = np.array([math.comb(j, k) for j in range(m + 1)], dtype=float) / math.comb(m, k)
        expected[k] = float(np.sum(acc * np.diff(cdf)))
    return {"fraction": b / m, "success": success, "regret": best - expected}


def random_fraction_for(success: float, grids: Sequence[Grid]) -> float | None:
    """The compute fraction random search needs to reach `success` (averaged over grids as the
    race averages strategies), interpolated between whole trials."""
    if success <= 0:
        return None
    f = np.linspace(0, 1, 2001)
    curves = [random_curve(g) for g in grids]
    mean = np.mean([np.interp(f, c["fraction"], c["success"]) for c in curves], axis=0)
    hit = np.nonzero(mean >= success - 1e-9)[0]
    return float(f[hit[0]]) if len(hit) else 1.0


def wilcoxon_vs_default(
    default: dict[tuple[str, int], RunResult], rival: dict[tuple[str, int], RunResult]
) -> dict[str, Any]:
    """Paired over (grid, seed): rival regret - default regret (> 0: the default did better).

    Wilcoxon's signed-rank test, two-sided, zero differences dropped (Wilcoxon's own method).
    """
    keys = sorted(set(default) & set(rival))
    d = np.array([rival[k].regret - default[k].regret for k in keys])
    out: dict[str, Any] = {
        "n": len(d),
        "mean_diff": float(d.mean()) if len(d) else None,
        "default_better": int(np.sum(d > 1e-12)),
        "rival_better": int(np.sum(d < -1e-12)),
        "ties": int(np.sum(np.abs(d) <= 1e-12)),
    }
    nonzero = d[np.abs(d) > 1e-12]
    if len(nonzero) == 0:
        return {**out, "statistic": None, "p": 1.0, "note": "identical regrets in every pair"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sps.wilcoxon(nonzero)
    note = "" if len(nonzero) >= 6 else "fewer than 6 non-zero pairs: p cannot reach 0.05"
    return {**out, "statistic": float(res.statistic), "p": float(res.pvalue), "note": note}


def summarise(
    name: str,
    runs: dict[tuple[str, int], RunResult],
    entry: Entry,
    grids: Sequence[Grid],
    default: dict[tuple[str, int], RunResult] | None,
) -> dict[str, Any]:
    rs = list(runs.values())
    regrets = [r.regret for r in rs]
    wins = sum(r.success for r in rs)
    compute = statistics.fmean(r.compute_fraction for r in rs)
    success = wins / len(rs)
    rand = random_fraction_for(success, [g for g in grids if any(k[0] == g.label for k in runs)])
    lo, hi = bootstrap_ci(regrets, seed=0) if len(rs) > 1 else (regrets[0], regrets[0])
    out: dict[str, Any] = {
        "rule": entry.rule,
        "budget": entry.budget,
        "equal_compute_to_default": entry.equal_compute or name == DEFAULT,
        "compute_vs_default": (
            compute / statistics.fmean(r.compute_fraction for r in default.values())
            if default
            else 1.0
        ),
        "runs": len(rs),
        "success_rate": success,
        "success_ci95": list(wilson(wins, len(rs))),
        "mean_regret": statistics.fmean(regrets),
        "regret_ci95": [lo, hi],
        "max_regret": max(regrets),
        "compute_fraction": compute,
        "epoch_fraction": statistics.fmean(r.epoch_fraction for r in rs),
        "mean_trials": statistics.fmean(r.trials for r in rs),
        "mean_full_trials": statistics.fmean(r.full_trials for r in rs),
        "speedup_vs_exhaustive": 1 / compute if compute > 0 else None,
        "random_compute_at_equal_success": rand,
        "speedup_at_equal_success": rand / compute if rand is not None and compute > 0 else None,
        "per_grid": _per_grid(runs),
    }
    if default is not None and name != DEFAULT:
        out["wilcoxon_vs_default"] = wilcoxon_vs_default(default, runs)
    return out


def _per_grid(runs: dict[tuple[str, int], RunResult]) -> dict[str, dict[str, float]]:
    out = {}
    for label in sorted({k[0] for k in runs}):
        rs = [r for k, r in runs.items() if k[0] == label]
        out[label] = {
            "success_rate": statistics.fmean(r.success for r in rs),
            "mean_regret": statistics.fmean(r.regret for r in rs),
            "compute_fraction": statistics.fmean(r.compute_fraction for r in rs),
        }
    return out


# ---------------------------------------------------------------------------------- output


@dataclass
class Report:
    space: Space
    seeds: int
    used: list[Grid]
    skipped: list[dict[str, Any]]
    faithful: bool = False  # predictor fitted exactly as loratune.autotune (else quick_fit)
    strategies: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Read when the race starts: once it writes results.json the checkout is always dirty.
    commit: str | None = field(default_factory=git_commit)

    def notes(self) -> list[str]:
        notes = []
        if not self.used:
            notes.append("No complete recorded grid yet: nothing was raced.")
        elif len(self.used) == 1:
            g = self.used[0]
            notes.append(
                f"Only one grid ({g.label}): every number below is for that one task and model; "
                "it says nothing yet about how strategies generalise across domains."
            )
        notes += [
            f"{g.label} has {g.failed_rows} failed row(s): a strategy that trains one is charged "
            "its recorded seconds and learns nothing from it."
            for g in self.used
            if g.failed_rows
        ]
        notes += [f"Left out: {s['label'] or s['path']}: {s['reason']}." for s in self.skipped]
        if self.used and "autotune-transfer" not in self.strategies:
            notes.append(
                "autotune-transfer did not run: it needs a recorded grid of another domain."
            )
        return notes

    def to_json(self) -> dict[str, Any]:
        return {
            "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "loratune_commit": self.commit,
            "space": self.space.to_dict(),
            "settings": {
                "seeds": self.seeds,
                "success_within": SUCCESS_WITHIN,
                "default": {"explore": DEFAULT_EXPLORE, "verify": DEFAULT_VERIFY},
                "predictor_fit": "fit_predictor" if self.faithful else "quick_fit",
            },
            "grids": [_grid_info(g) for g in self.used],
            "skipped": self.skipped,
            "notes": self.notes(),
            "strategies": self.strategies,
        }


def _grid_info(g: Grid) -> dict[str, Any]:
    return {
        "label": g.label,
        "path": _rel(g.path),
        "model": g.model,
        "domain": g.domain,
        "rows": len(g.rows),
        "complete": g.complete_rows,
        "failed": g.failed_rows,
        "recorded_at_commits": list(g.commits),
        "sha256_12": g.sha256,
    }


def _rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(HERE.parent))
    except ValueError:
        return str(p)


def _pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f}%"


def _num(x: float | None, fmt: str = ".2f", suffix: str = "") -> str:
    return "—" if x is None else f"{x:{fmt}}{suffix}"


def _test_cell(s: dict[str, Any]) -> str:
    w = s.get("wilcoxon_vs_default")
    if w is None:
        return "(reference)"
    p = "—" if w["p"] is None else f"{w['p']:.3g}"
    ratio = s.get("compute_vs_default", 1.0)
    # "Equal budget" is the same trials or epochs; with early stopping the default may spend
    # less than its budget, so the measured compute ratio is what the reader should see.
    eq = f", {ratio:.2f}× default's compute"
    if not s["equal_compute_to_default"]:
        eq += ", other budget"
    return (
        f"p={p}, Δ={100 * w['mean_diff']:+.2f} pt, "
        f"{w['default_better']}/{w['rival_better']}/{w['ties']}{eq}"
    )


def markdown(report: Report) -> str:
    lines = [
        "# Strategy race on recorded grids",
        "",
        "Generated by `make bench` (`benchmarks/race.py`) from loratune commit "
        f"`{report.commit}`, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. No training: every "
        "trial is replayed from a recorded real grid (`ReplayExecutor`, simulated clock).",
        "",
        "## Where the numbers come from",
        "",
        "| grid file | model | domain | rows (complete / failed) | recorded at commit | sha256 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for g in report.used:
        commits = ", ".join(f"`{c}`" for c in g.commits) or "unknown"
        lines.append(
            f"| `{_rel(g.path)}` | {g.model} | {g.domain} | {len(g.rows)} "
            f"({g.complete_rows} / {g.failed_rows}) | {commits} | `{g.sha256}` |"
        )
    if not report.used:
        lines.append("| (none) | | | | | |")
    lines += [
        "",
        f"Space `{report.space.name}`: {len(report.space)} configs; {report.seeds} seeds per "
        "strategy and grid.",
        "",
    ]
    lines += [f"- **{n}**" for n in report.notes()]
    if report.strategies:
        lines += _results_section(report)
    lines += _definitions(report.faithful)
    return "\n".join(lines) + "\n"


def _results_section(report: Report) -> list[str]:
    lines = [
        "",
        "## Results",
        "",
        "| strategy | rule | budget | trials | compute | epochs | mean regret [95% CI] "
        "| success [95% CI] | speedup vs grid | speedup at equal success "
        "| Wilcoxon vs default (p, Δ regret, default better / rival better / ties) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    order = sorted(report.strategies, key=lambda n: report.strategies[n]["compute_fraction"])
    for name in order:
        s = report.strategies[name]
        lo, hi = s["regret_ci95"]
        slo, shi = s["success_ci95"]
        lines.append(
            f"| {'**' + name + '**' if name == DEFAULT else name} | {s['rule']} | {s['budget']} "
            f"| {s['mean_trials']:.1f} | {_pct(s['compute_fraction'])} "
            f"| {_pct(s['epoch_fraction'])} "
            f"| {100 * s['mean_regret']:.2f} pt [{100 * lo:.2f}, {100 * hi:.2f}] "
            f"| {_pct(s['success_rate'], 0)} [{_pct(slo, 0)}, {_pct(shi, 0)}] "
            f"| {_num(s['speedup_vs_exhaustive'], '.1f', '×')} "
            f"| {_num(s['speedup_at_equal_success'], '.2f', '×')} | {_test_cell(s)} |"
        )
    lines += ["", "![mean regret against compute](regret_vs_compute.png)", ""]
    lines += _per_grid_section(report, order)
    return lines


def _per_grid_section(report: Report, order: Sequence[str]) -> list[str]:
    """Success / mean regret / compute of every strategy on each grid: a strategy that wins
    on average by winning on one domain shows it here."""
    labels = [g.label for g in report.used]
    if len(labels) < 2:
        return []
    lines = [
        "## Per grid",
        "",
        "Success rate, mean regret and compute of each strategy on each grid "
        f"({report.seeds} seeds each).",
        "",
        "| strategy | " + " | ".join(f"`{label}`" for label in labels) + " |",
        "| --- |" + " --- |" * len(labels),
    ]
    for name in order:
        per = report.strategies[name].get("per_grid", {})
        cells = [
            f"{_pct(c['success_rate'], 0)} · {100 * c['mean_regret']:.2f} pt · "
            f"{_pct(c['compute_fraction'])}"
            if (c := per.get(label))
            else "—"
            for label in labels
        ]
        shown = f"**{name}**" if name == DEFAULT else name
        lines.append(f"| {shown} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _definitions(faithful: bool) -> list[str]:
    fit = (
        "exactly as `loratune.autotune` fits it (`fit_predictor`)."
        if faithful
        else "with `quick_fit`: the same candidates and cross-validated choice for accuracy, the "
        "GP optimised from one start instead of three, and time/cost (which never change a "
        "pick) by one extra-trees fit; `--faithful` uses `fit_predictor` itself, slower."
    )
    return [
        "",
        "## How each number is computed",
        "",
        "- **regret**: the grid's best test accuracy minus the test accuracy of the best trial "
        "the strategy trained to the last epoch (a trial stopped early never counts as a pick), "
        "in accuracy points. **success**: regret <= 1 point. Intervals: bootstrap (regret) and "
        "Wilson (success), 95%.",
        "- **compute**: simulated seconds the strategy was charged (a stopped trial pays its "
        "share of epochs) over the seconds the whole grid took to record; **epochs**: epochs "
        "charged over the grid's epochs. Exhaustive search is 100% on both.",
        "- **speedup vs grid**: 1 / compute. **speedup at equal success**: the compute random "
        "search needs to reach the same success rate, divided by the strategy's compute. Random "
        "search's need is exact, not simulated: drawing b of M configs without replacement "
        "succeeds with probability 1 - C(M-g, b) / C(M, b) when g configs are within 1 point of "
        "the best, and costs b / M of the grid in expectation; b is interpolated between whole "
        "trials and the probability averaged over grids. Above 1x the strategy beats random "
        "search at its own success rate; a strategy that never succeeds gets none.",
        "- **Wilcoxon vs default**: for each (grid, seed) pair, rival regret minus "
        f"`{DEFAULT}` regret (Δ > 0: the default did better); two-sided Wilcoxon signed-rank "
        "test on the non-zero differences (scipy). Random, Optuna TPE/GP, Hyperband and ASHA "
        "get the default's budget (its trials, or its trials' epochs); the others have a budget "
        "of their own (marked other budget). Each cell also gives the rival's measured mean "
        "compute over the default's: a default that stops trials early spends less than its "
        "budget, so a rival at the same budget spends more.",
        f"- **predictor**: the autotune strategies fit loratune's predictor {fit}",
        "- The plot shows each strategy's mean regret against its compute fraction, with the "
        "exact expected regret of random search for reference.",
    ]


MARKERS = "osD^v<>ph*XP"


def plot(report: Report, path: Path) -> None:
    fig = Figure(figsize=(8, 5), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    f = np.linspace(0, 1, 401)
    curves = [random_curve(g) for g in report.used]
    mean = 100 * np.mean([np.interp(f, c["fraction"], c["regret"]) for c in curves], axis=0)
    start = max(c["fraction"][1] for c in curves)  # from one trial on: zero trials finds nothing
    shown = f >= start
    ax.plot(f[shown], mean[shown], color="0.6", lw=1, ls="--", label="random search (exact)")
    top = 0.0
    for i, (name, s) in enumerate(report.strategies.items()):
        lo, hi = (100 * v for v in s["regret_ci95"])
        y = 100 * s["mean_regret"]
        ax.errorbar(
            s["compute_fraction"],
            y,
            yerr=[[y - lo], [hi - y]],
            fmt=MARKERS[i % len(MARKERS)],
            ms=7,
            capsize=3,
            label=f"{name} ({y:.2f} pt, {100 * s['compute_fraction']:.0f}%)",
        )
        top = max(top, hi, float(np.interp(s["compute_fraction"], f, mean)))
    ax.set_xlabel("compute used (fraction of the whole grid's recorded seconds)")
    ax.set_ylabel("mean regret (accuracy points, 95% CI)")
    ax.set_xlim(0, 1.05)
    ymax = max(1.0, 1.3 * top)
    ax.set_ylim(-0.03 * ymax, ymax)  # a strategy with no regret sits on the axis, visibly
    ax.set_title(f"{len(report.used)} grid(s), {report.seeds} seeds each: lower left is better")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)


def write_outputs(report: Report, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report.to_json(), indent=1) + "\n")
    (out / "RESULTS.md").write_text(markdown(report))
    if report.strategies:
        plot(report, out / "regret_vs_compute.png")


# ------------------------------------------------------------------------------------ main


def main(argv: Sequence[str] | None = None) -> Report:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grids-dir", type=Path, default=HERE / "grids")
    ap.add_argument("--space", default="default", help="the space the grids were recorded on")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--strategies", nargs="*", help="a subset (default: all)")
    ap.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 1) - 1))
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument(
        "--faithful",
        action="store_true",
        help="fit the predictor exactly as loratune.autotune does (slower: 3 GP restarts)",
    )
    args = ap.parse_args(argv)
    space = load_space(args.space)
    grids, unreadable = find_grids(sorted(args.grids_dir.glob("*/*.jsonl")), space)
    used = [g for g in grids if g.usable]
    skipped = [{"label": "", **u} for u in unreadable] + [
        {
            "label": g.label,
            "path": _rel(g.path),
            "reason": f"incomplete: {len(space) - g.missing} of {len(space)} configs recorded",
        }
        for g in grids
        if not g.usable
    ]
    fit = None if args.faithful else quick_fit
    report = Report(space, args.seeds, used, skipped, faithful=args.faithful)
    names = args.strategies or _all_names(space, used)
    print(f"race: {len(used)} grid(s), {len(names)} strategies, {args.seeds} seeds", flush=True)
    results = race(used, space, names, args.seeds, args.jobs, fit) if used else {}
    default = results.get(DEFAULT)
    for name, runs in results.items():
        report.strategies[name] = summarise(name, runs, _entry(name, space, used), used, default)
    write_outputs(report, args.out)
    for line in report.notes():
        print(line)
    for name, s in report.strategies.items():
        print(
            f"{name:22s} success {s['success_rate']:.2f}  regret {100 * s['mean_regret']:.2f} pt"
            f"  compute {100 * s['compute_fraction']:.1f}%"
        )
    print(f"wrote {args.out / 'RESULTS.md'}")
    return report


def _all_names(space: Space, used: Sequence[Grid]) -> list[str]:
    names: dict[str, None] = {}
    for g in used:
        names.update(dict.fromkeys(roster(space, g, used)))
    return list(names)


def _entry(name: str, space: Space, used: Sequence[Grid]) -> Entry:
    """The roster entry of a strategy (transfer exists only for grids with another domain)."""
    for g in used:
        entry = roster(space, g, used).get(name)
        if entry is not None:
            return entry
    raise LoratuneError(f"unknown strategy {name!r}")


if __name__ == "__main__":
    main()
