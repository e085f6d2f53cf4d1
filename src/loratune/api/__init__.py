"""The Python API; the CLI is a thin shell over these functions."""

from loratune.api.autotune import autotune
from loratune.api.predict import predict
from loratune.api.spec import Budget, JobSpec, SweepPlan, TaskSpec
from loratune.api.sweep import sweep
from loratune.api.validate import validate_study
from loratune.results import AutotuneResult, Validation

__all__ = [
    "AutotuneResult",
    "Budget",
    "JobSpec",
    "SweepPlan",
    "TaskSpec",
    "Validation",
    "autotune",
    "predict",
    "sweep",
    "validate_study",
]
