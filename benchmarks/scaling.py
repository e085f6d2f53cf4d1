"""How tuning scales with workers: simulated on the recorded grids, and real on this machine.

    python benchmarks/scaling.py simulated   # replay: default, ASHA, random with 1-16 workers
    python benchmarks/scaling.py real        # a small real sweep: 1 worker x 2 threads
                                             # against 2 Ray workers x 1 thread, side by side
    python benchmarks/scaling.py tables      # SCALING.md again from scaling.json

`simulated` runs each strategy through the one tuning loop on the replay backend with N
simulated workers on a simulated clock (`race.run.run_strategy`): makespan is the
simulated wall time to the last result, compute the seconds charged summed over workers (as a
fraction of exhaustive search's), success the pick's test accuracy within 1 point of the
grid's best. The model's one-time load per worker is not in the recorded rows and not charged.
It writes benchmarks/scaling.json, the table in benchmarks/SCALING.md and scaling.png.

`real` trains the same small space twice in one run, one arm after the other, each arm in a
fresh process: the in-process backend with torch on 2 threads, then the Ray backend with 2
actors of 1 thread each. Nothing else may run on the machine meanwhile. Its table is appended
to SCALING.md and its rows to scaling.json (key "real").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKERS = (1, 2, 4, 8, 16)
STRATEGIES = ("loratune-default", "asha", "random")
# The real arms: a small space (4 configs, 2 epochs, 64 training examples) so both arms fit in
# a few minutes; what matters is their ratio on the same machine in the same run.
REAL_GRID = {"rank": (4, 8), "learning_rate": (1e-3, 3e-3)}
REAL_FIXED = {"epochs": 2, "batch_size": 8, "alpha_ratio": 2, "dropout": 0.05}
REAL_SIZES = {"n_train": 64, "n_val": 64, "n_test": 64}
ARMS = {"1x2": ("inprocess", 1, 2), "2x1": ("ray", 2, 1)}  # backend, workers, threads each


# ------------------------------------------------------------------------------ simulated


def _simulate_one(args: tuple[str, str, int, int]) -> dict[str, Any]:
    from loratune.race.run import run_strategy

    label, name, workers, seed = args
    grid, space, entries = _CONTEXT[label]
    result = run_strategy(entries[name].make(), grid.rows, seed, space=space, workers=workers)
    return {
        "grid": label,
        "strategy": name,
        "workers": workers,
        "seed": seed,
        "makespan_s": result.makespan,
        "compute_fraction": result.compute_fraction,
        "success": result.success,
        "regret": result.regret,
    }


_CONTEXT: dict[str, Any] = {}


def simulated(seeds: int, jobs: int) -> dict[str, Any]:
    import multiprocessing
    import warnings

    from loratune.api.autotune import DEFAULT_EARLY_STOP, DEFAULT_EXPLORE, DEFAULT_VERIFY
    from loratune.race import quick_fit
    from loratune.race.grids import find_grids, grid_files
    from loratune.race.roster import Defaults, roster
    from loratune.space import load_space

    warnings.simplefilter("ignore")  # optimiser chatter on tiny data sets
    space = load_space("default")
    grids, _ = find_grids(grid_files(HERE / "grids"), space)
    grids = [g for g in grids if g.usable]
    if not grids:
        raise SystemExit("no complete recorded grid in benchmarks/grids: record one first")
    defaults = Defaults(DEFAULT_EXPLORE, DEFAULT_VERIFY, DEFAULT_EARLY_STOP)
    for g in grids:
        _CONTEXT[g.label] = (g, space, roster(space, g, grids, defaults, quick_fit))
    tasks = [
        (g.label, name, w, s)
        for g in grids
        for name in STRATEGIES
        for w in WORKERS
        for s in range(seeds)
    ]
    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            rows = pool.map(_simulate_one, tasks, chunksize=4)
    else:
        rows = [_simulate_one(t) for t in tasks]
    from loratune.provenance import GENERATED, git_commit

    return {
        "grids": [g.label for g in grids],
        "seeds": seeds,
        "commit": git_commit(GENERATED),
        "rows": rows,
    }


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per grid x strategy x workers: means over seeds, and speed-up against one worker."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["grid"], r["strategy"], r["workers"]), []).append(r)
    out = []
    for (grid, name, w), rs in sorted(groups.items()):
        makespan = statistics.fmean(r["makespan_s"] for r in rs)
        one = statistics.fmean(r["makespan_s"] for r in groups[(grid, name, 1)])
        out.append(
            {
                "grid": grid,
                "strategy": name,
                "workers": w,
                "makespan_h": makespan / 3600,
                "speedup": one / makespan if makespan > 0 else None,
                "efficiency": one / makespan / w if makespan > 0 else None,
                "compute_fraction": statistics.fmean(r["compute_fraction"] for r in rs),
                "success_rate": statistics.fmean(1.0 if r["success"] else 0.0 for r in rs),
                "mean_regret_pt": 100 * statistics.fmean(r["regret"] for r in rs),
                "runs": len(rs),
            }
        )
    return out


def simulated_table(summary: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        "| grid | strategy | workers | makespan (h) | speed-up | compute | success | regret (pt) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summary:
        lines.append(
            f"| {s['grid']} | {s['strategy']} | {s['workers']} | {s['makespan_h']:.2f} | "
            f"{s['speedup']:.2f}x | {100 * s['compute_fraction']:.1f}% | "
            f"{100 * s['success_rate']:.0f}% | {s['mean_regret_pt']:.2f} |"
        )
    return lines


def plot(summary: Sequence[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grids = sorted({s["grid"] for s in summary})
    fig, axes = plt.subplots(1, len(grids), figsize=(5 * len(grids), 3.6), squeeze=False)
    for ax, grid in zip(axes[0], grids, strict=True):
        for name in STRATEGIES:
            pts = [s for s in summary if s["grid"] == grid and s["strategy"] == name]
            ax.plot(
                [s["workers"] for s in pts], [s["makespan_h"] for s in pts], marker="o", label=name
            )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(WORKERS, [str(w) for w in WORKERS])
        ax.set_xlabel("simulated workers")
        ax.set_ylabel("makespan (hours, simulated)")
        ax.set_title(grid)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------------- real


def real_arm(arm: str, domain: str, model: str) -> dict[str, Any]:
    """One arm in this process: set threads, run the sweep, time it end to end."""
    backend, workers, threads = ARMS[arm]
    import torch

    torch.set_num_threads(threads)
    import loratune
    from loratune.provenance import provenance
    from loratune.space import Space

    space = Space("scaling", dict(REAL_GRID), dict(REAL_FIXED))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        records = loratune.sweep(
            domain,
            model=model,
            space=space,
            storage=f"sqlite:///{tmp}/scaling.db",
            study=f"scaling-{arm}",
            backend=backend,  # type: ignore[arg-type]
            workers=workers,
            cpus_per_trial=float(threads),
            **REAL_SIZES,
        )
        wall = time.perf_counter() - start
    done = [r for r in records if r.ok]
    return {
        "arm": arm,
        "backend": backend,
        "workers": workers,
        "threads_each": threads,
        "trials": len(records),
        "complete": len(done),
        "wall_s": wall,
        "trial_s": [float(r.metrics.get("wall_seconds") or 0.0) for r in done],
        "provenance": provenance(),
    }


def real(domain: str, model: str, repeats: int) -> dict[str, Any]:
    """Both arms, alternating, each in a fresh process so neither inherits the other's threads."""
    runs = []
    for i in range(repeats):
        order = ("1x2", "2x1") if i % 2 == 0 else ("2x1", "1x2")
        for arm in order:
            cmd = [sys.executable, __file__, "_arm", arm, "--domain", domain, "--model", model]
            env = {**os.environ, "OMP_NUM_THREADS": str(ARMS[arm][2])}
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                raise SystemExit(f"arm {arm} failed:\n{out.stderr[-3000:]}")
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  {arm}: {runs[-1]['wall_s']:.1f} s wall", file=sys.stderr)
    walls = {arm: [r["wall_s"] for r in runs if r["arm"] == arm] for arm in ARMS}
    ratio = statistics.median(walls["1x2"]) / statistics.median(walls["2x1"])
    return {
        "domain": domain,
        "model": model,
        "space": {"grid": REAL_GRID, "fixed": REAL_FIXED, **REAL_SIZES},
        "runs": runs,
        "speedup_2x1_over_1x2": ratio,
    }


