"""The built-in strategies, registered in `strategies.registry` in the order the race reports
them, each with its rule and its budget in words. `loratune.strategies` imports this module,
so the registry is never seen without them; the race's roster (`loratune.race.roster`) reads
the registry and never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable

from loratune.prior import Prior, build_prior, source_from_rows
from loratune.strategies.base import Strategy
from loratune.strategies.multifidelity import Hyperband, SuccessiveHalving
from loratune.strategies.registry import DEFAULT_STRATEGY, Entry, Setting, register
from loratune.strategies.samplers import OptunaSearch
from loratune.strategies.search import Autotune, AutotuneTransfer, EarlyStop, grid_rows
from loratune.strategies.simple import Exhaustive, RandomSearch
from loratune.strategies.stopping import CurveStop
from loratune.strategies.warm import DEFAULT_CEILING, DEFAULT_P_STOP, DEFAULT_PORTFOLIO, WarmStart

DEFAULT = DEFAULT_STRATEGY
EXHAUSTIVE = "exhaustive"
CURVE_STOP = "autotune-curve-stop"
COLD = "autotune-cold"  # the cold start: `loratune autotune --prior none`
RECIPE = (16, 5)  # the user document: 16 explored, top 5 predicted verified
TRANSFER_EXPLORE = 6
EXPLORE_VARIANTS = (6, 8, 16, 20)  # the default's own N is the `loratune-default` entry


def _epochs(s: Setting) -> int:
    return max(c.epochs for c in s.space.configs())


def _es(s: Setting) -> EarlyStop:
    return EarlyStop(n_val=s.n_check)


def _es_rule(s: Setting) -> str:
    es = _es(s)
    return f"stop at epoch 1 if z >= {es.z:g} below best (n_check {es.n_val})"


def _at_most(s: Setting) -> str:
    return "<= " if s.early_stop else ""


def _autotune(
    s: Setting, name: str, n_explore: int | None = None, **kw: object
) -> Callable[[], Strategy]:
    """The default with one thing changed. The default and its variants stop early exactly
    when `loratune autotune` does by default, so each variant differs from it in one thing."""
    kw.setdefault("early_stop", _es(s) if s.early_stop else None)
    explore = s.explore if n_explore is None else n_explore
    return lambda: Autotune(explore, s.verify, name=name, fit=s.fit, **kw)  # type: ignore[arg-type]


@register(EXHAUSTIVE)
def _exhaustive(s: Setting) -> Entry:
    return Entry(Exhaustive, "every config, grid order, pick by validation", "whole grid")


@register("random")
def _random(s: Setting) -> Entry:
    n = s.explore + s.verify
    return Entry(lambda: RandomSearch(n), "uniform without replacement", f"{n} trials", True)


@register("document-recipe")
def _recipe(s: Setting) -> Entry:
    return Entry(
        lambda: Autotune(*RECIPE, name="document-recipe", fit=s.fit),
        f"Sobol {RECIPE[0]}, fit predictor, verify top {RECIPE[1]} predicted",
        f"{sum(RECIPE)} trials",
    )


def _cold(s: Setting, name: str) -> Entry:
    rule = f"Sobol {s.explore}, fit predictor, verify top {s.verify} predicted"
    if s.early_stop:
        rule += f", {_es_rule(s)}"
    return Entry(
        _autotune(s, name),
        rule,
        f"{_at_most(s)}{s.explore + s.verify} trials",
        stops_early=s.early_stop,
    )


@register(DEFAULT)
def _default(s: Setting) -> Entry:
    """What `loratune autotune` runs: the warm start from a prior of the other domains' grids
    (chosen by docs/protocol.md's next-round rule), or the cold start where there is none."""
    warm = _warm(DEFAULT)(s)
    return warm if warm is not None else _cold(s, DEFAULT)


@register(COLD)
def _cold_start(s: Setting) -> Entry:
    """The default until 2026-12-05, `loratune autotune --prior none`: no prior."""
    return _cold(s, COLD)


@register(CURVE_STOP)
def _curve_stop(s: Setting) -> Entry:
    curve = CurveStop(n_val=s.n_check)
    return Entry(
        _autotune(s, CURVE_STOP, early_stop=curve),
        f"default with the curve rule instead of the epoch-1 rule: {curve.describe()}",
        f"<= {s.explore + s.verify} trials",
        stops_early=True,
    )


def _sampler(kind: str, label: str) -> Callable[[Setting], Entry]:
    def build(s: Setting) -> Entry:
        n = s.explore + s.verify
        return Entry(lambda: OptunaSearch(kind, n), label, f"{n} trials", True)

    return build


register("optuna-tpe")(_sampler("tpe", "Optuna TPESampler, categorical"))
register("optuna-gp")(_sampler("gp", "Optuna GPSampler, categorical"))


def _by_epochs(make: Callable[[int], Strategy], label: str) -> Callable[[Setting], Entry]:
    """A multi-fidelity strategy given the default's budget in epochs."""

    def build(s: Setting) -> Entry:
        epochs = (s.explore + s.verify) * _epochs(s)
        return Entry(lambda: make(epochs), label, f"{epochs} epochs", True)

    return build


register("hyperband")(
    _by_epochs(
        lambda n: Hyperband(budget_epochs=n),
        "Hyperband on epochs (eta 3), promoted configs retrained",
    )
)
register("asha")(
    _by_epochs(
        lambda n: SuccessiveHalving(budget_epochs=n),
        "async successive halving, stop at epoch 1 unless top 1/3",
    )
)


# The default with its early stopping toggled: only the one that differs from the default runs.
@register("autotune-no-early-stop")
def _no_early_stop(s: Setting) -> Entry | None:
    if not s.early_stop:
        return None
    n = s.explore + s.verify
    name = "autotune-no-early-stop"
    return Entry(
        _autotune(s, name, early_stop=None), "default without early stopping", f"{n} trials"
    )


@register("autotune-early-stop")
def _early_stop(s: Setting) -> Entry | None:
    if s.early_stop:
        return None
    n = s.explore + s.verify
    return Entry(
        _autotune(s, "autotune-early-stop", early_stop=_es(s)),
        f"default + {_es_rule(s)}",
        f"<= {n} trials",
        stops_early=True,
    )


# Variants that choose autotune's defaults by measurement: explore size and verify rule.
def _explore_variant(n_explore: int) -> Callable[[Setting], Entry]:
    name = f"autotune-n{n_explore}"

    def build(s: Setting) -> Entry:
        return Entry(
            _autotune(s, name, n_explore),
            f"default with Sobol {n_explore} explored",
            f"{_at_most(s)}{n_explore + s.verify} trials",
        )

    return build


for _n in EXPLORE_VARIANTS:
    register(f"autotune-n{_n}")(_explore_variant(_n))


@register("autotune-ei")
def _ei(s: Setting) -> Entry:
    return Entry(
        _autotune(s, "autotune-ei", rule="ei"),
        f"default, verifying the top {s.verify} by expected improvement",
        f"{_at_most(s)}{s.explore + s.verify} trials",
    )


@register("autotune-transfer")
def _transfer(s: Setting) -> Entry | None:
    if not s.others:
        return None
    return Entry(
        lambda: AutotuneTransfer(
            s.others, s.domain, TRANSFER_EXPLORE, s.verify, name="autotune-transfer", fit=s.fit
        ),
        f"Sobol {TRANSFER_EXPLORE} + other domains' grids (domain one-hot), verify top {s.verify}",
        f"{TRANSFER_EXPLORE + s.verify} trials",
    )


# Transfer: a prior built from the other domains' grids only (`Setting.others` never holds the
# target's domain), then the warm start with the evidence stop, and Optuna's samplers given the
# same portfolio. Variants differ from `warm-start` in one thing each.

WARM_VARIANTS = {
    "warm-start-p2": {"portfolio": 2},
    "warm-start-p4": {"portfolio": 4},
    "warm-start-stop05": {"p_stop": 0.05},
    "warm-start-stop10": {"p_stop": 0.1},
    "warm-start-c8": {"ceiling": 8},
}


def setting_prior(s: Setting) -> Prior | None:
    """The prior of a race setting: every other domain's grid, validation scores only."""
    sources = [
        source_from_rows(grid_rows(rows), label, label)
        for label, rows in sorted(s.others.items())
        if rows
    ]
    sources = [src for src in sources if src.domain != s.domain]
    return build_prior(sources) if sources else None


def _warm(name: str, **kw: float) -> Callable[[Setting], Entry | None]:
    def build(s: Setting) -> Entry | None:
        prior = setting_prior(s)
        if prior is None:
            return None
        opts = {
            "portfolio": DEFAULT_PORTFOLIO,
            "ceiling": DEFAULT_CEILING,
            "p_stop": DEFAULT_P_STOP,
        }
        opts |= kw
        n, k, p = int(opts["ceiling"]), int(opts["portfolio"]), float(opts["p_stop"])
        es = _es(s) if s.early_stop else None
        return Entry(
            lambda: WarmStart(prior, k, n, p, early_stop=es, name=name),
            f"prior portfolio {k} (other domains' grids), then EI under a prior-mean GP; "
            f"stop when no config has > {p:.0%} chance to beat the best by 1 SE",
            f"<= {n} trials",
            stops_early=name == DEFAULT and es is not None,  # variants inherit its rule
        )

    return build


for _name, _kw in WARM_VARIANTS.items():
    register(_name)(_warm(_name, **_kw))


def _warm_sampler(kind: str, label: str) -> Callable[[Setting], Entry | None]:
    def build(s: Setting) -> Entry | None:
        prior = setting_prior(s)
        if prior is None:
            return None
        n = DEFAULT_CEILING
        return Entry(
            lambda: OptunaSearch(kind, n, warm=prior, n_warm=DEFAULT_PORTFOLIO),  # type: ignore[arg-type]
            f"{label}, the prior's portfolio of {DEFAULT_PORTFOLIO} enqueued first",
            f"{n} trials",
        )

    return build


register("optuna-gp-warm")(_warm_sampler("gp", "Optuna GPSampler"))
register("optuna-tpe-warm")(_warm_sampler("tpe", "Optuna TPESampler"))
register("optuna-gp-6")(
    lambda s: Entry(
        lambda: OptunaSearch("gp", DEFAULT_CEILING),
        "Optuna GPSampler, categorical, at the warm start's ceiling",
        f"{DEFAULT_CEILING} trials",
    )
)
