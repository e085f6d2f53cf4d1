"""The study side of the one loop: claim each config in the study, record each result.

`StudyRecorder` is the recorder `strategies.loop.run_loop` drives in real runs. Its history
is the study's (every process's finished trials, so a resumed or shared run decides on all of
them); a config is claimed atomically before it trains (`study.start_trial`); epochs are
reported to the study, where the recorder's pruner decides early stopping; a trial trained
in this process records heartbeats, so a resumed run or another process knows it is alive.

Each recorder sees the study through its own pruner (`early_stop`), as a Ray worker opens the
study with its trial's rule: the search's trials and the separating step's share one study
but not one pruning rule, and no rule is switched off mid-run.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import optuna

from loratune.api.context import Job
from loratune.claims import Heartbeat, fail_stale_trials
from loratune.executors.base import Finished, Submission, TrialRef
from loratune.provenance import provenance
from loratune.space import Config, config_key
from loratune.strategies.base import Observation
from loratune.study import (
    TrialRecord,
    fail_trial,
    finish_trial,
    heartbeat_settings,
    records,
    start_trial,
    storage_url,
)
from loratune.study.pruner import EarlyStop, EpochOnePruner
from loratune.trainer import TrialResult
from loratune.trainer.loop import EpochCallback

_FIELDS = {f.name: f for f in dataclasses.fields(TrialResult)}


def with_pruner(study: optuna.Study, early_stop: EarlyStop | None) -> optuna.Study:
    """`study` (the same storage, the same trials) pruned by `early_stop`'s epoch-1 rule, or
    by nothing: a trial claimed through it asks this pruner (`trial.should_prune`)."""
    pruner = EpochOnePruner(early_stop) if early_stop else optuna.pruners.NopPruner()
    return optuna.Study(study.study_name, study._storage, sampler=study.sampler, pruner=pruner)


def result_of(r: TrialRecord) -> TrialResult:
    """A recorded trial's measures as the trainer returned them (what strategies read)."""
    values: dict[str, Any] = {}
    for name, f in _FIELDS.items():
        if name in r.metrics:
            values[name] = r.metrics[name]
        elif f.default is not dataclasses.MISSING:
            values[name] = f.default
        else:
            values[name] = [] if "list" in str(f.type) else ("" if f.type == "str" else 0)
    values.update(accuracy=float(r.accuracy or 0.0), curve=list(r.curve))
    return TrialResult(**values)


def observation_of(r: TrialRecord) -> Observation:
    return Observation(r.config, result_of(r) if r.ok else None)


def absolute_url(url: str | None) -> str | None:
    """A SQLite URL with an absolute path, so workers started elsewhere open the same file."""
    if url is None or not url.startswith("sqlite:///") or ":memory:" in url:
        return url
    return "sqlite:///" + str(Path(url.removeprefix("sqlite:///")).resolve())