def real_table(res: dict[str, Any]) -> list[str]:
    lines = [
        "| arm | backend | workers x threads | sweep wall (s, median) | trial wall (s, median) |",
        "|---|---|---|---:|---:|",
    ]
    for arm, (backend, w, t) in ARMS.items():
        rs = [r for r in res["runs"] if r["arm"] == arm]
        walls = [r["wall_s"] for r in rs]
        trials = [s for r in rs for s in r["trial_s"]]
        lines.append(
            f"| {arm} | {backend} | {w} x {t} | {statistics.median(walls):.1f} | "
            f"{statistics.median(trials):.1f} |"
        )
    trial = {
        arm: statistics.median(s for r in res["runs"] if r["arm"] == arm for s in r["trial_s"])
        for arm in ARMS
    }
    # Steady state: trials finished per second once every worker is busy, set-up aside.
    steady = {arm: ARMS[arm][1] / trial[arm] for arm in ARMS}
    lines.append("")
    lines.append(
        f"2 workers x 1 thread finish the sweep {res['speedup_2x1_over_1x2']:.2f}x as fast as "
        "1 worker x 2 threads (ratio of medians, same run, set-up included: model loads and, "
        f"for Ray, starting the local cluster). Once running, they finish trials "
        f"{steady['2x1'] / steady['1x2']:.2f}x as fast: a second thread speeds one trial up "
        f"{trial['2x1'] / trial['1x2']:.2f}x, not 2x."
    )
    return lines


