"""The one tuning loop: a strategy asks, a backend runs, results come back as they finish.

Sweep, autotune and every strategy of the race run through `run_loop`. While a worker is free
the strategy is asked for a config, given the finished trials (history) and those running
(pending: here or, on a shared study, in another process); it answers a config, WAIT or None.
A recorder claims each config before it runs (in a study: atomically, so two processes never
train one config) and records each result; the backend calls the loop's epoch hook after each
epoch, where the strategy and the recorder (the study's pruner) may stop the trial.

The race uses the `MemoryRecorder` (no study) on the simulated replay backend; real runs use
`api.record.StudyRecorder` on the in-process or Ray backend.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Protocol

from loratune.errors import LoratuneError
from loratune.executors.base import Backend, Finished, Submission
from loratune.space import Config
from loratune.strategies.base import WAIT, Observation, Strategy


class Recorder(Protocol):
    def observe(self) -> tuple[Sequence[Observation], Sequence[Config]]:
        """Finished trials, and configs running in other processes."""
        ...

    def claim(self, config: Config) -> Submission | None:
        """The config's submission, or None when another process holds it."""
        ...

    def on_epoch(self, job: Submission, epoch: int, acc: float) -> bool: ...

    def finish(self, job: Submission, done: Finished) -> None: ...

    def abort(self, job: Submission) -> None:
        """The run is stopping (Ctrl-C, a crash) with `job` still running."""
        ...

    def idle(self) -> None:
        """Nothing runs here but trials run elsewhere: wait a little for them."""
        ...


class MemoryRecorder:
    """The race's recorder: history in memory, every claim granted, `after` per result."""

    def __init__(self, after: Callable[[Observation], None] | None = None) -> None:
        self.history: list[Observation] = []
        self.after = after
        self._tickets = 0

    def observe(self) -> tuple[Sequence[Observation], Sequence[Config]]:
        return self.history, ()

    def claim(self, config: Config) -> Submission | None:
        self._tickets += 1
        return Submission(self._tickets, config)

    def on_epoch(self, job: Submission, epoch: int, acc: float) -> bool:
        return True

    def finish(self, job: Submission, done: Finished) -> None:
        obs = Observation(job.config, done.result)
        self.history.append(obs)
        if self.after is not None:
            self.after(obs)

    def abort(self, job: Submission) -> None:
        pass

    def idle(self) -> None:
        raise LoratuneError("a replayed run has no trials running elsewhere")


def run_loop(
    strategy: Strategy, backend: Backend, recorder: Recorder, limit: int | None = None
) -> None:
    """Run `strategy` to its end on `backend`; `limit` caps the trials it may ask for."""
    running: dict[int, Submission] = {}
    asked = 0

    def on_epoch(ticket: int, epoch: int, acc: float) -> bool:
        job = running[ticket]
        go = strategy.on_epoch(job.config, epoch, acc)
        return recorder.on_epoch(job, epoch, acc) and go

    try:
        while True:
            history, elsewhere = recorder.observe()
            strategy.tell(history)
            answer: object = WAIT
            refused = 0
            while len(running) < backend.workers:
                pending = [j.config for j in running.values()] + list(elsewhere)
                answer = strategy.ask(history, pending)
                if not isinstance(answer, Config):
                    break
                if limit is not None and asked >= limit:
                    raise LoratuneError(f"{strategy.name} asked for more than {limit} trials")
                job = recorder.claim(answer)
                if job is None:  # another process claimed it first: look again
                    refused += 1
                    if refused > 100:
                        raise LoratuneError(f"{strategy.name} keeps asking for taken configs")
                    history, elsewhere = recorder.observe()
                    strategy.tell(history)
                    continue
                asked += 1
                running[job.ticket] = job
                backend.submit(job)
            if running:
                for done in backend.wait(on_epoch):
                    recorder.finish(running.pop(done.ticket), done)
                continue
            if answer is None and not elsewhere:
                return
            if not elsewhere:
                raise LoratuneError(f"{strategy.name} waits, but no trial is running")
            recorder.idle()
    except BaseException:
        for job in running.values():
            # Best effort: where even this fails (the database is gone), the trial is left
            # RUNNING; its heartbeats stop, and --resume or another worker retries it.
            with contextlib.suppress(Exception):
                recorder.abort(job)
        backend.close()
        raise
