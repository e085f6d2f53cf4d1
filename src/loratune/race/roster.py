"""The race's view of the strategy registry: the strategies raced on one grid, each built for
that grid's setting (its space, the default's budget, the other domains' grids).

loratune's own defaults (explore size, verify size, early stopping) live in `loratune.api`;
the caller passes them in (`Defaults`). The built-in strategies register in
`loratune.strategies.builtin`; this module only reads the registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loratune.race.grids import Grid
from loratune.space import Space
from loratune.strategies.builtin import CURVE_STOP, DEFAULT, EXHAUSTIVE
from loratune.strategies.registry import Entry, Setting, entries
from loratune.strategies.search import SurrogateFit, quick_fit

__all__ = ["CURVE_STOP", "DEFAULT", "EXHAUSTIVE", "Defaults", "Entry", "roster"]


@dataclass(frozen=True)
class Defaults:
    """loratune.autotune's defaults, as `loratune.api.autotune` sets them."""

    explore: int
    verify: int
    early_stop: bool


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
    others = {g.label: g.rows for g in grids if g.domain != target.domain and g.complete_rows}
    setting = Setting(
        space,
        defaults.explore,
        defaults.verify,
        defaults.early_stop,
        target.check_total,
        fit,
        target.domain,
        others,
    )
    return entries(setting)