class StudyRecorder:
    """Records a loop's trials in `job.study`. `phase(config)` and `attrs(config)` are stored
    on each trial; with `save_dir`, each trial's adapter goes to <save_dir>/trial-<number>;
    `early_stop`: the epoch-1 rule its trials are pruned by, here and in workers in other
    processes (None: every trial runs every epoch, unless the strategy stops it);
    `seed`: the training seed of its trials (None: the job's). It sees only the trials of its
    seed, and a config trained with another seed than the job's is claimed apart."""

    def __init__(
        self,
        job: Job,
        phase: Callable[[Config], str],
        attrs: Callable[[Config], dict[str, Any]] | None = None,
        save_dir: Path | None = None,
        total: int | None = None,
        early_stop: EarlyStop | None = None,
        remote: bool = False,
        seed: int | None = None,
    ) -> None:
        self.job, self.phase, self.attrs = job, phase, attrs
        self.seed = job.seed if seed is None else seed
        self.save_dir, self.total, self.early_stop = save_dir, total, early_stop
        self.remote = remote  # workers report epochs and heartbeats to the study themselves
        self.finished: list[TrialRecord] = []
        self._trials: dict[int, optuna.Trial] = {}
        self._beats: dict[int, Heartbeat] = {}
        self._started = 0
        self._phase: str | None = None
        self.study = with_pruner(job.study, early_stop)

    def observe(self) -> tuple[list[Observation], list[Config]]:
        recs = [r for r in records(self.job.study) if self._mine(r)]
        done = [r for r in recs if r.ok or (r.state == "failed" and r.metrics.get("error"))]
        elsewhere = [
            r.config for r in recs if r.state == "running" and r.number not in self._trials
        ]
        return [observation_of(r) for r in done], elsewhere

    def _mine(self, record: TrialRecord) -> bool:
        """A trial of this recorder's training seed, told by the key it was claimed under (a
        replayed result's own `seed` is the recorded row's, so it cannot tell)."""
        key = str(record.metrics.get("config_key") or "")
        if self.seed == self.job.seed:
            return ";seed=" not in key
        return key.endswith(f";seed={self.seed}")

    def claim(self, planned: Config) -> Submission | None:
        job = self.job
        config = dataclasses.replace(planned, seed=self.seed)
        phase = self.phase(config)
        attrs = {
            "phase": phase,
            "seed": self.seed,
            "data_seed": job.data_seed,
            "data_sha256": job.data_sha256,
            "split_sizes": [len(job.task.train), len(job.task.validation), len(job.task.test)],
            "provenance": provenance(),
            **(self.attrs(config) if self.attrs else {}),
        }
        key = None if self.seed == job.seed else f"{config_key(config)};seed={self.seed}"
        trial = start_trial(
            self.study, job.space, config, attrs, job.storage, heartbeat=True, key=key
        )
        if trial is None:
            return None
        n = trial.number
        self._trials[n] = trial
        if not self.remote:
            self._beats[n] = Heartbeat(job.study._storage, trial._trial_id)
        if phase != self._phase and hasattr(job.progress, "phase"):
            job.progress.phase(phase)
        self._phase = phase
        job.progress.trial_started(self._started, self.total or self._started + 1, config)
        self._started += 1
        ref = None
        url = absolute_url(storage_url(job.storage))
        if self.remote and url is not None:
            rule = self.early_stop
            stop = (rule.n_val, rule.z) if rule is not None else None
            ref = TrialRef(url, job.study.study_name, trial._trial_id, stop, True)
        folder = self.save_dir / f"trial-{n}" if self.save_dir else None
        return Submission(n, config, folder, ref)

    def on_epoch(self, job: Submission, epoch: int, acc: float) -> bool:
        trial = self._trials[job.ticket]
        trial.report(acc, epoch + 1)
        return not trial.should_prune()

    def finish(self, job: Submission, done: Finished) -> None:
        trial = self._trials.pop(job.ticket)
        self._stop_beat(job.ticket)
        if done.result is not None:
            metrics: dict[str, Any] = dict(done.result.metrics())
            if done.worker is not None:
                metrics["provenance"] = done.worker
            if done.retries:
                metrics["retries"] = done.retries
            result = done.result
            finish_trial(self.study, trial, result.accuracy, metrics, result.curve)
        else:
            fail_trial(self.study, trial, done.error or "failed")
        record = next(r for r in records(self.job.study) if r.number == trial.number)
        self.finished.append(record)
        self.job.progress.trial_finished(record)

    def abort(self, job: Submission) -> None:
        # Ctrl-C or a crash: a FAIL with no reason, so --resume runs it again.
        trial = self._trials.pop(job.ticket, None)
        self._stop_beat(job.ticket)
        if trial is not None:
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)

    def idle(self) -> None:
        """Trials run in other processes: wait a heartbeat, then fail those gone silent
        (Optuna's retry callback queues each again, and this run may claim it)."""
        time.sleep(min(heartbeat_settings()[0], 2.0))
        fail_stale_trials(self.job.study)

    def _stop_beat(self, ticket: int) -> None:
        beat = self._beats.pop(ticket, None)
        if beat is not None:
            beat.stop()


def run_configs(
    job: Job,
    configs: Sequence[Config],
    phase: str,
    attrs: Sequence[dict[str, Any]] | None = None,
    keep_going: EpochCallback | None = None,
    save_dir: Path | None = None,
) -> list[TrialRecord]:
    """Train each config for real and record it; a failed trial is recorded and skipped past.

    `attrs[i]` is stored on config i's trial. `keep_going(epoch, validation accuracy)`
    returning False stops a trial after that epoch (early stopping); the trial is recorded
    with `stopped_early` and the epochs it ran. With `save_dir`, each trial's adapter is
    saved in <save_dir>/trial-<number>. A config another process holds is left to it.
    """
    from loratune.space import config_key
    from loratune.strategies.base import Listed
    from loratune.strategies.loop import run_loop

    extra = {config_key(c): a for c, a in zip(configs, attrs, strict=True)} if attrs else {}

    class Run(Listed):
        def on_epoch(self, config: Config, epoch: int, val_acc: float) -> bool:
            return keep_going is None or keep_going(epoch, val_acc)

    strategy = Run(configs)
    strategy.reset(job.space, job.seed)
    recorder = StudyRecorder(
        job,
        lambda c: phase,
        lambda c: extra.get(config_key(c), {}),
        save_dir,
        total=len(configs),
        remote=getattr(job.get_backend(), "remote", False),
    )
    run_loop(strategy, job.get_backend(), recorder)
    return recorder.finished
