"""The Ray backend: `workers` actors, each with the base model resident, train trials at once.

`ray` is imported only here, and only when `--backend ray` is chosen. Actors ask Ray for
`cpus_per_trial` CPUs and `gpus_per_trial` GPUs (0.25: four trials share one GPU). An actor
whose process dies (kill -9, a lost node) is replaced by a fresh one, and its trial is retried
once on another actor, in the same Optuna trial, so it is recorded exactly once (its `retries`
attribute says so); a second death records it as failed. A trial past its deadline
(`executors.deadline`: hung, or far slower than this run's measured epochs) is handled the same
way: its actor is killed and replaced, the trial retried once elsewhere, then failed with that
reason.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loratune.errors import LoratuneError
from loratune.executors.base import EpochHook, Finished, Submission
from loratune.executors.deadline import Deadlines, past_deadline
from loratune.executors.options import BackendOptions
from loratune.executors.ray_worker import TrialWorker, read_adapter, write_adapter
from loratune.space import Config
from loratune.tasks import Task

MAX_RETRIES = 1
POLL_SECONDS = 1.0  # how often running trials are checked against their deadlines


@dataclass
class _Flight:
    job: Submission
    actor: int
    attempt: int
    limit: float | None = None  # seconds it may run (its deadline), None: no bound yet
    started: float = 0.0  # time.monotonic() at dispatch


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise LoratuneError(
            "--backend ray needs Ray: pip install 'loratune[ray]' (or: make install)"
        ) from exc
    return ray


class RayBackend:
    remote = True  # workers report epochs and heartbeats to the study themselves

    def __init__(
        self,
        options: BackendOptions,
        model: str,
        device: str | None,
        task: Task,
        price_per_hour: float = 0.0,
        evaluate_test: bool = False,
        deadlines: Deadlines | None = None,
    ) -> None:
        ray = _ray()
        self.deadlines = deadlines or Deadlines()
        self.ray = ray
        self.workers = options.workers
        self._owns_ray = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"address": options.address, "include_dashboard": False}
            if options.address is None:  # a local cluster sized for the workers
                kwargs["num_cpus"] = max(1, int(options.workers * options.cpus_per_trial + 0.999))
            try:
                ray.init(**kwargs, logging_level="ERROR", log_to_driver=False)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                where = options.address or "a local cluster"
                raise LoratuneError(f"cannot start or reach Ray at {where}: {exc}") from exc
            self._owns_ray = True
        self._check_gpus(options.gpus_per_trial)
        # The run's LORATUNE_* settings (heartbeats, fault injection) reach its actors, on a
        # local or a joined cluster alike.
        env = {k: v for k, v in os.environ.items() if k.startswith("LORATUNE_")}
        self._cls = ray.remote(TrialWorker).options(
            runtime_env={"env_vars": env} if env else None,
            num_cpus=options.cpus_per_trial,
            num_gpus=options.gpus_per_trial,
            max_restarts=0,  # a dead actor is replaced below, and its trial retried elsewhere
            max_task_retries=0,
        )
        threads = max(1, int(options.cpus_per_trial))
        self._args = (model, device, ray.put(task), price_per_hour, evaluate_test, threads)
        self._made = 0
        self._loading: dict[Any, Any] = {}  # actor -> its `ready` call, until it answers
        self.actors = [self._actor() for _ in range(options.workers)]
        self._queue: deque[tuple[Submission, int, int | None]] = deque()
        self._flights: dict[Any, _Flight] = {}

    def _check_gpus(self, per_trial: float) -> None:
        """Ray queues an actor that asks for a GPU the cluster lacks, silently and forever. A
        local cluster never gains one, so refuse; a joined cluster may (an autoscaler adds
        GPU nodes on demand), so only say why nothing starts yet."""
        gpus = float(self.ray.cluster_resources().get("GPU", 0))
        if per_trial <= 0 or gpus >= per_trial:
            return
        msg = f"--gpus-per-trial {per_trial:g} but the Ray cluster has {gpus:g} GPUs"
        if self._owns_ray:
            self.ray.shutdown()
            raise LoratuneError(f"{msg}: no trial could start (use --gpus-per-trial 0)")
        warnings.warn(f"{msg} now: trials wait until nodes with GPUs join", stacklevel=2)

    def _actor(self) -> Any:
        self._made += 1
        actor = self._cls.remote(*self._args, self._made - 1)
        self._loading[actor] = actor.ready.remote()
        return actor

    def _loaded(self, actor: Any) -> bool:
        """Whether `actor` has its model loaded (a deadline does not run while it loads)."""
        probe = self._loading.get(actor)
        if probe is None:
            return True
        done, _ = self.ray.wait([probe], timeout=0)
        if done:
            del self._loading[actor]
        return bool(done)

    def _free(self, avoid: int | None) -> int | None:
        busy = {f.actor for f in self._flights.values()}
        free = [i for i in range(len(self.actors)) if i not in busy]
        preferred = [i for i in free if i != avoid]
        return (preferred or free or [None])[0]

    def _dispatch(self) -> None:
        while self._queue:
            job, attempt, avoid = self._queue[0]
            actor = self._free(avoid)
            if actor is None:
                return
            self._queue.popleft()
            save = job.save_adapter is not None
            ref = self.actors[actor].run.remote(job.config, save, job.trial)
            limit = self.deadlines.limit(job.config, attempt)
            self._flights[ref] = _Flight(job, actor, attempt, limit, time.monotonic())

    def submit(self, job: Submission) -> None:
        self._queue.append((job, 0, None))
        self._dispatch()

    def wait(self, on_epoch: EpochHook) -> list[Finished]:
        ray = self.ray
        out: list[Finished] = []
        while not out:
            if not self._flights:
                raise LoratuneError("wait() with no trial running")
            ready, _ = ray.wait(list(self._flights), num_returns=1, timeout=POLL_SECONDS)
            for ref in ready:
                flight = self._flights.pop(ref)
                try:
                    result, error, files, worker = ray.get(ref)
                except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
                    reason = f"its worker died {flight.attempt + 1} times ({type(exc).__name__})"
                    self._replace(flight, reason, out)
                    continue
                if files and flight.job.save_adapter is not None:
                    write_adapter(files, flight.job.save_adapter)
                if result is not None:
                    self.deadlines.learn(result)
                out.append(Finished(flight.job.ticket, result, error, worker, flight.attempt))
            now = time.monotonic()
            for ref, flight in list(self._flights.items()):
                if not self._loaded(self.actors[flight.actor]):
                    flight.started = now  # its clock starts once the model is loaded
                elif flight.limit is not None and now - flight.started > flight.limit:
                    del self._flights[ref]  # its actor is killed: Ray cannot force-cancel
                    self._replace(flight, past_deadline(flight.limit), out)
            self._dispatch()
        return out

    def _replace(self, flight: _Flight, reason: str, out: list[Finished]) -> None:
        """Kill the flight's actor (dead, or hung: a fresh process either way, model loaded)
        and retry its trial once on another actor; past that, the trial fails with `reason`."""
        with contextlib.suppress(Exception):
            self.ray.kill(self.actors[flight.actor])
        self._loading.pop(self.actors[flight.actor], None)
        self.actors[flight.actor] = self._actor()
        if flight.attempt < MAX_RETRIES:  # on another actor, same Optuna trial
            self._queue.appendleft((flight.job, flight.attempt + 1, flight.actor))
            return
        out.append(Finished(flight.job.ticket, None, reason, retries=flight.attempt))

    def test(self, config: Config, adapter: Path) -> Any:
        files = read_adapter(adapter)
        return self.ray.get(self.actors[0].test.remote(config, files))

    def close(self) -> None:
        # Actor tasks cannot be force-cancelled; killing their actors below ends them.
        self._flights.clear()
        self._queue.clear()
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []
        if self._owns_ray:
            self.ray.shutdown()
