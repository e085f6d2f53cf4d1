"""Which configs to try next, decided from past trials only."""

from loratune.strategies.design import design_configs, sobol_design

__all__ = ["design_configs", "sobol_design"]
