"""The Python API; the CLI is a thin shell over these functions."""

from loratune.api.autotune import AutotuneResult, autotune
from loratune.api.predict import predict
from loratune.api.sweep import sweep
from loratune.api.validate import validate_study

__all__ = ["AutotuneResult", "autotune", "predict", "sweep", "validate_study"]
