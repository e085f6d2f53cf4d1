"""The Python API; the CLI is a thin shell over these functions."""

from loratune.api.sweep import sweep

__all__ = ["sweep"]
