"""The race table of the README, printed from benchmarks/results.json (written by race.py).

python benchmarks/readme_table.py            # the tuning grids, pooled
python benchmarks/readme_table.py --group held_out
"""

from __future__ import annotations

import argparse
import json
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


def table(results: dict, group: str) -> list[str]:
    block = results["groups"][group]
    lines = [
        f"Grids: {', '.join(block['grids'])} ({results['settings'].get('seeds', '?')} seeds each)",
        "",
        "| strategy | compute | success (within 1 pt) | mean regret | regret − exhaustive's "
        "[95% CI] | Wilcoxon vs default, Holm p |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, label in ROWS.items():
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
        lines.append(
            f"| {label} | {100 * s['compute_fraction']:.1f}% | {100 * s['success_rate']:.0f}% | "
            f"{100 * s['mean_regret']:.2f} pt | {diff} | {holm} |"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=HERE / "results.json")
    ap.add_argument("--group", default="tuning")
    args = ap.parse_args()
    print("\n".join(table(json.loads(args.results.read_text()), args.group)))


if __name__ == "__main__":
    main()
