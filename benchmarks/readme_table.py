"""The race table of the README, printed from benchmarks/results.json (written by race.py).

python benchmarks/readme_table.py            # the tuning grids, pooled
python benchmarks/readme_table.py --group held_out
python benchmarks/readme_table.py --lr-table  # test accuracy by learning rate x rank, one grid
python benchmarks/readme_table.py --grid-summary benchmarks/grids/smollm2-135m/*.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROWS = {
    "exhaustive": "exhaustive (by validation)",
    "loratune-default": "**loratune default** (12 explored, 5 verified, epoch-1 stop)",
    "optuna-gp": "Optuna GP sampler, 17 trials",
    "optuna-tpe": "Optuna TPE, 17 trials",
    "random": "random search, 17 trials",
    "autotune-n20": "autotune with 20 explored",
}
# Since the warm start became the default (docs/transfer.md) the race runs the old default, the
# cold start, as `autotune-cold`; a results.json without it (the committed race at b42ce37) is
# from before, where `loratune-default` was the cold start, and keeps the labels above.
COLD = "autotune-cold"
WARM_ROWS = {
    "exhaustive": ROWS["exhaustive"],
    "loratune-default": "**loratune default** (warm start from the prior)",
    COLD: "cold start, `--prior none` (12 explored, 5 verified, epoch-1 stop)",
    **{k: v for k, v in ROWS.items() if k not in ("exhaustive", "loratune-default")},
}


def table(results: dict, group: str) -> list[str]:
    block = results["groups"][group]
    margin = results["settings"].get("noise_margin")
    noise_head = f" success (within {100 * margin:g} pt, noise margin) |" if margin else ""
    lines = [
        f"Grids: {', '.join(block['grids'])} ({results['settings'].get('seeds', '?')} seeds each)",
        "",
        "| strategy | compute | trained a config within 1 pt | success (within 1 pt) |"
        f"{noise_head} mean regret | regret − exhaustive's [95% CI] "
        "| Wilcoxon vs default, Holm p |",
        "| --- " * (8 if margin else 7) + "|",
    ]
    rows = WARM_ROWS if COLD in block["strategies"] else ROWS
    for name, label in rows.items():
        s = block["strategies"].get(name)
        if s is None:
            continue
        d = s.get("regret_vs_exhaustive") or {}
        diff = (
            "0"
            if name == "exhaustive"
            else f"{100 * d['mean']:+.2f} [{100 * d['ci_low']:+.2f}, {100 * d['ci_high']:+.2f}]"
        )
        w = s.get("wilcoxon_vs_default") or {}
        holm = f"{w['p_holm']:.2g}" if s.get("equal_compute_to_default") and w else ""
        noisy = s.get("success_rate_noise_margin")
        noise_cell = f" {100 * noisy:.0f}% |" if margin and noisy is not None else ""
        got = s.get("reached_near_best")
        lines.append(
            f"| {label} | {100 * s['compute_fraction']:.1f}% | "
            f"{'—' if got is None else f'{100 * got:.0f}%'} | {100 * s['success_rate']:.0f}% |"
            f"{noise_cell} {100 * s['mean_regret']:.2f} pt | {diff} | {holm} |"
        )
    return lines


def lr_table(grid: Path) -> list[str]:
    """Test accuracy of a recorded grid by learning rate x rank: the mean over the weight
    decays, and the widest spread weight decay makes in any cell (whether it matters)."""
    cells: dict[tuple[float, int], list[float]] = {}
    for line in grid.read_text().splitlines():
        row = json.loads(line)
        if row.get("status") == "complete":
            c = row["config"]
            acc = row["test_correct"] / row["test_total"]
            cells.setdefault((c["learning_rate"], c["rank"]), []).append(acc)
    lrs = sorted({lr for lr, _ in cells})
    ranks = sorted({r for _, r in cells})
    lines = [
        f"Grid: {grid.name}; test accuracy, mean over weight decays",
        "",
        "| learning rate | " + " | ".join(f"rank {r}" for r in ranks) + " |",
        "| --- |" + " --- |" * len(ranks),
    ]
    for lr in lrs:
        accs = [cells.get((lr, r)) for r in ranks]
        text = [f"{sum(a) / len(a):.3f}" if a else "-" for a in accs]
        lines.append(f"| {lr:g} | " + " | ".join(text) + " |")
    spread = max(max(a) - min(a) for a in cells.values())
    lines += ["", f"Widest spread over weight decay in one cell: {100 * spread:.1f} pt"]
    return lines


def _describe(config: dict) -> str:
    return f"rank {config['rank']}, lr {config['learning_rate']:g}, wd {config['weight_decay']:g}"


def grid_summary(grid: Path) -> str:
    """One recorded grid in a sentence: its best test accuracy, how many configs lie within
    1 point of it, what exhaustive search picks by validation (most validation examples
    right, the earliest row on a tie) and its regret, and what the grid cost."""
    rows = [json.loads(line) for line in grid.read_text().splitlines() if line.strip()]
    done = [r for r in rows if r.get("status") == "complete"]
    test = [Fraction(r["test_correct"], r["test_total"]) for r in done]
    best = max(test)
    top = done[test.index(best)]
    near = sum(best - t <= Fraction(1, 100) for t in test)
    pick_i = max(
        range(len(done)),
        key=lambda i: (Fraction(done[i]["val_correct"], done[i]["val_total"]), -i),
    )
    pick = done[pick_i]
    wall = sum(float(r.get("wall_seconds") or 0.0) for r in done)
    charged = sum(float(r.get("charged_seconds") or 0.0) for r in done)
    test_s = sum(float(r.get("test_seconds") or 0.0) for r in done)
    return (
        f"{grid.stem}: {len(done)} complete rows ({len(rows) - len(done)} failed); best test "
        f"accuracy {float(best):.3f} ({_describe(top['config'])}), {near} config(s) within 1 "
        f"point of it; exhaustive search by validation picks {_describe(pick['config'])} "
        f"(validation {pick['val_correct'] / pick['val_total']:.3f}, test "
        f"{float(test[pick_i]):.3f}): regret {100 * float(best - test[pick_i]):.2f} pt. "
        f"Wall time {wall / 60:.0f} min, {charged / 60:.0f} min charged (set-up, training, "
        f"validation), test evaluation {test_s / 60:.0f} min ({test_s / wall:.0%} of the wall)."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=HERE / "results.json")
    ap.add_argument("--group", default="tuning")
    ap.add_argument(
        "--lr-table",
        nargs="?",
        type=Path,
        const=HERE / "grids/smollm2-135m/customer_support.jsonl",
        help="print a grid's learning rate x rank table instead (default: customer_support)",
    )
    ap.add_argument("--grid-summary", nargs="+", type=Path, help="one sentence per grid file")
    args = ap.parse_args()
    if args.grid_summary:
        print("\n".join(grid_summary(g) for g in args.grid_summary))
        return
    if args.lr_table:
        print("\n".join(lr_table(args.lr_table)))
        return
    results = json.loads(args.results.read_text())
    if args.group not in results.get("groups", {}):
        have = ", ".join(results.get("groups", {})) or "none"
        print(
            f"readme_table: no group {args.group!r} in {args.results} (has: {have})",
            file=sys.stderr,
        )
        raise SystemExit(2)
    print("\n".join(table(results, args.group)))


if __name__ == "__main__":
    main()
