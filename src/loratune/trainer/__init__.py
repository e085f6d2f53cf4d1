"""One trial: a fresh LoRA adapter on the resident base model, trained, evaluated, measured."""

from loratune.trainer.loop import (
    TrialFailed,
    TrialResult,
    run_trial,
    zero_shot_accuracy,
)

__all__ = ["TrialFailed", "TrialResult", "run_trial", "zero_shot_accuracy"]
