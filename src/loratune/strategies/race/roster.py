"""The strategies of the race, each with its rule and its budget in words.

loratune's own defaults (explore size, verify size, early stopping) live in `loratune.api`,
a layer above the strategies; the caller passes them in (`Defaults`), so this module never
imports upwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from loratune.space import Space
from loratune.strategies.race.autotune import (
    Autotune,
    AutotuneTransfer,
    EarlyStop,
    SurrogateFit,
    quick_fit,
)
from loratune.strategies.race.base import Strategy
from loratune.strategies.race.grids import Grid
from loratune.strategies.race.multifidelity import Hyperband, SuccessiveHalving
from loratune.strategies.race.samplers import OptunaSearch
from loratune.strategies.race.simple import Exhaustive, RandomSearch
from loratune.strategies.race.stopping import CurveStop

DEFAULT = "loratune-default"
EXHAUSTIVE = "exhaustive"
CURVE_STOP = "autotune-curve-stop"
RECIPE = (16, 5)  # the user document: 16 explored, top 5 predicted verified
TRANSFER_EXPLORE = 6
EXPLORE_VARIANTS = (6, 8, 16, 20)  # the default's own N is the `loratune-default` entry


@dataclass(frozen=True)
class Defaults:
    """loratune.autotune's defaults, as `loratune.api.autotune` sets them."""

    explore: int
    verify: int
    early_stop: bool


@dataclass(frozen=True)
class Entry:
    """A strategy of the race: how to build it, what it does, and whether its budget is set
    to the default's (so the paired test compares equal compute)."""

    make: Callable[[], Strategy]
    rule: str
    budget: str
    equal_compute: bool = False
    # One of the stopping rules raced against each other (epoch-1 rule, curve rule): its false
    # stops are reported per grid. Variants that only inherit the default's rule are not.
    stops_early: bool = False


def roster(
    space: Space,
    target: Grid,
    grids: Sequence[Grid],
    defaults: Defaults,
    fit: SurrogateFit | None = quick_fit,
) -> dict[str, Entry]:
    """The strategies raced on `target`; `fit` is the predictor fit of the autotune family
    (None: exactly `loratune.autotune`'s, three GP restarts and all targets model-selected).
    Both stopping rules judge on the size of `target`'s check subset, as the trainer does."""
    epochs = max(c.epochs for c in space.configs())
    explore, verify = defaults.explore, defaults.verify
    n = explore + verify
    ne = n * epochs
    es = EarlyStop(n_val=target.check_total)
    curve = CurveStop(n_val=target.check_total)
    es_rule = f"stop at epoch 1 if z >= {es.z:g} below best (n_check {es.n_val})"
    # The default and its variants stop early exactly when `loratune autotune` does by default,
    # so each variant differs from the default in one thing only.
    default_es = es if defaults.early_stop else None
    default_rule = f"Sobol {explore}, fit predictor, verify top {verify} predicted"
    if defaults.early_stop:
        default_rule += f", {es_rule}"
    toggled = "autotune-no-early-stop" if defaults.early_stop else "autotune-early-stop"
    at_most = "<= " if defaults.early_stop else ""

    def autotune(name: str, n_explore: int = explore, **kw: object) -> Callable[[], Strategy]:
        kw.setdefault("early_stop", default_es)
        return lambda: Autotune(n_explore, verify, name=name, fit=fit, **kw)  # type: ignore[arg-type]

    entries = {
        EXHAUSTIVE: Entry(Exhaustive, "every config, grid order, pick by validation", "whole grid"),
        "random": Entry(
            lambda: RandomSearch(n), "uniform without replacement", f"{n} trials", True
        ),
        "document-recipe": Entry(
            lambda: Autotune(*RECIPE, name="document-recipe", fit=fit),
            f"Sobol {RECIPE[0]}, fit predictor, verify top {RECIPE[1]} predicted",
            f"{sum(RECIPE)} trials",
        ),
        DEFAULT: Entry(
            autotune(DEFAULT),
            default_rule,
            f"{at_most}{n} trials",
            stops_early=defaults.early_stop,
        ),
        CURVE_STOP: Entry(
            autotune(CURVE_STOP, early_stop=curve),
            f"default with the curve rule instead of the epoch-1 rule: {curve.describe()}",
            f"<= {n} trials",
            stops_early=True,
        ),
        "optuna-tpe": Entry(
            lambda: OptunaSearch("tpe", n), "Optuna TPESampler, categorical", f"{n} trials", True
        ),
        "optuna-gp": Entry(
            lambda: OptunaSearch("gp", n), "Optuna GPSampler, categorical", f"{n} trials", True
        ),
        "hyperband": Entry(
            lambda: Hyperband(budget_epochs=ne),
            "Hyperband on epochs (eta 3), promoted configs retrained",
            f"{ne} epochs",
            True,
        ),
        "asha": Entry(
            lambda: SuccessiveHalving(budget_epochs=ne),
            "async successive halving, stop at epoch 1 unless top 1/3",
            f"{ne} epochs",
            True,
        ),
        toggled: Entry(
            autotune(toggled, early_stop=None if defaults.early_stop else es),
            "default without early stopping" if defaults.early_stop else f"default + {es_rule}",
            f"{n} trials" if defaults.early_stop else f"<= {n} trials",
            stops_early=not defaults.early_stop,
        ),
    }
    # Variants that choose autotune's defaults by measurement: explore size and verify rule.
    for n_explore in EXPLORE_VARIANTS:
        name = f"autotune-n{n_explore}"
        entries[name] = Entry(
            autotune(name, n_explore),
            f"default with Sobol {n_explore} explored",
            f"{at_most}{n_explore + verify} trials",
        )
    entries["autotune-ei"] = Entry(
        autotune("autotune-ei", rule="ei"),
        f"default, verifying the top {verify} by expected improvement",
        f"{at_most}{n} trials",
    )
    others = {g.label: g.rows for g in grids if g.domain != target.domain and g.complete_rows}
    if others:
        entries["autotune-transfer"] = Entry(
            lambda: AutotuneTransfer(
                others,
                target.domain,
                TRANSFER_EXPLORE,
                verify,
                name="autotune-transfer",
                fit=fit,
            ),
            f"Sobol {TRANSFER_EXPLORE} + other domains' grids (domain one-hot), "
            f"verify top {verify}",
            f"{TRANSFER_EXPLORE + verify} trials",
        )
    return entries
