"""The answer and the verdict: the best config, plain-language conclusions, the warnings."""

from __future__ import annotations

from loratune.report.data import ReportData
from loratune.report.document import Callout
from loratune.report.fmt import diff, factor, num, p_is, score, secs
from loratune.report.measures import (
    SAME,
    grid_regret,
    interval_hits,
    predicted_best,
    shown_ci,
    spent_trials,
    top1_regret,
)
from loratune.results import RunnerUp
from loratune.tasks import get_metric


def headline(data: ReportData) -> str:
    """The pick with the number that picked it (validation) and, once read, its test score."""
    b, pick = data.best, data.validation.pick
    title = get_metric(data.validation.metric).title
    text = f"**Best config:** {b.config.describe()} — **{score(b.accuracy)}** validation {title}"
    if pick.test_accuracy is None:
        return text + " (not scored on the test split)"
    return text + f", **{score(pick.test_accuracy)}** on the test split (read once, after the pick)"


def _best_detail(data: ReportData) -> str:
    b = data.best
    m = b.metrics
    phase = m.get("phase") or "unknown"
    text = (
        f"Trial #{b.number}, found in the **{phase}** phase; {secs(m.get('latency'))} per "
        f"training epoch over {b.config.epochs} epochs; dropout {b.config.dropout:g}, "
        f"batch size {b.config.batch_size}."
    )
    if num(m.get("predicted_accuracy")) is not None:
        text += (
            f" Before training it was predicted at {score(m.get('predicted_accuracy'))} "
            f"± {diff(m.get('predicted_accuracy_std'))}."
        )
    explored = [p.accuracy for p in data.explored if p.accuracy is not None]
    verified = [p.accuracy for p in data.verified if p.accuracy is not None]
    if phase == "verify" and explored and b.accuracy is not None:
        text += (
            f" Verifying paid off: it beats the best explored config by "
            f"{diff(b.accuracy - max(explored))} on validation."
        )
    elif phase == "explore" and verified:
        text += f" None of the {len(verified)} verified configs beat it."
    return text


def _runner_up_sentence(r: RunnerUp) -> str:
    """Whether validation told the pick apart from the next-best trial (the CLI prints the
    same test): a pick within noise is a draw that another training seed could reverse."""
    d = r.difference
    test = (
        f"{d.a_only} vs {d.b_only} of {d.examples} validation examples answered right by only "
        f"one of them, exact McNemar {p_is(d.p)}"
    )
    if r.distinguishable:
        return f"On validation the pick is told apart from the runner-up ({r.config}): {test}."
    return (
        f"On validation the pick is **within noise** of the runner-up ({r.config}, "
        f"{score(r.accuracy)}): {test}. Retrained with another seed, either could come out ahead; "
        "`--separate 3` retrains the top 3 with the next seed and keeps the adapter validation "
        "ranks best (about 3 more trials)."
    )


