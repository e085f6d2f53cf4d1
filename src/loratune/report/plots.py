"""The report's four plots, drawn on bare matplotlib Figures.

Figures are built with `matplotlib.figure.Figure`, never pyplot, so writing a report neither
switches the user's backend nor leaves figures open; PNGs are rendered by the Agg canvas.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from loratune.report.data import Point, ReportData, in_sample, pareto_front
from loratune.report.fmt import lr as fmt_lr
from loratune.report.measures import Z90
from loratune.space import config_key

DPI = 150
SIZE = (5.6, 4.2)
GREY = "#9aa0a6"
EXPLORE = "#1f77b4"
VERIFY = "#ff7f0e"
FRONT = "#d62728"


def _figure(size: tuple[float, float] = SIZE) -> tuple[Figure, Axes]:
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.grid(True, color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _percent(axis: Axis, scale: float = 100.0) -> None:
    """Ticks on whole percentages where the range allows ('75%', not '75.0%' or '72.5%')."""
    axis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 5, 10]))

    def label(x: float, _pos: int | None) -> str:
        v = x * scale
        return f"{v:.0f}%" if abs(v - round(v)) < 1e-6 else f"{v:.1f}%"

    axis.set_major_formatter(FuncFormatter(label))


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666")


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()


def predicted_vs_actual(data: ReportData) -> Figure:
    """Verified configs' out-of-sample predictions (90% intervals) against what they scored."""
    fig, ax = _figure()
    fitted = in_sample(data)
    explored = [
        (fitted[config_key(p.config)], p.accuracy)
        for p in data.explored
        if p.config is not None and config_key(p.config) in fitted and p.accuracy is not None
    ]
    numbered = [
        (i, p)
        for i, p in enumerate(data.verified, 1)
        if p.predicted is not None and p.accuracy is not None
    ]
    verified = [p for _, p in numbered]
    values: list[float] = []
    if explored:
        xs, ys = zip(*explored, strict=True)
        ax.scatter(xs, ys, s=22, color=GREY, alpha=0.7, label="explored (in-sample fit)")
        values += [*xs, *ys]
    if verified:
        x = np.array([p.predicted for p in verified], dtype=float)
        y = np.array([p.accuracy for p in verified], dtype=float)
        err = np.array([Z90 * (p.std or 0.0) for p in verified])
        ax.errorbar(
            x,
            y,
            xerr=err,
            fmt="o",
            color=VERIFY,
            ecolor=VERIFY,
            elinewidth=1.2,
            capsize=3,
            markersize=6,
            label="verified (±90% interval)",
            zorder=3,
        )
        values += [*(x - err), *(x + err), *y]
    if not verified and values:
        ax.text(
            0.97,
            0.03,
            "no verified configs yet:\nonly in-sample fits",
            ha="right",
            va="bottom",
            transform=ax.transAxes,
            color="#666",
            fontsize=8.5,
        )
    if not values:
        _empty(ax, "no trained configs to compare")
    else:
        lo, hi = min(values), max(values)
        pad = max(0.02, 0.08 * (hi - lo))
        # Accuracy lives in [0, 1]: an interval reaching past it is cut at the frame.
        lims = (max(lo - pad, -0.02), min(hi + pad, 1.02))
        ax.plot(lims, lims, "--", color="#555", linewidth=1, label="y = x (perfect)")
        ax.set_xlim(lims)
        ax.set_ylim(lims)
        # Numbers, not names: they match the table's "#" and stay legible when points crowd.
        _label_points(ax, [(i, p.predicted or 0.0, p.accuracy or 0.0) for i, p in numbered])
        best_explored = max((p.accuracy or 0.0 for p in data.explored), default=None)
        if best_explored is not None and verified:
            ax.axhline(
                best_explored, color=EXPLORE, linestyle=":", linewidth=1, label="best explored"
            )
        ax.legend(loc="best", fontsize=8, framealpha=0.9)
    ax.set_xlabel("predicted accuracy")
    ax.set_ylabel("actual validation accuracy")
    _percent(ax.xaxis)
    _percent(ax.yaxis)
    ax.set_title("Predicted vs actual accuracy", fontsize=11)
    return fig