# ----------------------------------------------------------------------------------- main


def _write(key: str, value: Any) -> None:
    path = HERE / "scaling.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = value
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")


def _markdown() -> None:
    """SCALING.md from scaling.json: whatever parts have been measured."""
    from loratune.provenance import GENERATED, git_commit

    data = json.loads((HERE / "scaling.json").read_text())
    lines = [
        "# Scaling with workers",
        "",
        "Written by `python benchmarks/scaling.py simulated|real|tables` from scaling.json "
        f"(tables written at commit {git_commit(GENERATED)}; each part names the commit it ran "
        "at).",
        "",
    ]
    if "simulated" in data:
        sim = data["simulated"]
        lines += [
            "## Simulated, on the recorded grids",
            "",
            f"Grids: {', '.join(sim['grids'])}; {sim['seeds']} seeds per cell; commit "
            f"{sim.get('commit')}. Makespan is "
            "simulated wall time to the last result; compute is charged seconds summed over "
            "workers, as a fraction of exhaustive search; success is the pick's test accuracy "
            "within 1 point of the grid's best (the pick chosen by validation).",
            "",
            *simulated_table(sim["summary"]),
            "",
            "![makespan against workers](scaling.png)",
            "",
        ]
    if "real" in data:
        res = data["real"]
        cpu = res["runs"][0]["provenance"].get("cpu")
        lines += [
            "## Real, on this machine",
            "",
            f"{res['model']} on {res['domain']}, {len(res['runs']) // 2} repeats of each arm, "
            f"alternating; CPU: {cpu}; commit {res['runs'][0]['provenance'].get('git_commit')}. "
            f"Space: {json.dumps(res['space'])}.",
            "",
            *real_table(res),
            "",
        ]
    (HERE / "SCALING.md").write_text("\n".join(lines))


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("part", choices=("simulated", "real", "tables", "_arm"))
    ap.add_argument("arm", nargs="?", choices=tuple(ARMS))
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--domain", default="customer_support")
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)
    if args.part == "_arm":
        print(json.dumps(real_arm(args.arm, args.domain, args.model), default=str))
        return
    if args.part == "simulated":
        sim = simulated(args.seeds, args.jobs)
        sim["summary"] = summarise(sim.pop("rows"))
        _write("simulated", sim)
        plot(sim["summary"], HERE / "scaling.png")
        print("\n".join(simulated_table(sim["summary"])))
    elif args.part == "real":
        res = real(args.domain, args.model, args.repeats)
        _write("real", res)
        print("\n".join(real_table(res)))
    _markdown()


if __name__ == "__main__":
    main()
