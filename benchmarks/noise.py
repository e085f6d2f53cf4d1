"""Run-to-run noise of a recorded grid: the same configs trained again under other seeds.

Reads a domain's full grid (seed 0, `benchmarks/grids/<model>/<domain>.jsonl`) and the subset
of it re-recorded under other seeds (`benchmarks/grids/<model>/noise/<domain>-seed<k>.jsonl`,
made by `record_grids.py --n 20 --seed k`), and writes `benchmarks/NOISE.md` and
`benchmarks/noise.json`: how far one config's test accuracy moves when only the seed changes,
set against the race's 1-point success margin and against the spread between configs. The seed
draws the adapter's initialisation, dropout and data order, and also the sample of generated
examples (training, validation and test), as a user retraining on a fresh sample would see.
A different test sample can shift every config together; that shift is reported apart from
the config-by-seed interaction, which is what reorders configs.

    python benchmarks/noise.py [--grid benchmarks/grids/smollm2-135m/customer_support.jsonl]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats as sps

from loratune.executors.replay import load_grid

HERE = Path(__file__).resolve().parent
DEFAULT_GRID = HERE / "grids" / "smollm2-135m" / "customer_support.jsonl"
MARGIN = 0.01  # the race's success margin: within 1 accuracy point of the best


def seed_files(grid: Path) -> list[Path]:
    """The grid's re-recordings under other seeds, by seed."""
    found = sorted((grid.parent / "noise").glob(f"{grid.stem}-seed*.jsonl"))
    return sorted(found, key=lambda p: int(p.stem.rsplit("-seed", 1)[1]))