_OFFSETS = ((5, 5), (5, -11), (-11, 5), (-11, -11), (9, -3), (-15, -3), (-3, 9), (-3, -15))


def _label_points(ax: Axes, points: list[tuple[int, float, float]]) -> None:
    """Write each point's number beside it, nudged to the first spot clear of earlier ones."""
    placed: list[np.ndarray] = []
    scale = ax.figure.dpi / 72  # offsets are in points, display coordinates in pixels
    for i, x, y in points:
        anchor = ax.transData.transform((x, y))
        chosen = _OFFSETS[0]
        for off in _OFFSETS:
            spot = anchor + np.array(off) * scale
            if all(np.abs(spot - q).max() > 11 * scale for q in placed):
                chosen = off
                break
        placed.append(anchor + np.array(chosen) * scale)
        ax.annotate(
            str(i),
            (x, y),
            xytext=chosen,
            textcoords="offset points",
            fontsize=8.5,
            fontweight="bold",
            color="#7a3c00",
        )


def _time_acc(points: Sequence[Point]) -> tuple[list[float], list[float]]:
    """(seconds per epoch, accuracy) of the points that have both."""
    pairs = [(p.latency, p.accuracy) for p in points]
    keep = [(x, y) for x, y in pairs if x is not None and y is not None]
    return [x for x, _ in keep], [y for _, y in keep]


def accuracy_vs_time(data: ReportData) -> Figure:
    """Every trained config, the predicted grid behind them, and the trained Pareto front."""
    fig, ax = _figure()
    grid = [(p.latency, p.accuracy) for p in data.predictions if math.isfinite(p.latency)]
    if grid:
        gx, gy = zip(*grid, strict=True)
        ax.scatter(gx, gy, s=10, color=GREY, alpha=0.5, linewidths=0, label="predicted grid")
    groups = (("explored", "o", EXPLORE, data.explored), ("verified", "D", VERIFY, data.verified))
    drawn = False
    for name, marker, colour, pts in groups:
        xs, ys = _time_acc(pts)
        if xs:
            ax.scatter(
                xs,
                ys,
                s=34,
                marker=marker,
                color=colour,
                edgecolors="white",
                linewidths=0.6,
                label=name,
                zorder=3,
            )
            drawn = True
    fx, fy = _time_acc(pareto_front(data.trained))
    if fx:
        ax.step(
            fx,
            fy,
            where="post",
            color=FRONT,
            linewidth=1.3,
            zorder=2,
            label="Pareto front (trained)",
        )
        ax.scatter(fx, fy, s=90, facecolors="none", edgecolors=FRONT, linewidths=1.2, zorder=4)
    best_lat = data.best.metrics.get("latency")
    if best_lat is not None and data.best.accuracy is not None:
        ax.scatter(
            [best_lat],
            [data.best.accuracy],
            s=220,
            marker="*",
            color="gold",
            edgecolors="black",
            linewidths=0.7,
            zorder=5,
            label="best",
        )
    lats = [x for x, _ in grid] + [p.latency for p in data.trained if p.latency is not None]
    if lats and min(lats) > 0 and max(lats) / min(lats) > 8:
        ax.set_xscale("log")
    if not drawn and not grid:
        _empty(ax, "no seconds-per-epoch measurements")
    else:
        ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    ax.set_xlabel("seconds per training epoch")
    ax.set_ylabel("validation accuracy")
    _percent(ax.yaxis)
    ax.set_title("Accuracy vs training time", fontsize=11)
    return fig


