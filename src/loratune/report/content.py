"""The report's content, in reading order: the answer, the verdict, the warnings, the evidence,
the plots, and where it all came from."""

from __future__ import annotations

from datetime import datetime

from loratune.report import plots, tables
from loratune.report.data import ReportData
from loratune.report.document import Document, Gallery, Image, Para, Section
from loratune.report.fmt import DASH, scores_in_percent
from loratune.report.verdict import headline, verdict, warnings
from loratune.tasks import get_metric


def build(data: ReportData) -> Document:
    with scores_in_percent(get_metric(data.validation.metric).unit_interval):
        return _build(data)


def _build(data: ReportData) -> Document:
    subtitle = f"study {data.study} · space {data.space.name} ({len(data.space)} configs)"
    return Document(
        title=f"loratune autotune: {data.domain} on {data.model}",
        subtitle=subtitle + _metric_subtitle(data.validation.metric),
        headline=headline(data),
        sections=[
            Section("Verdict", [Para(s) for s in [*_metric_note(data), *verdict(data)]]),
            Section("Read this first", [warnings(data)]),
            Section("Prior and stop", [Para(s) for s in _search_lines(data)]),
            Section("Predicted vs actual (verified configs)", tables.verified_table(data)),
            Section("Statistics of the predictions", tables.statistics(data)),
            Section("Regret", tables.regret(data)),
            Section("Speedup and cost saved", tables.compute(data)),
            Section(f"Top {tables.TOP} predicted configs of the grid", tables.top_table(data)),
            Section("Plots", [_plots(data)]),
        ],
        footer=_footer(data),
    )


def _search_lines(data: ReportData) -> list[str]:
    """Where the search started, why it stopped, its wall time (this machine's seconds)."""
    trials = len(data.explored) + len(data.verified) + len(data.stopped) + data.failed
    out = [f"Prior: {data.prior or 'none'}."]
    if data.stop_reason:
        out.append(
            f"The search stopped after {trials} trials ({data.failed} failed): {data.stop_reason}."
        )
    out.append(f"Search wall time: {data.search_seconds:.0f} s on this machine.")
    return out


def _metric_subtitle(name: str) -> str:
    """An accuracy report reads as it always did; another metric is named at the top."""
    return "" if name == "accuracy" else f" · metric: validation {get_metric(name).title}"


def _metric_note(data: ReportData) -> list[str]:
    """What the numbers below mean when the study was tuned for another metric than accuracy."""
    if data.validation.metric == "accuracy":
        return []
    m = get_metric(data.validation.metric)
    negated = "" if m.higher_is_better else ", negated (lower is better: decisions maximise -loss)"
    stop = "applied as for accuracy" if m.proportion else "was off (its z-test is for proportions)"
    return [
        f"Tuned for {m.title} ({m.name}): every decision read validation {m.title}; every number "
        f"labelled accuracy below is {m.title}{negated}, and the pick's test figure is its test "
        f"{m.title}. Early stopping {stop}; the pick is not tested against the runner-up "
        "(McNemar's test needs accuracy's per-example hits)."
    ]


def _plots(data: ReportData) -> Gallery:
    over = plots.averaged_over(data)
    averaged = f" averaged over {', '.join(k.replace('_', ' ') for k in over)}" if over else ""
    specs = [
        (
            "predicted_vs_actual.png",
            plots.predicted_vs_actual,
            "Verified configs: predicted accuracy (bars: 90% interval) against the validation "
            "accuracy they reached; numbers match the table. Grey: explored configs, fitted "
            "in-sample.",
        ),
        (
            "accuracy_vs_time.png",
            plots.accuracy_vs_time,
            "Every trained config by seconds per epoch; the red staircase is the Pareto front "
            "(no config is both faster and more accurate). Grey: the predicted grid.",
        ),
        (
            "learning_curves.png",
            plots.learning_curves,
            "Validation accuracy per epoch of the verified configs (numbered as in the table); "
            "explored ones in grey.",
        ),
        (
            "heatmap_rank_lr.png",
            plots.rank_lr_heatmap,
            f"Predicted accuracy (%) by rank and learning rate{averaged}. Red box: the pick.",
        ),
    ]
    return Gallery([Image(name, caption, plots.png(draw(data))) for name, draw, caption in specs])


def _footer(data: ReportData) -> list[str]:
    v = data.validation
    surrogates = ", ".join(f"{t}: {m}" for t, m in sorted(data.surrogates.items())) or DASH
    prov = data.best.attrs.get("provenance") or {}  # as the trainer's process recorded it
    packages = prov.get("packages") or {}
    hardware = prov.get("gpu") or prov.get("cpu") or DASH
    grid = "; ".join(f"{k} {list(vals)}" for k, vals in data.space.grid.items())
    fixed = ", ".join(f"{k} {val}" for k, val in data.space.fixed.items())
    return [
        f"Surrogates chosen by cross-validation, per target: {surrogates}.",
        f"Trials: {len(data.explored)} explored to the last epoch, {len(data.verified)} verified, "
        f"{v.trials} finished in the study"
        + (f", {len(data.stopped)} stopped early after epoch 1" if data.stopped else "")
        + (f", {data.failed} failed" if data.failed else "")
        + ".",
        f"Space {data.space.name}: {grid}; fixed {fixed or DASH}.",
        f"loratune {packages.get('loratune') or DASH}, commit {prov.get('git_commit') or DASH}, "
        f"device {data.best.metrics.get('device') or DASH} ({hardware}).",
        f"Generated {datetime.now().isoformat(timespec='seconds')}. Every number comes from "
        f"trials recorded in study {data.study}; "
        + (
            "accuracies are shown in %, their differences in percentage points (pts)."
            if get_metric(data.validation.metric).unit_interval
            else "scores are shown as plain numbers (the negated loss), as are their differences."
        ),
    ]
