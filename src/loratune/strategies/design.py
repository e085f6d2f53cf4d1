"""Space-filling designs over a discrete grid."""

from __future__ import annotations

import numpy as np
from scipy.stats import qmc

from loratune.space import Config, Space


def sobol_design(space: Space, n: int, seed: int = 0, exclude: set[int] | None = None) -> list[int]:
    """Indices of `n` distinct grid configs spread evenly over every parameter.

    A scrambled Sobol sequence in the unit cube is mapped to grid indices per parameter
    (value i of k covers [i/k, (i+1)/k)), so each parameter's values are visited about
    equally often and combinations are spread out; duplicates take the next Sobol point.
    """
    configs = space.configs()
    sizes = [len(v) for v in space.grid.values()]
    n = min(n, len(configs) - len(exclude or ()))
    chosen: list[int] = []
    taken = set(exclude or ())
    sampler = qmc.Sobol(d=len(sizes), scramble=True, seed=seed)
    strides = np.cumprod([1] + sizes[::-1][:-1])[::-1]  # row-major index, as itertools.product
    while len(chosen) < n:
        # Powers of two keep the Sobol balance properties (and scipy quiet).
        for u in sampler.random_base2(int(np.ceil(np.log2(max(8, 2 * n))))):
            idx = int(
                sum(min(int(x * k), k - 1) * s for x, k, s in zip(u, sizes, strides, strict=False))
            )
            if idx not in taken:
                taken.add(idx)
                chosen.append(idx)
                if len(chosen) == n:
                    break
    return chosen


def design_configs(space: Space, n: int, seed: int = 0) -> list[Config]:
    configs = space.configs()
    return [configs[i] for i in sobol_design(space, n, seed)]
