"""A stopping rule that reads more of the learning curve than the epoch-1 rule.

The epoch-1 rule (`EarlyStop`) stops a trial whose first-epoch check accuracy is clearly below
the best first epoch so far. At a high learning rate a slow first epoch is not a weak config
(issue 10, item 10: epoch-1 validation about 0.4, final about 0.9), and one point cannot tell.
`CurveStop` waits until epoch `at` (2 by default), projects the trial's last gain forward to its
last epoch (never downwards), and stops it only when even that projection is clearly below the
best accuracy any earlier trial had at epoch `at`: the same one-sided two-proportion z-test on
the check subset's size as the epoch-1 rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loratune.errors import LoratuneError
from loratune.strategies.autotune import DEFAULT_N_VAL, EarlyStop


@dataclass(frozen=True)
class CurveStop:
    """Stop at epoch `at` when the trial's projected final check accuracy is clearly (z) below
    the best check accuracy at epoch `at` seen so far; `n_val` is the check subset's size."""

    n_val: int = DEFAULT_N_VAL
    z: float = 2.0
    at: int = 2

    def __post_init__(self) -> None:
        if self.at < 1:
            raise LoratuneError(f"a curve stop judges at epoch >= 1, got {self.at}")
        EarlyStop(self.n_val, self.z)  # the same checks on n_val and z

    def projected(self, curve: Sequence[float], epochs: int) -> float:
        """The check accuracy at the last epoch if the last epoch's gain went on (>= 0)."""
        gain = max(0.0, curve[-1] - curve[-2]) if len(curve) >= 2 else 0.0
        return min(1.0, curve[-1] + gain * (epochs - len(curve)))

    def keep_going(self, curve: Sequence[float], seen: Sequence[float], epochs: int) -> bool:
        """`curve`: the running trial's check accuracies so far (one per epoch run); `seen`:
        the accuracies earlier trials had at epoch `at`; `epochs`: the trial's epochs."""
        if len(curve) != self.at or self.at >= epochs or not seen:
            return True
        return not EarlyStop(self.n_val, self.z).should_stop(
            self.projected(curve, epochs), max(seen)
        )

    def describe(self) -> str:
        return (
            f"stop at epoch {self.at} if the projected last-epoch check accuracy (last gain "
            f"carried on) is z >= {self.z:g} below the best epoch-{self.at} one "
            f"(n_check {self.n_val})"
        )