def learning_curves(data: ReportData) -> Figure:
    """Validation accuracy per epoch: verified configs in colour, explored ones in grey."""
    fig, ax = _figure()
    max_epochs = 0
    grey_label = "explored"
    for p in data.explored:
        if p.curve:
            ax.plot(
                range(1, len(p.curve) + 1),
                p.curve,
                color=GREY,
                alpha=0.45,
                linewidth=0.9,
                label=grey_label,
            )
            grey_label = "_nolegend_"
            max_epochs = max(max_epochs, len(p.curve))
    coloured = [(i, p) for i, p in enumerate(data.verified, 1) if p.curve]
    for i, p in coloured:
        ax.plot(
            range(1, len(p.curve) + 1),
            p.curve,
            marker="o",
            markersize=3.5,
            linewidth=1.6,
            color=f"C{i % 10}",
            label=f"#{i} {p.short}",
        )
        max_epochs = max(max_epochs, len(p.curve))
    if max_epochs == 0:
        _empty(ax, "no learning curves recorded")
    else:
        ax.set_xticks(range(1, max_epochs + 1))
        ax.set_xlim(0.8, max_epochs + 0.2)
        # Below the axes: inside, it would hide the explored curves it sits on.
        fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy")
    _percent(ax.yaxis)
    title = "Learning curves of the verified configs" if coloured else "Learning curves"
    ax.set_title(title, fontsize=11)
    return fig


def averaged_over(data: ReportData) -> list[str]:
    """Grid parameters the heat map averages over."""
    return [k for k, v in data.space.grid.items() if len(v) > 1 and k not in _AXES]


_AXES = ("rank", "learning_rate")


def rank_lr_heatmap(data: ReportData) -> Figure:
    """Predicted accuracy by rank x learning rate, averaged over everything else."""
    cells: dict[tuple[int, float], list[float]] = defaultdict(list)
    for p in data.predictions:
        cells[(p.config.rank, p.config.learning_rate)].append(p.accuracy)
    ranks = sorted({r for r, _ in cells})
    lrs = sorted({lr for _, lr in cells})
    fig, ax = _figure((max(SIZE[0], 0.9 * len(lrs) + 2.2), max(SIZE[1], 0.5 * len(ranks) + 1.6)))
    ax.grid(False)
    if not cells:
        _empty(ax, "no predictions")
        ax.set_title("Predicted accuracy by rank × learning rate", fontsize=11)
        return fig
    z = np.full((len(ranks), len(lrs)), np.nan)
    for (r, lr), vals in cells.items():
        z[ranks.index(r), lrs.index(lr)] = float(np.mean(vals))
    z = z * 100  # in percent, so the colour bar's ticks land on whole numbers
    im = ax.imshow(z, cmap="viridis", aspect="auto", origin="lower")
    lo, hi = float(np.nanmin(z)), float(np.nanmax(z))
    mid = (lo + hi) / 2
    for i in range(len(ranks)):
        for j in range(len(lrs)):
            if np.isfinite(z[i, j]):
                colour = "white" if z[i, j] < mid else "black"
                ax.text(j, i, f"{z[i, j]:.1f}", ha="center", va="center", fontsize=9, color=colour)
    best = data.best.config
    if best.rank in ranks and best.learning_rate in lrs:
        ax.add_patch(
            Rectangle(
                (lrs.index(best.learning_rate) - 0.5, ranks.index(best.rank) - 0.5),
                1,
                1,
                fill=False,
                edgecolor=FRONT,
                linewidth=2.2,
            )
        )
    ax.set_xticks(range(len(lrs)), [fmt_lr(x) for x in lrs])
    ax.set_yticks(range(len(ranks)), [str(r) for r in ranks])
    ax.set_xlabel("learning rate")
    ax.set_ylabel("LoRA rank")
    cbar = fig.colorbar(im, ax=ax, shrink=0.9)
    _percent(cbar.ax.yaxis, scale=1.0)
    cbar.set_label("predicted accuracy", fontsize=8)
    over = averaged_over(data)
    sub = f"\nmean over {', '.join(k.replace('_', ' ') for k in over)}" if over else ""
    ax.set_title(f"Predicted accuracy (%) by rank × learning rate{sub}", fontsize=10)
    return fig
