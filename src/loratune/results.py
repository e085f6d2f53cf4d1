"""What a tuning run returns, as read-only records: predictions, the validation statistics and
the autotune result.

They sit beside the study (they hold its `TrialRecord`s) and below everything that makes or
reads them, so the API builds them, and the report and the CLI read their typed fields, with
no import running upwards and no dict read by guesswork.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from loratune.space import Config
from loratune.stats import DISTINGUISHABLE_P, PairedDifference, PairedTests, PredictionStats
from loratune.study import TrialRecord


@dataclass(frozen=True)
class Prediction:
    """What the predictor says of one config of the grid, before it is trained."""

    config: Config
    accuracy: float
    accuracy_std: float
    latency: float  # seconds per training epoch
    latency_std: float
    cost: float
    tried: bool  # already trained when the prediction was made

    def attrs(self) -> dict[str, float]:
        """Stored on the trial that verifies this prediction, so validation reads it later."""
        return {
            "predicted_accuracy": self.accuracy,
            "predicted_accuracy_std": self.accuracy_std,
            "predicted_latency": self.latency,
            "predicted_cost": self.cost,
        }


@dataclass(frozen=True)
class Pick:
    """The pick by validation, and its one test evaluation (None until it was tested)."""

    config: str  # Config.describe()
    accuracy: float | None  # validation accuracy: what picked it
    phase: str | None = None
    val_correct: int | None = None
    val_total: int | None = None
    test_accuracy: float | None = None
    test_correct: int | None = None
    test_total: int | None = None


@dataclass(frozen=True)
class RunnerUp:
    """The next-best finished trial, and whether the pick is told apart from it."""

    config: str
    accuracy: float | None
    difference: PairedDifference  # exact McNemar on the validation examples

    @property
    def distinguishable(self) -> bool:
        return self.difference.p < DISTINGUISHABLE_P


@dataclass(frozen=True)
class VerifiedRow:
    """A verified config: its prediction (stored before it trained) against what it scored."""

    config: str
    config_key: str | None
    trial: int
    predicted: float
    std: float
    actual: float
    latency: float | None = None
    predicted_latency: float | None = None


@dataclass(frozen=True)
class Spent:
    seconds: float
    cost: float
    trials: int


@dataclass(frozen=True)
class GridSummary:
    """A ground-truth grid study: its best test accuracy, and what exhaustive search would
    pick (by validation) and score on test."""

    study: str
    trials: int
    complete: bool
    best_accuracy: float | None
    exhaustive_pick_accuracy: float | None
    seconds: float
    cost: float


@dataclass(frozen=True)
class AcrossMachines:
    """The grid's seconds were measured on another machine (CPU, GPU or thread count) than
    this run's trials, so their ratio is no speedup: a ratio never mixes machines. The speedup
    is counted in trials and epochs instead and, where this run trained configs the grid also
    holds, in seconds with the grid's total calibrated to this machine (scaled by the median
    of this run's seconds / the grid row's seconds over those shared configs)."""

    grid_machine: str  # "AMD EPYC, 1 thread", as the grid's rows' provenance names it
    run_machine: str  # the same for this run's trials
    trials: int  # trials this run trained (finished or failed)
    grid_trials: int  # configs of the exhaustive grid
    epochs: int  # epochs this run trained
    grid_epochs: int  # epochs the exhaustive grid trained
    calibration: float | None = None  # median (this run's seconds / the grid's), shared configs
    calibrated_on: int = 0  # shared configs the calibration is the median of
    calibrated_grid_seconds: float | None = None  # the grid's seconds x calibration

    @property
    def trials_factor(self) -> float | None:
        return self.grid_trials / self.trials if self.trials else None

    @property
    def epochs_factor(self) -> float | None:
        return self.grid_epochs / self.epochs if self.epochs else None

    def machines_line(self) -> str:
        """One plain line for the CLI and the report."""
        return (
            f"the grid was recorded on {self.grid_machine}; this run on {self.run_machine}: "
            "no seconds ratio across machines"
        )

    def counts_line(self) -> str:
        """The speedup in trials and epochs, which no machine changes."""
        t, e = self.trials_factor, self.epochs_factor
        return (
            f"speedup {'-' if t is None else format(t, '.1f')}x in trials ({self.trials} of "
            f"the grid's {self.grid_trials} configs trained), "
            f"{'-' if e is None else format(e, '.1f')}x in epochs ({self.epochs} epochs "
            f"vs the exhaustive grid's {self.grid_epochs})"
        )


@dataclass(frozen=True)
class Speedup:
    """Compute against the exhaustive grid: measured (a complete grid study recorded on this
    run's machine), calibrated (one recorded on another machine, its seconds scaled to this
    one; `across` says how), "other machine" (recorded on another machine, with no config in
    common to calibrate on: no seconds ratio) or predicted (by the time model, from this
    run's trials)."""

    grid_seconds: float  # measured or predicted; on the grid's machine where `across` is set
    source: str  # "measured", "calibrated", "other machine" or "predicted"
    factor: float | None  # a seconds ratio on one machine; None where none can be had
    cost_saved: float | None
    grid_cost: float
    grid_seconds_ci95: tuple[float, float] | None = None
    factor_ci95: tuple[float, float] | None = None
    across: AcrossMachines | None = None  # the grid was recorded on another machine


@dataclass(frozen=True)
class Validation:
    """How good a run's predictions and pick were (`loratune.api.validate_study`)."""

    study: str
    trials: int  # finished trials
    verified: int  # verified trials run to the end, with a stored prediction
    pick: Pick
    spent: Spent
    speedup: Speedup
    stopped_early: int = 0
    verified_stopped_early: int = 0
    pick_vs_runner_up: RunnerUp | None = None
    prediction: PredictionStats | None = None  # None: nothing verified
    tests: PairedTests | None = None
    mae_ci95: tuple[float, float] | None = None
    error_ci95: tuple[float, float] | None = None
    top1_regret_vs_study: float | None = None
    rows: tuple[VerifiedRow, ...] = ()
    grid: GridSummary | None = None
    regret_vs_grid: float | None = None
    exhaustive_regret: float | None = None
    pick_grid_accuracy: float | None = None
    warnings: tuple[str, ...] = ()
    # What every number named accuracy above scores: accuracy, or the metric's score (higher
    # is better; a loss negated) where the study was tuned for another (`tasks.metrics`).
    metric: str = "accuracy"


@dataclass(frozen=True)
class Separation:
    """The noise-aware last step (`--separate K`): the top K configs by validation, and
    whether another training seed told the pick apart from the runner-up.

    `correct` and `total` are each config's first-seed validation counts; `second_correct`
    and `second_total` its second seed's (None: not trained, failed or stopped); the kept
    adapter is config `pick` trained with `pick_seed`."""

    configs: tuple[str, ...]  # Config.describe(), in the validation order of the first seed
    correct: tuple[int, ...]
    total: tuple[int, ...]
    p_before: float | None  # McNemar, pick vs runner-up, first seed (None: no hits recorded)
    p_after: float | None  # McNemar, kept adapter vs the next best (None: nothing was spent)
    distinguishable: bool
    extra_trials: int = 0
    extra_seconds: float = 0.0  # charged by the extra trials
    seed: int | None = None  # the extra trials' training seed (None: nothing was spent)
    pick: int = 0
    second_correct: tuple[int | None, ...] = ()
    second_total: tuple[int | None, ...] = ()
    pick_seed: int | None = None  # the kept adapter's training seed (None: nothing was spent)

    def line(self) -> str:
        """One line for the CLI and the report."""
        k = len(self.configs)
        before = "-" if self.p_before is None else f"{self.p_before:.2g}"
        if not self.extra_trials:
            return (
                f"separate: the pick is distinguishable from the runner-up of the top {k} "
                f"(McNemar p {before}); no extra trials"
            )
        after = "-" if self.p_after is None else f"{self.p_after:.2g}"
        i = self.pick
        again = self.pick_seed == self.seed and i < len(self.second_correct)
        correct, total = (
            (self.second_correct[i], self.second_total[i])
            if again
            else (self.correct[i], self.total[i])
        )
        return (
            f"separate: top {k} were within noise (McNemar p {before}); {self.extra_trials} "
            f"more trials (seed {self.seed}, {self.extra_seconds:.0f} s) -> kept the adapter "
            f"of {self.configs[i]} trained with seed {self.pick_seed} ({correct}/{total} on "
            f"validation), distinguishable from the next best adapter: "
            f"{'yes' if self.distinguishable else 'no'} (p {after})"
        )


@dataclass(frozen=True)
class AutotuneResult:
    study: str
    best: TrialRecord
    predictions: tuple[Prediction, ...]  # the whole grid, as predicted after exploring
    explored: tuple[TrialRecord, ...]
    verified: tuple[TrialRecord, ...]
    validation: Validation
    surrogates: dict[str, str] = field(default_factory=dict)
    strategy: str = "loratune-default"
    report_dir: Path | None = None
    adapter_dir: Path | None = None  # the pick's saved adapter (None with save="none")
    separation: Separation | None = None  # the noise-aware last step, when it ran
    prior: str = ""  # where the run started from (`api.prior`): its sources, or "none"
    stop_reason: str = ""  # why the search stopped (the warm start's evidence stop, a ceiling)
    search_seconds: float = 0.0  # wall time of the search (every trial), this machine


__all__ = [
    "AcrossMachines",
    "AutotuneResult",
    "GridSummary",
    "Pick",
    "Prediction",
    "RunnerUp",
    "Separation",
    "Speedup",
    "Spent",
    "Validation",
    "VerifiedRow",
]
