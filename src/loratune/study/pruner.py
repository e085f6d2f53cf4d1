"""Early stopping as an Optuna pruner: the epoch-1 rule (`EarlyStop`) decided from the study.

A trial reports its check accuracy after each epoch (`trial.report(acc, epoch)`, step 1 is
the first epoch). At step 1 the pruner compares it with the best step-1 value of the study's
other trials (finished, failed with a reason, or running in another process) by the one-sided
two-proportion z-test of `EarlyStop`. The state is the study itself, so a trial trained by a
Ray actor, by a second loratune process on the same storage, or after a --resume is judged
against every first epoch the study has seen, with nothing held in one process's memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

from loratune.errors import LoratuneError

# The built-in domains validate on 32 examples (`tasks.base.build_task`); a user's data may
# differ, so it is a parameter of the rule.
DEFAULT_N_VAL = 32


@dataclass(frozen=True)
class EarlyStop:
    """Stop a trial after epoch 1 when its validation accuracy is clearly below the best
    epoch-1 validation accuracy seen so far.

    "Clearly" is a one-sided two-proportion z-test at the validation set's size: stop when
    (best - acc) / sqrt(2 p (1 - p) / n_val) >= z, with p the pooled proportion (acc + best) / 2.
    Both accuracies are measured on the same examples, so the unpaired test is conservative:
    a config is stopped only when chance cannot explain the gap.
    """

    n_val: int = DEFAULT_N_VAL
    z: float = 2.0

    def __post_init__(self) -> None:
        if self.n_val < 1 or self.z <= 0:
            raise LoratuneError("early stopping needs n_val >= 1 and z > 0")

    def should_stop(self, acc: float, best: float) -> bool:
        if acc >= best:
            return False
        p = (acc + best) / 2
        se = math.sqrt(2 * p * (1 - p) / self.n_val)
        return se == 0 or (best - acc) / se >= self.z

    def first_epoch_gate(self, seen: Sequence[float]) -> EpochGate:
        """A gate for the next trials, given the epoch-1 validation accuracies seen so far;
        it remembers each new epoch-1 accuracy it is shown."""
        return EpochGate(self, list(seen))


@dataclass
class EpochGate:
    """`EarlyStop` applied across a run: `keep_going(epoch, acc)` is the trainer's epoch
    callback; only epoch 1 (index 0) is judged, against the best epoch-1 accuracy so far."""

    rule: EarlyStop
    seen: list[float]

    def keep_going(self, epoch: int, acc: float) -> bool:
        if epoch != 0:
            return True
        go = not self.seen or not self.rule.should_stop(acc, max(self.seen))
        self.seen.append(acc)
        return go


FIRST_EPOCH = 1  # the step a trial reports its first epoch at


class EpochOnePruner(optuna.pruners.BasePruner):
    """Prune at step 1 a trial whose check accuracy is clearly below the best step-1 value of
    the study's other trials (`EarlyStop.should_stop`)."""

    def __init__(self, rule: EarlyStop) -> None:
        self.rule = rule

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        if trial.last_step != FIRST_EPOCH:
            return False
        acc = trial.intermediate_values[FIRST_EPOCH]
        seen = first_epochs(study, exclude=trial.number)
        return bool(seen) and self.rule.should_stop(acc, max(seen))


def first_epochs(study: optuna.Study, exclude: int | None = None) -> list[float]:
    """First-epoch values of the trials that count: not an interrupted one (FAIL with no
    reason, run again), not a queued retry. The first epoch is a trial's lowest step: step 1,
    or step 0 in a trial that an older `loratune import` stored (its curve at steps 0..n-1)."""
    out = []
    for t in study.get_trials(deepcopy=False):
        if t.number == exclude or not t.intermediate_values:
            continue
        if t.state == TrialState.WAITING:
            continue
        if t.state == TrialState.FAIL and not t.user_attrs.get("error"):
            continue
        out.append(float(t.intermediate_values[min(t.intermediate_values)]))
    return out