def verdict(data: ReportData) -> list[str]:
    v = data.validation
    out = [_best_detail(data)]
    grid = v.grid
    grid_best = num(grid.best_accuracy) if grid is not None else None
    gap = grid_regret(data)
    if grid is not None and grid_best is not None and gap is not None:
        n = grid.trials
        of = (
            f"the {n} configs of the exhaustive grid"
            if grid.complete
            else f"the {n} configs trained so far in the grid study"
        )
        test = f"On the test split the pick scores {score(v.pick.test_accuracy)}"
        if gap < -SAME:
            out.append(
                f"{test}, {diff(-gap)} above the best of {of} ({score(grid_best)}): the search "
                "lost nothing, and the gap shows how much reruns of a config vary."
            )
        elif gap < SAME:
            out.append(f"{test}, the best of {of} ({score(grid_best)}): the search lost nothing.")
        else:
            out.append(f"{test}, **{diff(gap)}** below the best of {of} ({score(grid_best)}).")
        if num(grid.exhaustive_pick_accuracy) is not None:
            out.append(
                f"Exhaustive search, picking by validation as this run did, would score "
                f"{score(grid.exhaustive_pick_accuracy)} on test ({diff(v.exhaustive_regret)} "
                "below the best): validation cannot always tell the top configs apart either."
            )
    elif grid is not None:
        out.append(
            "The pick was not scored on the test split, so it is not compared with the grid "
            "study's test accuracies."
        )
    else:
        out.append(
            f"No exhaustive grid was recorded for comparison, so the pick is judged only "
            f"against the {v.trials} trials of this study."
        )
    out.append(_ranking_sentence(data))
    if data.separation is not None:
        out.append(data.separation.line())
    elif v.pick_vs_runner_up is not None:
        out.append(_runner_up_sentence(v.pick_vs_runner_up))
    top1, gap = predicted_best(data), top1_regret(data)
    if top1 is not None and gap is not None:
        if gap < SAME:
            out.append("The config predicted best among the verified is the best trial.")
        else:
            out.append(
                f"The config predicted best among the verified ({top1.short}) scored "
                f"{score(top1.accuracy)} on validation, {diff(gap)} below the best trial."
            )
    s = v.speedup
    if s.across is not None:  # the grid's seconds were measured on another machine
        a = s.across
        machines = a.machines_line()
        sentence = (
            f"Training {a.trials} configs instead of all {a.grid_trials} ran "
            f"**{factor(a.epochs_factor)} fewer epochs** than the full grid. "
            f"{machines[0].upper()}{machines[1:]}"
        )
        if num(s.factor) is not None:
            sentence += (
                f"; calibrated to this machine on {a.calibrated_on} "
                f"config{'' if a.calibrated_on == 1 else 's'} both trained, it used "
                f"**{factor(s.factor)} less compute**"
            )
        out.append(sentence + ".")
    elif num(s.factor) is not None:
        source = "measured" if s.source == "measured" else "predicted"
        out.append(
            f"Training {spent_trials(data)} configs instead of all {len(data.space)} used "
            f"**{factor(s.factor)} less compute** than the full grid "
            f"(grid compute {source})."
        )
    return out


def _ranking_sentence(data: ReportData) -> str:
    p = data.validation.prediction
    n = p.n if p is not None else len(data.verified)
    if n == 0:
        return "No verified config has a stored prediction, so the predictions are untested."
    rho = p.spearman.value if p is not None and p.spearman is not None else None
    rho_p = p.spearman.p if p is not None and p.spearman is not None else None
    mae = num(p.mae) if p is not None else None
    ci = shown_ci(data.validation.mae_ci95)
    err = f"missed by {diff(mae)} on average" if mae is not None else "errors are unknown"
    if ci is not None and mae is not None:
        err += f" (95% CI {diff(ci[0])} to {diff(ci[1])})"
    if rho is None:
        why = (
            "all predicted or all actual values are equal"
            if n >= 3
            else "Spearman needs at least 3 configs"
        )
        plural = "s" if n != 1 else ""
        return (
            f"With {n} verified config{plural} the ranking cannot be measured ({why}); "
            f"the predictions {err}."
        )
    p_text = f", {p_is(rho_p)}" if rho_p is not None else ""
    if rho_p is not None and rho_p > 0.05:
        p_text += ": could be chance"
    inside = interval_hits(data.verified)
    cov = f"; {inside[0]} of {inside[1]} landed inside the 90% interval" if inside[1] else ""
    return (
        f"Predictions ranked the {n} verified configs **{_how_well(rho)}** "
        f"(Spearman ρ = {rho:.2f}{p_text}) and {err}{cov}."
    )


def _how_well(rho: float) -> str:
    if rho < 0:
        return "in reverse order"
    if rho < 0.4:
        return "weakly"
    return "moderately well" if rho < 0.7 else "well"


def warnings(data: ReportData) -> Callout:
    items = list(data.validation.warnings)
    if data.failed:
        items.append(f"{data.failed} trial(s) failed and are left out of every statistic.")
    if items:
        return Callout("Weak evidence: read before trusting the numbers below", items)
    return Callout("No evidence warnings", ["The statistics below rest on enough trials."], "ok")
