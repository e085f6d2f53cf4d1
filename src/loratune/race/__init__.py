"""The race: tuning strategies behind one ask/tell interface, replayed on recorded grids.

from loratune.executors.replay import load_grid
from loratune.race import Autotune, run_strategy

result = run_strategy(Autotune(explore=12, verify=5), load_grid("grid.jsonl"), seed=0)
print(result.regret, result.compute_fraction)

The benchmark around it (`bench`: the race over grids and seeds and its statistics; `tables`:
results.json, RESULTS.md and the plot; `roster`: the strategies raced; `grids`: the recorded
grids and holdout.toml; `noise`: the ground truth's noise) is what `benchmarks/race.py` and
`benchmarks/noise.py` run.
"""

from loratune.race.run import (
    SUCCESS_WITHIN,
    RunResult,
    Step,
    grid_totals,
    run_strategy,
    space_from_grid,
)
from loratune.strategies.base import Observation, Strategy
from loratune.strategies.multifidelity import Hyperband, SuccessiveHalving
from loratune.strategies.samplers import OptunaSearch
from loratune.strategies.search import (
    Autotune,
    AutotuneTransfer,
    EarlyStop,
    SurrogateFit,
    quick_fit,
)
from loratune.strategies.simple import Exhaustive, RandomSearch
from loratune.strategies.stopping import CurveStop

__all__ = [
    "SUCCESS_WITHIN",
    "Autotune",
    "AutotuneTransfer",
    "CurveStop",
    "EarlyStop",
    "Exhaustive",
    "Hyperband",
    "Observation",
    "OptunaSearch",
    "RandomSearch",
    "RunResult",
    "Step",
    "Strategy",
    "SuccessiveHalving",
    "SurrogateFit",
    "grid_totals",
    "quick_fit",
    "run_strategy",
    "space_from_grid",
]
