"""The race's figure: each strategy's mean regret (95% CI) against the compute it was charged,
over random search's exact curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from loratune.race.bench import Report, random_curve

MARKERS = "osD^v<>ph*XP"


def plot(report: Report, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    f = np.linspace(0, 1, 401)
    curves = [random_curve(g) for g in report.used]
    mean = 100 * np.mean([np.interp(f, c["fraction"], c["regret"]) for c in curves], axis=0)
    start = max(c["fraction"][1] for c in curves)
    shown = f >= start
    ax.plot(f[shown], mean[shown], color="0.6", lw=1, ls="--", label="random search (exact)")
    top = 0.0
    for i, (name, s) in enumerate(report.strategies.items()):
        lo, hi = (100 * v for v in s["regret_ci95"])
        y = 100 * s["mean_regret"]
        ax.errorbar(
            s["compute_fraction"],
            y,
            # Float rounding can put a zero-width interval a hair off the mean: never negative.
            yerr=[[max(y - lo, 0.0)], [max(hi - y, 0.0)]],
            fmt=MARKERS[i % len(MARKERS)],
            ms=7,
            capsize=3,
            label=f"{name} ({y:.2f} pt, {100 * s['compute_fraction']:.0f}%)",
        )
        top = max(top, hi, float(np.interp(s["compute_fraction"], f, mean)))
    ax.set_xlabel("compute charged (fraction of the whole grid's charged seconds)")
    ax.set_ylabel("mean regret, test accuracy points (95% CI)")
    ax.set_xlim(0, 1.05)
    ymax = max(1.0, 1.3 * top)
    ax.set_ylim(-0.03 * ymax, ymax)
    ax.set_title(
        f"{len(report.used)} grid(s), {report.seeds} seeds, pick by validation: lower left is "
        "better"
    )
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
