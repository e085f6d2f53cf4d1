"""RESULTS.md's closing section: how each number of the race is computed."""

from __future__ import annotations

from loratune.race.roster import DEFAULT, EXHAUSTIVE
from loratune.race.run import SUCCESS_WITHIN


def definitions(faithful: bool) -> list[str]:
    fit = (
        "exactly as `loratune.autotune` fits it (`fit_predictor`)."
        if faithful
        else "with `quick_fit`: the same candidates and cross-validated choice for accuracy, the "
        "GP optimised from one start instead of three, the same std calibration, and the "
        "product's physical time model for time and cost; `--faithful` uses `fit_predictor` "
        "itself, slower."
    )
    return [
        "",
        "## How each number is computed",
        "",
        "- **pick**: among the trials a strategy trained to the last epoch, the one with the most "
        "validation examples right (exact counts; the earliest wins a tie). A trial stopped "
        "early never counts as a pick. Exhaustive search trains every config in grid order and "
        "picks the same way.",
        "- **regret**: the grid's best test accuracy minus the pick's test accuracy, in accuracy "
        f"points. **success**: regret <= {100 * SUCCESS_WITHIN:g} point, compared exactly on the "
        "recorded counts. Intervals: bootstrap (regret) and Wilson (success, "
        "`scipy.stats.binomtest`), 95%. **success at the noise margin**: regret <= the margin "
        "set against measured training noise (one config x seed interaction SD of test accuracy "
        "on customer_support's training-noise subset, rounded up to half a point; "
        "docs/protocol.md, fixed before the held-out financial grid was recorded), where that "
        "subset is recorded. **trained a config within 1 pt**: the share of runs that trained "
        "at least one config within the success margin of the grid's best to the last epoch; "
        "success needs that and a pick of it by validation, so the gap down to the success "
        "rate is what picking by validation lost, and the gap below 100% what the search "
        "never tried.",
        f"- **regret − exhaustive's**: for each (grid, seed), the strategy's regret minus "
        f"`{EXHAUSTIVE}`'s on the same grid; mean and 95% interval by `scipy.stats.bootstrap` "
        "(BCa) over those pairs. The unit resampled is the run, so the interval covers other "
        "seeds on these grids, not other grids. Exhaustive search itself is exactly 0.",
        "- **compute**: the seconds replay charged (set-up, each epoch run, each validation "
        "evaluation run, as the real trainer spends them; no test evaluation) over the charged "
        "seconds of the whole grid, which is what exhaustive search pays.",
        "- **speedup vs grid**: 1 / compute. **speedup at equal success**: the compute random "
        "search (picking by validation) needs to reach the same success rate, divided by the "
        "strategy's compute; random search's success is exact, not simulated (the probability "
        "that each config is the validation pick of b configs drawn without replacement).",
        f"- **Wilcoxon vs default**: for each (grid, seed), rival regret minus `{DEFAULT}` "
        "regret (Δ > 0: the default did better); two-sided Wilcoxon signed-rank test on the "
        "non-zero differences (scipy), Holm-adjusted across every rival of the table. Random, "
        "Optuna TPE/GP, Hyperband and ASHA get the default's budget (its trials, or its "
        "trials' epochs); the others have a budget of their own (marked other budget).",
        f"- **predictor**: the autotune strategies fit loratune's predictor {fit}",
    ]
