"""The noise-aware last step (opt-in, `--separate K`): tell the pick apart from the runner-up.

After the search, the top K finished configs by validation are compared as validation's own
check compares the pick with the runner-up (exact McNemar on their per-example hits). When
they are told apart (p < 0.05) nothing more is spent. Otherwise each of the K is trained once
more with the next training seed (spec.seed + 1), with no early stopping, through the same
backend and study, its adapter kept beside the search's; the pick is then the one of the 2K
adapters with the most validation examples right (exact counts; a tie goes to the first seed,
then to the earlier in the first ranking: `strategies.separate.keep_best_adapter`), and the
same test against the next best adapter says whether it is distinguishable. Validation
decides all of it; the test split is still read once, for the adapter kept
(`pick.test_pick`).

The step's trials are pruned by the rule given to it (`early_stop`; autotune gives none),
not by the search's: they share the study, each loop with its own pruner.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from loratune.api.context import Job
from loratune.api.pick import SEPARATE_ATTR, SEPARATE_PHASE, ranked
from loratune.api.record import StudyRecorder
from loratune.api.stages import Picked, Separated, advance
from loratune.api.validate import charged, runner_up
from loratune.results import Separation
from loratune.space import Config, config_key
from loratune.strategies.base import Answer, Observation, Strategy
from loratune.strategies.loop import run_loop
from loratune.strategies.separate import SeedScore, keep_best_adapter
from loratune.study import TrialRecord, records
from loratune.study.pruner import EarlyStop


class _Again(Strategy):
    """Asks for each of the given configs once (those not trained yet), then None."""

    name = "separate"

    def __init__(self, configs: Sequence[Config]) -> None:
        super().__init__()
        self.todo = list(configs)

    def _next(self, history: Sequence[Observation]) -> Answer:
        taken = self._taken(history)
        return next((c for c in self.todo if config_key(c) not in taken), None)


def separate(picked: Picked, *, early_stop: EarlyStop | None) -> Separated:
    """The separate stage: the adapter kept among the top `budget.separate` of the search's
    trials and their second-seed trials, pruned by `early_stop`; the search's best where
    the step is off or cannot run."""
    job = picked.job
    found = _separate(
        job, list(picked.trials), job.spec.budget.separate, picked.adapters, early_stop
    )
    if found is None:
        if job.study.user_attrs.get(SEPARATE_ATTR):  # an earlier run's, with the step on
            job.study.set_user_attr(SEPARATE_ATTR, None)
        return advance(Separated, picked, pick=picked.best, separation=None)
    pick, separation = found
    return advance(Separated, picked, pick=pick, separation=separation)


def _separate(
    job: Job,
    trials: list[TrialRecord],
    k: int,
    adapters: Path | None,
    early_stop: EarlyStop | None,
) -> tuple[TrialRecord, Separation] | None:
    """The pick among the adapters of the top `k` of `trials` (the search's, first training
    seed) and of their second-seed trials (adapters saved in `adapters`), and how it was
    separated; None when the step is off (k < 2, or a metric with no per-example hits) or
    fewer than two configs finished."""
    top = ranked(trials)[:k]
    if k < 2 or job.metric.name != "accuracy" or len(top) < 2:
        return None
    before = runner_up(top[0], top)
    p_before = before.difference.p if before is not None else None
    if before is not None and before.distinguishable:  # told apart already: spend nothing
        correct, total = zip(*(_counts(r) for r in top), strict=True)
        sep = Separation(
            tuple(r.config.describe() for r in top), correct, total, p_before, None, True
        )
        return _recorded(job, top[0], sep)

    seed = job.seed + 1
    recorder = StudyRecorder(
        job,
        lambda c: SEPARATE_PHASE,
        total=len(top),
        save_dir=adapters,  # the kept adapter may be a second-seed one
        early_stop=early_stop,
        remote=getattr(job.get_backend(), "remote", False),
        seed=seed,
    )
    strategy = _Again([r.config for r in top])
    strategy.reset(job.space, seed)
    run_loop(strategy, job.get_backend(), recorder)
    again = {
        config_key(r.config): r
        for r in records(job.study)
        if str(r.metrics.get("config_key") or "").endswith(f";seed={seed}")
    }
    extra = [again[key] for r in top if (key := config_key(r.config)) in again]
    second = [
        t if (t := again.get(config_key(r.config))) is not None and t.full else None for r in top
    ]
    kept = keep_best_adapter(
        [_score(r) for r in top], [_score(t) if t is not None else None for t in second]
    )
    pick = second[kept.pick] if kept.second else top[kept.pick]
    assert pick is not None  # keep_best_adapter only keeps a second-seed adapter that exists
    sep = Separation(
        configs=tuple(r.config.describe() for r in top),
        correct=tuple(_counts(r)[0] for r in top),
        total=tuple(_counts(r)[1] for r in top),
        p_before=p_before,
        p_after=kept.p_after,
        distinguishable=kept.distinguishable,
        extra_trials=len(extra),
        extra_seconds=sum(charged(r) for r in extra),
        seed=seed,
        pick=kept.pick,
        second_correct=tuple(_counts(t)[0] if t is not None else None for t in second),
        second_total=tuple(_counts(t)[1] if t is not None else None for t in second),
        pick_seed=seed if kept.second else job.seed,
    )
    return _recorded(job, pick, sep)


def _counts(r: TrialRecord) -> tuple[int, int]:
    """A finished trial's exact validation counts."""
    return int(r.metrics.get("val_correct") or 0), int(r.metrics.get("val_total") or 0)


def _score(r: TrialRecord) -> SeedScore:
    """A finished trial's validation counts and per-example hits."""
    return SeedScore(*_counts(r), "".join(r.metrics.get("val_hits") or ""))


def _recorded(job: Job, pick: TrialRecord, sep: Separation) -> tuple[TrialRecord, Separation]:
    """Name the pick on the study, so validation (and a resumed run) tests the same trial."""
    job.study.set_user_attr(SEPARATE_ATTR, {"trial": pick.number, "p_after": sep.p_after})
    return pick, sep


__all__ = ["separate"]
