"""Choose autotune's defaults by measurement: replay it on recorded real grids.

For every recorded grid, every explore size N, both verify rules (top-k, ei) and many seeds,
autotune runs against a ReplayExecutor (recorded accuracies and times, no training) and is
scored against the exhaustive grid: regret of its pick, success (within 1 point of the grid's
best), and compute spent as a fraction of the grid's measured compute.

    python benchmarks/replay_autotune.py                       # every grid in benchmarks/grids
    python benchmarks/replay_autotune.py --explore 8 12 16 --seeds 20
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import optuna

from loratune.api import autotune
from loratune.executors.replay import ReplayExecutor, load_grid
from loratune.space import load_space

HERE = Path(__file__).resolve().parent


def replay_once(grid_path: Path, space: str, n: int, k: int, rule: str, seed: int) -> dict:
    grid = load_grid(grid_path)
    ok = [r for r in grid.values() if r.get("status") == "complete"]
    best = max(r["accuracy"] for r in ok)
    total = sum(float(r["wall_seconds"]) for r in grid.values())
    executor = ReplayExecutor(grid)
    model = next(iter(grid.values())).get("model") or "smollm2-135m"
    # The domain only names the study here: every answer comes from the recorded grid.
    result = autotune(
        "financial",
        model=model,
        space=space,
        explore=n,
        verify=k,
        rule=rule,
        storage=optuna.storages.InMemoryStorage(),
        study="replay",
        seed=seed,
        executor=executor,
        report=False,
    )  # type: ignore[arg-type]
    regret = best - (result.best.accuracy or 0.0)
    return {
        "regret": regret,
        "success": regret <= 0.01 + 1e-9,
        "compute_fraction": executor.clock / total,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--grids", nargs="*", type=Path, default=sorted((HERE / "grids").glob("*/*.jsonl"))
    )
    ap.add_argument("--space", default="default")
    ap.add_argument("--explore", nargs="*", type=int, default=[6, 8, 10, 12, 16, 20])
    ap.add_argument("--verify", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--out", type=Path, default=HERE / "replay_autotune.json")
    args = ap.parse_args()
    space = load_space(args.space)
    summary = []
    for grid_path in args.grids:
        if len(load_grid(grid_path)) < len(space):
            print(f"skip {grid_path}: {len(load_grid(grid_path))} of {len(space)} configs recorded")
            continue
        for n in args.explore:
            for rule in ("top-k", "ei"):
                runs = [
                    replay_once(grid_path, args.space, n, args.verify, rule, s)
                    for s in range(args.seeds)
                ]
                row = {
                    "grid": grid_path.stem,
                    "explore": n,
                    "verify": args.verify,
                    "rule": rule,
                    "seeds": args.seeds,
                    "success_rate": statistics.fmean(r["success"] for r in runs),
                    "mean_regret": statistics.fmean(r["regret"] for r in runs),
                    "max_regret": max(r["regret"] for r in runs),
                    "compute_fraction": statistics.fmean(r["compute_fraction"] for r in runs),
                }
                summary.append(row)
                print(
                    f"{row['grid']:18s} N={n:3d} {rule:6s} success {row['success_rate']:.2f} "
                    f"regret {row['mean_regret']:.4f} (max {row['max_regret']:.3f}) "
                    f"compute {100 * row['compute_fraction']:.1f}%",
                    flush=True,
                )
    args.out.write_text(json.dumps(summary, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