def _complete(rows: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {
        k: r
        for k, r in rows.items()
        if r.get("status") == "complete" and r.get("accuracy") is not None
    }


def analyse(runs: Sequence[Mapping[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """Noise statistics of the configs every run recorded; `runs[i]` maps config keys to rows
    (as `load_grid` returns them), one mapping per seed."""
    complete = [_complete(r) for r in runs]
    keys = sorted(set.intersection(*(set(c) for c in complete)))
    if len(complete) < 2 or len(keys) < 2:
        raise ValueError("noise needs at least 2 seeds sharing at least 2 configs")
    acc = np.array([[c[k]["accuracy"] for c in complete] for k in keys], dtype=float)
    lat = np.array([[c[k].get("latency") or np.nan for c in complete] for k in keys], dtype=float)
    n, s = acc.shape
    sd = acc.std(axis=1, ddof=1)
    # One-way random-effects ANOVA: how much of the variance is the config, how much the seed.
    msb = s * acc.mean(axis=1).var(ddof=1)
    msw = float((sd**2).mean())
    icc = (msb - msw) / (msb + (s - 1) * msw) if msb + (s - 1) * msw > 0 else float("nan")
    # Two-way decomposition: a shift common to all configs under one seed (e.g. an easier test
    # sample) does not reorder configs; the residual (config x seed interaction) does.
    grand = acc.mean()
    shift = acc.mean(axis=0) - grand
    resid = acc - acc.mean(axis=1, keepdims=True) - shift
    residual_sd = float(np.sqrt((resid**2).sum() / ((n - 1) * (s - 1))))
    pairs = list(itertools.combinations(range(s), 2))
    diffs = np.concatenate([np.abs(acc[:, i] - acc[:, j]) for i, j in pairs])
    rho = [float(sps.spearmanr(acc[:, i], acc[:, j]).statistic) for i, j in pairs]
    best = [int(np.argmax(acc[:, j])) for j in range(s)]
    near = [set(np.flatnonzero(acc[:, j] >= acc[:, j].max() - MARGIN - 1e-9)) for j in range(s)]
    # The config a single-seed sweep would crown, judged by the other seeds.
    regret_of_pick = [
        float(acc[:, j].max() - acc[best[i], j]) for i in range(s) for j in range(s) if i != j
    ]
    return {
        "configs": n,
        "seeds": s,
        "keys": keys,
        "accuracy": acc.tolist(),
        "latency": lat.tolist(),
        "within_config_sd": float(np.sqrt(msw)),
        "between_config_sd": float(acc.mean(axis=1).std(ddof=1)),
        "seed_shift": shift.tolist(),
        "residual_sd": residual_sd,
        "max_range": float((acc.max(axis=1) - acc.min(axis=1)).max()),
        "mean_abs_seed_diff": float(diffs.mean()),
        "share_seed_diff_over_margin": float((diffs > MARGIN + 1e-9).mean()),
        "icc": float(icc),
        "spearman_between_seeds": rho,
        "best_per_seed": [keys[b] for b in best],
        "same_best_all_seeds": len(set(best)) == 1,
        "within_margin_per_seed": [len(x) for x in near],
        "within_margin_all_seeds": len(set.intersection(*near)),
        "regret_of_single_seed_pick": {
            "mean": statistics.fmean(regret_of_pick),
            "max": max(regret_of_pick),
        },
        "latency_cv": float(np.nanmean(np.nanstd(lat, axis=1, ddof=1) / np.nanmean(lat, axis=1))),
    }


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(HERE.parent))
    except ValueError:
        return str(path)


def _short(row: Mapping[str, Any]) -> str:
    c = row["config"]
    return f"r{c['rank']} · α {c['alpha']:g} · lr {c['learning_rate']:g} · wd {c['weight_decay']:g}"


def _provenance(rows: Mapping[str, Mapping[str, Any]]) -> str:
    prov = [r.get("provenance") or {} for r in rows.values()]
    cpus = sorted({str(p.get("gpu") or p.get("cpu") or "?") for p in prov})
    commits = sorted({str(p.get("git_commit") or "?")[:10] for p in prov})
    return f"{', '.join(cpus)}; commit {', '.join(commits)}"


def markdown(result: dict[str, Any], files: Sequence[Path], runs: Sequence[Mapping]) -> str:
    r = result
    pt = 100
    lines = [
        "# Run-to-run noise of a recorded grid",
        "",
        "Generated by `python benchmarks/noise.py` (part of `make bench`) from real recorded "
        f"trials: {r['configs']} configs of the grid, each trained under {r['seeds']} seeds "
        "(the seed draws the adapter's initialisation, dropout and data order, and the sample of "
        "generated training, validation and test examples; model and settings are the same).",
        "",
        "| file | trials | recorded on |",
        "| --- | --- | --- |",
    ]
    for path, rows in zip(files, runs, strict=True):
        lines.append(f"| `{_rel(path)}` | {len(rows)} | {_provenance(rows)} |")
    rho = ", ".join(f"{x:.2f}" for x in r["spearman_between_seeds"])
    same = "the same" if r["same_best_all_seeds"] else "not the same"
    shift = ", ".join(f"{pt * x:+.2f} pt" for x in r["seed_shift"])
    lines += [
        "",
        "## What the seed alone changes",
        "",
        f"- Within one config, across seeds: SD {pt * r['within_config_sd']:.2f} pt; mean "
        f"absolute difference between two seeds {pt * r['mean_abs_seed_diff']:.2f} pt; the "
        f"largest range {pt * r['max_range']:.2f} pt.",
        f"- Of that, a shift common to every config under one seed (mean accuracy of the seed "
        f"minus the mean over seeds): {shift}. What is left, the config x seed interaction that "
        f"can reorder configs: SD {pt * r['residual_sd']:.2f} pt.",
        f"- {100 * r['share_seed_diff_over_margin']:.0f}% of same-config seed pairs differ by more "
        f"than the race's {pt * MARGIN:.0f}-point success margin.",
        f"- Between configs (mean over seeds): SD {pt * r['between_config_sd']:.2f} pt. Share of "
        f"the variance that is the config, not the seed (ICC): {r['icc']:.2f}.",
        f"- Rank correlation of the configs between seeds (Spearman, each pair): {rho}.",
        f"- The best config of the subset is {same} "
        f"under every seed. Configs within 1 point of the best, per seed: "
        f"{', '.join(map(str, r['within_margin_per_seed']))}; within 1 point under every seed: "
        f"{r['within_margin_all_seeds']}.",
        f"- The config one seed crowns, scored under another seed, is "
        f"{pt * r['regret_of_single_seed_pick']['mean']:.2f} pt below that seed's best on "
        f"average (at most {pt * r['regret_of_single_seed_pick']['max']:.2f} pt).",
        f"- Seconds per epoch vary by {100 * r['latency_cv']:.1f}% (mean coefficient of "
        "variation across seeds) on one machine.",
        "",
        "## Per config",
        "",
        "| config | " + " | ".join(f"seed {i}" for i in range(r["seeds"])) + " | mean | SD |",
        "| --- |" + " --- |" * (r["seeds"] + 2),
    ]
    first = runs[0]
    order = np.argsort([-np.mean(a) for a in r["accuracy"]])
    for i in order:
        a = r["accuracy"][i]
        cells = " | ".join(f"{x:.3f}" for x in a)
        lines.append(
            f"| {_short(first[r['keys'][i]])} | {cells} | {np.mean(a):.3f} "
            f"| {pt * np.std(a, ddof=1):.2f} pt |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", type=Path, default=DEFAULT_GRID, help="the seed-0 full grid")
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    files = [args.grid, *seed_files(args.grid)]
    if len(files) < 2:
        print(f"noise: no re-recordings under other seeds next to {args.grid}; nothing to do")
        return
    runs = [load_grid(str(p)) for p in files]
    result = analyse(runs)
    result["files"] = [_rel(p) for p in files]
    (args.out / "noise.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "NOISE.md").write_text(markdown(result, files, runs))
    print(
        f"noise: {result['configs']} configs x {result['seeds']} seeds, within-config SD "
        f"{100 * result['within_config_sd']:.2f} pt (interaction {100 * result['residual_sd']:.2f} "
        f"pt), ICC {result['icc']:.2f}"
    )


if __name__ == "__main__":
    main()
