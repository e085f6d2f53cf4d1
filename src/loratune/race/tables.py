"""The race's outputs: results.json, RESULTS.md and the regret-against-compute plot."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from loratune.race.bench import NO_STOP, Report
from loratune.race.checks import FALSE_STOP_WITHIN, PREDICTOR_LEVEL
from loratune.race.definitions import definitions
from loratune.race.grids import Grid
from loratune.race.plot import plot
from loratune.race.roster import DEFAULT
from loratune.race.run import SUCCESS_WITHIN

GROUP_TITLES = {
    "tuning": "Tuning grids (the defaults may be chosen here)",
    "held_out": "Held-out grids (the defaults' test)",
    "unassigned": "Grids holdout.toml does not name",
}


def _rel(p: Path | str, root: Path | None) -> str:
    """A path relative to the repository root (`..` where it lies in a sibling worktree)."""
    return str(p) if root is None else os.path.relpath(Path(p).resolve(), root.resolve())


def notes(report: Report) -> list[str]:
    out = []
    if not report.used:
        out.append(
            "No complete protocol-2 grid yet: nothing was raced. Grids recorded under protocol 1 "
            "(test accuracy as the value) are archived and are not raced."
        )
    elif len(report.used) == 1:
        out.append(
            f"Only one grid ({report.used[0].label}): every number below is for that one task; "
            "it says nothing yet about how strategies generalise across domains."
        )
    out += [
        f"{g.label} has {g.failed_rows} failed row(s): a strategy that trains one is charged "
        "its recorded seconds and learns nothing from it."
        for g in report.used
        if g.failed_rows
    ]
    out += [f"Left out: {s['label'] or s['path']}: {s['reason']}." for s in report.skipped]
    unassigned = [g.label for g in report.used if report.group_of(g) == "unassigned"]
    if unassigned:
        out.append(f"Not named in holdout.toml (reported apart): {', '.join(unassigned)}.")
    if report.used and "autotune-transfer" not in report.strategies:
        out.append("autotune-transfer did not run: it needs a recorded grid of another domain.")
    return out


def to_json(report: Report, root: Path | None = None) -> dict[str, Any]:
    return {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "loratune_commit": report.commit,
        "protocol": 2,
        "selection": "validation",
        "judge": "test",
        "space": report.space.to_dict(),
        "settings": {
            "seeds": report.seeds,
            "success_within": SUCCESS_WITHIN,
            "success_margin_vs_noise": report.margin_line,
            "noise_margin": report.noise_margin,
            "false_stop_within": float(FALSE_STOP_WITHIN),
            "default": {
                "explore": report.defaults.explore,
                "verify": report.defaults.verify,
                "early_stop": report.defaults.early_stop,
            },
            "predictor_fit": "fit_predictor" if report.faithful else "quick_fit",
        },
        "holdout": report.holdout.to_dict(),
        "grids": [_grid_info(g, report, root) for g in report.used],
        "skipped": [{**s, "path": _rel(s["path"], root)} for s in report.skipped],
        "recordings": [{**r, "path": _rel(r["path"], root)} for r in report.recordings],
        "noise": {
            label: {
                kind: {
                    m: {k: r[m][k] for k in ("within_config_sd", "residual_sd", "examples")}
                    for m in ("test", "validation")
                }
                for kind, r in kinds.items()
            }
            for label, kinds in report.noise.items()
        },
        "notes": notes(report),
        "strategies": report.strategies,
        "groups": report.groups,
        "per_grid": report.per_grid,
    }


def _grid_info(g: Grid, report: Report, root: Path | None) -> dict[str, Any]:
    return {
        "label": g.label,
        "group": report.group_of(g),
        "path": _rel(g.path, root),
        "model": g.model,
        "domain": g.domain,
        "rows": len(g.rows),
        "complete": g.complete_rows,
        "failed": g.failed_rows,
        "check_total": g.check_total,
        "recorded_at_commits": list(g.commits),
        "sha256_12": g.sha256,
    }


# -------------------------------------------------------------------------------- markdown


def _pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f}%"


def _num(x: float | None, fmt: str = ".2f", suffix: str = "") -> str:
    return "—" if x is None else f"{x:{fmt}}{suffix}"


def _p(p: float | None) -> str:
    return "—" if p is None else f"{p:.3g}"


def _test_cell(s: Mapping[str, Any]) -> str:
    w = s.get("wilcoxon_vs_default")
    if w is None:
        return "(reference)"
    ratio = s.get("compute_vs_default", 1.0)
    eq = f", {ratio:.2f}× default's compute" + (
        "" if s["equal_compute_to_default"] else ", other budget"
    )
    diff = "—" if w["mean_diff"] is None else f"{100 * w['mean_diff']:+.2f} pt"
    return (
        f"p={_p(w['p'])}, Holm p={_p(w.get('p_holm'))}, Δ={diff}, "
        f"{w['default_better']}/{w['rival_better']}/{w['ties']}{eq}"
    )


def _vs_exhaustive(s: Mapping[str, Any]) -> str:
    r = s.get("regret_vs_exhaustive")
    if r is None:
        return "—"
    return f"{100 * r['mean']:+.2f} pt [{100 * r['ci_low']:+.2f}, {100 * r['ci_high']:+.2f}]"


def strategy_table(strategies: Mapping[str, Mapping[str, Any]]) -> list[str]:
    noisy = any(s.get("success_rate_noise_margin") is not None for s in strategies.values())
    extra = " | success at the noise margin [95% CI]" if noisy else ""
    lines = [
        "| strategy | rule | budget | trials | compute | mean regret [95% CI] "
        "| regret − exhaustive's [95% CI] | trained a config within 1 pt "
        f"| success [95% CI]{extra} | speedup vs grid "
        "| speedup at equal success "
        "| Wilcoxon vs default (p, Holm p, Δ regret, default better / rival better / ties) |",
        "| --- " * (13 if noisy else 12) + "|",
    ]
    for name in sorted(strategies, key=lambda n: strategies[n]["compute_fraction"]):
        s = strategies[name]
        lo, hi = s["regret_ci95"]
        noise_cell = f"| {_rate(s, 'success_rate_noise_margin', 'success_noise_margin_ci95')} "
        lines.append(
            f"| {'**' + name + '**' if name == DEFAULT else name} | {s['rule']} | {s['budget']} "
            f"| {s['mean_trials']:.1f} | {_pct(s['compute_fraction'])} "
            f"| {100 * s['mean_regret']:.2f} pt [{100 * lo:.2f}, {100 * hi:.2f}] "
            f"| {_vs_exhaustive(s)} | {_pct(s['reached_near_best'], 0)} "
            f"| {_rate(s, 'success_rate', 'success_ci95')} "
            f"{noise_cell if noisy else ''}"
            f"| {_num(s['speedup_vs_exhaustive'], '.1f', '×')} "
            f"| {_num(s['speedup_at_equal_success'], '.2f', '×')} | {_test_cell(s)} |"
        )
    return lines


def _rate(s: Mapping[str, Any], key: str, ci: str) -> str:
    if s.get(key) is None:
        return "—"
    lo, hi = s[ci]
    return f"{_pct(s[key], 0)} [{_pct(lo, 0)}, {_pct(hi, 0)}]"


def _goal_lines(goal: Mapping[str, Any] | None) -> list[str]:
    if goal is None:
        return []
    beats = "; ".join(
        f"{n}: Holm p={_p(b['p_holm'])} ({'met' if b['met'] else 'not met'})"
        for n, b in goal["beats"].items()
    )
    return [
        "",
        f"Goal for `{DEFAULT}`: regret − exhaustive's upper 95% end "
        f"{goal['regret_vs_exhaustive_ci_high_pt']:+.2f} pt (goal <= +0.5 pt: "
        f"{'met' if goal['no_worse_than_exhaustive'] else 'not met'}); compute "
        f"{_pct(goal['compute_fraction'])} (goal <= 20%: "
        f"{'met' if goal['within_20pct_compute'] else 'not met'}); lower regret than {beats}.",
    ]


def _per_grid_lines(report: Report) -> list[str]:
    if not report.per_grid:
        return []
    lines = [
        "## Per grid: the predictor and early stopping",
        "",
        f"Predictor (`{DEFAULT}`, after its explore phase; validation targets): Spearman, MAE "
        f"and {100 * PREDICTOR_LEVEL:g}% interval coverage over the configs it had not tried, "
        "means over seeds; the time model (seconds per epoch) the same way; and the coverage "
        f"of `{NO_STOP}`'s predictor, whose fit holds no stopped trial. False stops: "
        f"trials stopped early whose full run ends within {100 * float(FALSE_STOP_WITHIN):g} "
        "points (test) of the grid's best.",
        "",
        "| grid | group | predictor Spearman | MAE | 90% coverage | 90% coverage, no early stop "
        "| time Spearman | time MAE | time coverage "
        "| stops / false stops (share, per run), per rule |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, info in report.per_grid.items():
        p = info.get("predictor") or {}
        q = info.get("predictor_no_early_stop") or {}
        stops = "; ".join(
            f"{name}: {e['stops']} / {e['false_stops']} ({_pct(e['false_stop_share'], 0)}, "
            f"{_num(e['false_stops_per_run'], '.2f')})"
            for name, e in info["early_stopping"].items()
        )
        lines.append(
            f"| `{label}` | {info['group']} | {_num(p.get('spearman'))} "
            f"| {_num(None if p.get('mae') is None else 100 * p['mae'], '.2f', ' pt')} "
            f"| {_pct(p.get('coverage'), 0)} | {_pct(q.get('coverage'), 0)} "
            f"| {_num(p.get('time_spearman'))} "
            f"| {_num(p.get('time_mae_seconds'), '.1f', ' s')} | {_pct(p.get('time_coverage'), 0)} "
            f"| {stops or '—'} |"
        )
    return [*lines, ""]


def markdown(report: Report, root: Path | None = None) -> str:
    lines = [
        "# Strategy race on recorded grids (protocol 2)",
        "",
        "Generated by `make bench` (`benchmarks/race.py`) from loratune commit "
        f"`{report.commit}`, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. No training: every "
        "trial is replayed from a recorded real grid (`ReplayExecutor`, simulated clock). Every "
        "strategy, exhaustive search included, picks by **validation**; the judge is the pick's "
        "**test** accuracy, which no strategy reads.",
        "",
        f"- {report.margin_line[:1].upper()}{report.margin_line[1:]}.",
        f"- Grids that choose the defaults: {', '.join(report.holdout.tuning)}; held out: "
        f"{', '.join(report.holdout.held_out)} (`{_rel(report.holdout.source, root)}`, fixed "
        "before any protocol-2 grid was raced).",
        "",
        "## Where the numbers come from",
        "",
        "| grid file | group | model | domain | rows (complete / failed) | recorded at commit "
        "| sha256 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for g in report.used:
        commits = ", ".join(f"`{c}`" for c in g.commits) or "unknown"
        lines.append(
            f"| `{_rel(g.path, root)}` | {report.group_of(g)} | {g.model} | {g.domain} "
            f"| {len(g.rows)} ({g.complete_rows} / {g.failed_rows}) | {commits} | `{g.sha256}` |"
        )
    if not report.used:
        lines.append("| (none) | | | | | | |")
    lines += _recording_lines(report, root)
    lines += [
        "",
        f"Space `{report.space.name}`: {len(report.space)} configs; {report.seeds} seeds per "
        "strategy and grid.",
        "",
    ]
    lines += [f"- **{n}**" for n in notes(report)]
    if report.strategies:
        lines += ["", "## Results over all grids", "", *strategy_table(report.strategies)]
        lines += ["", "![mean regret against compute](regret_vs_compute.png)", ""]
        for group, data in report.groups.items():
            lines += [
                f"## {GROUP_TITLES[group]}",
                "",
                "Grids: " + ", ".join(f"`{x}`" for x in data["grids"]),
                "",
                *strategy_table(data["strategies"]),
                *_goal_lines(data["goal"]),
                "",
            ]
        lines += _per_grid_lines(report)
        lines += _per_grid_table(report)
    lines += definitions(report.faithful)
    return "\n".join(lines) + "\n"


def _recording_lines(report: Report, root: Path | None) -> list[str]:
    if not report.recordings:
        return ["", "No recording in progress was found (`benchmarks/grids/recording/`)."]
    lines = [
        "",
        "Recordings in progress (not raced until complete and moved to "
        "`benchmarks/grids/<model>/`):",
        "",
        "| file | kind | rows (complete) |",
        "| --- | --- | --- |",
    ]
    for r in report.recordings:
        of = f" of {r['of']}" if r["of"] else ""
        lines.append(
            f"| `{_rel(r['path'], root)}` | {r['kind']} | {r['rows']} ({r['complete']}){of} |"
        )
    return lines


def _per_grid_table(report: Report) -> list[str]:
    labels = [g.label for g in report.used]
    if len(labels) < 2:
        return []
    lines = [
        "## Per grid: each strategy",
        "",
        f"Success rate · mean regret · compute on each grid ({report.seeds} seeds each).",
        "",
        "| strategy | " + " | ".join(f"`{label}`" for label in labels) + " |",
        "| --- |" + " --- |" * len(labels),
    ]
    order = sorted(report.strategies, key=lambda n: report.strategies[n]["compute_fraction"])
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


def write_outputs(report: Report, out: Path, root: Path | None = None) -> None:
    """results.json and RESULTS.md; the plot when something was raced (a stale one from an
    earlier race is removed, so no figure outlives its numbers)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(to_json(report, root), indent=1) + "\n")
    (out / "RESULTS.md").write_text(markdown(report, root))
    png = out / "regret_vs_compute.png"
    if report.strategies:
        plot(report, png)
    elif png.exists():
        png.unlink()


def console_lines(report: Report) -> Sequence[str]:
    lines = [*notes(report), report.margin_line]
    for r in report.recordings:
        of = f" of {r['of']}" if r["of"] else ""
        lines.append(f"recording {r['label']}: {r['complete']}{of} complete rows ({r['kind']})")
    for name, s in report.strategies.items():
        vs = s.get("regret_vs_exhaustive") or {}
        lines.append(
            f"{name:24s} success {s['success_rate']:.2f}  regret {100 * s['mean_regret']:.2f} pt"
            f"  vs exhaustive {100 * vs.get('mean', 0):+.2f} pt"
            f"  compute {100 * s['compute_fraction']:.1f}%"
        )
    return lines
