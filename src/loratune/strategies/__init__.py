"""Which configs to try next, decided from past trials only: the strategies (ask/tell), the
loop that drives them on any backend, and their registry (the built-ins register on import)."""

from loratune.strategies import builtin as _builtin  # noqa: F401  (registers the built-ins)
from loratune.strategies.design import design_configs, sobol_design

__all__ = ["design_configs", "sobol_design"]
