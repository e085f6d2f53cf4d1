"""Early stopping as an Optuna pruner: the epoch-1 rule (`EarlyStop`) decided from the study.

A trial reports its check accuracy after each epoch (`trial.report(acc, epoch)`, step 1 is
the first epoch). At step 1 the pruner compares it with the best step-1 value of the study's
other trials (finished, failed with a reason, or running in another process) by the one-sided
two-proportion z-test of `EarlyStop`. The state is the study itself, so a trial trained by a
Ray actor, by a second loratune process on the same storage, or after a --resume is judged
against every first epoch the study has seen, with nothing held in one process's memory.
"""

from __future__ import annotations

import optuna
from optuna.trial import FrozenTrial, TrialState

from loratune.strategies.autotune import EarlyStop

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
    """Step-1 values of the trials that count: not an interrupted one (FAIL with no reason,
    run again), not a queued retry."""
    out = []
    for t in study.get_trials(deepcopy=False):
        if t.number == exclude or FIRST_EPOCH not in t.intermediate_values:
            continue
        if t.state == TrialState.WAITING:
            continue
        if t.state == TrialState.FAIL and not t.user_attrs.get("error"):
            continue
        out.append(float(t.intermediate_values[FIRST_EPOCH]))
    return out
