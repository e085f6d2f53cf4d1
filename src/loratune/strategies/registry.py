"""The one registry of tuning strategies: the race's roster and `loratune autotune --strategy`
both read it.

A strategy registers itself under a name with a builder: given the `Setting` it runs in (the
space, the default budget, the check subset's size, the predictor fit, other domains' grids),
the builder returns an `Entry` (how to make the strategy, its rule and budget in words), or
None where it cannot run (transfer learning with no other domain recorded). Adding one is one
`register` call:

    @register("my-search")
    def _(s: Setting) -> Entry:
        n = s.explore + s.verify
        return Entry(lambda: MySearch(n), "what it does", f"{n} trials", equal_compute=True)

Built-in strategies register in `strategies.builtin`, which the package `loratune.strategies`
imports, so that the registry is never seen without them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from loratune.errors import LoratuneError
from loratune.registry import Registry
from loratune.space import Space
from loratune.strategies.base import Strategy
from loratune.strategies.search import GridRows, SurrogateFit

DEFAULT_STRATEGY = "loratune-default"  # `loratune.autotune` as it runs without --strategy


@dataclass(frozen=True)
class Setting:
    """What a strategy is built for. `explore`, `verify` and `early_stop` are loratune's
    budget (the default's, or the user's); strategies with `equal_compute` spend as many
    trials. `fit` None is `loratune.autotune`'s own predictor fit."""

    space: Space
    explore: int
    verify: int
    early_stop: bool
    n_check: int  # validation examples an epoch-1 stopping rule judges on
    fit: SurrogateFit | None = None
    domain: str = ""
    others: Mapping[str, GridRows] = field(default_factory=dict)  # other domains' grids


@dataclass(frozen=True)
class Entry:
    """A strategy of the registry: how to build it, what it does, and whether its budget is
    set to the default's (so the race's paired test compares equal compute)."""

    make: Callable[[], Strategy]
    rule: str
    budget: str
    equal_compute: bool = False
    # One of the stopping rules raced against each other (epoch-1 rule, curve rule): its false
    # stops are reported per grid. Variants that only inherit the default's rule are not.
    stops_early: bool = False


Builder = Callable[[Setting], Entry | None]
BUILDERS: Registry[Builder] = Registry("strategy")


def register(name: str) -> Callable[[Builder], Builder]:
    """Register `builder` under `name` (a name is taken once)."""

    def add(builder: Builder) -> Builder:
        return BUILDERS.add(name, builder)

    return add


def unregister(name: str) -> None:
    """Remove a strategy (for tests that register one of their own); no error if absent."""
    if name in BUILDERS:
        BUILDERS.remove(name)


def names() -> list[str]:
    """Every registered name, in registration order."""
    return list(BUILDERS)


def check_name(name: str) -> None:
    BUILDERS.lookup(name)


def entries(setting: Setting) -> dict[str, Entry]:
    """The strategies that can run in `setting`, in registration order."""
    built = {name: build(setting) for name, build in BUILDERS.items()}
    return {name: entry for name, entry in built.items() if entry is not None}


def entry(name: str, setting: Setting) -> Entry:
    found = BUILDERS.lookup(name)(setting)
    if found is None:
        raise LoratuneError(f"strategy {name!r} cannot run here (it needs other domains' grids)")
    return found
