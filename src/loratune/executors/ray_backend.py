"""The Ray backend: `workers` actors, each with the base model resident, train trials at once.

`ray` is imported only here, and only when `--backend ray` is chosen. Actors ask Ray for
`cpus_per_trial` CPUs and `gpus_per_trial` GPUs (0.25: four trials share one GPU). An actor
whose process dies (kill -9, a lost node) is replaced by a fresh one, and its trial is retried
once on another actor, in the same Optuna trial, so it is recorded exactly once (its `retries`
attribute says so); a second death records it as failed.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loratune.errors import LoratuneError
from loratune.executors.base import EpochHook, Finished, Submission
from loratune.executors.options import BackendOptions
from loratune.executors.ray_worker import TrialWorker, read_adapter, write_adapter
from loratune.space import Config
from loratune.tasks import Task

MAX_RETRIES = 1


@dataclass
class _Flight:
    job: Submission
    actor: int
    attempt: int


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
    ) -> None:
        ray = _ray()
        self.ray = ray
        self.workers = options.workers
        self._owns_ray = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"address": options.address, "include_dashboard": False}
            if options.address is None:  # a local cluster sized for the workers
                kwargs["num_cpus"] = max(1, int(options.workers * options.cpus_per_trial + 0.999))
                env = {k: v for k, v in os.environ.items() if k.startswith("LORATUNE_")}
                kwargs["runtime_env"] = {"env_vars": env} if env else None
            try:
                ray.init(**kwargs, logging_level="ERROR", log_to_driver=False)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                where = options.address or "a local cluster"
                raise LoratuneError(f"cannot start or reach Ray at {where}: {exc}") from exc
            self._owns_ray = True
        self._check_gpus(options.gpus_per_trial)
        self._cls = ray.remote(TrialWorker).options(
            num_cpus=options.cpus_per_trial,
            num_gpus=options.gpus_per_trial,
            max_restarts=0,  # a dead actor is replaced below, and its trial retried elsewhere
            max_task_retries=0,
        )
        threads = max(1, int(options.cpus_per_trial))
        self._args = (model, device, ray.put(task), price_per_hour, evaluate_test, threads)
        self._made = 0
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
        return self._cls.remote(*self._args, self._made - 1)

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
            self._flights[ref] = _Flight(job, actor, attempt)

    def submit(self, job: Submission) -> None:
        self._queue.append((job, 0, None))
        self._dispatch()

    def wait(self, on_epoch: EpochHook) -> list[Finished]:
        ray = self.ray
        out: list[Finished] = []
        while not out:
            if not self._flights:
                raise LoratuneError("wait() with no trial running")
            ready, _ = ray.wait(list(self._flights), num_returns=1)
            for ref in ready:
                flight = self._flights.pop(ref)
                try:
                    result, error, files, worker = ray.get(ref)
                except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
                    with contextlib.suppress(Exception):
                        ray.kill(self.actors[flight.actor])
                    self.actors[flight.actor] = self._actor()  # a fresh process, model loaded
                    if flight.attempt < MAX_RETRIES:  # on another actor, same Optuna trial
                        self._queue.appendleft((flight.job, flight.attempt + 1, flight.actor))
                        continue
                    reason = f"its worker died {flight.attempt + 1} times ({type(exc).__name__})"
                    out.append(Finished(flight.job.ticket, None, reason, retries=flight.attempt))
                    continue
                if files and flight.job.save_adapter is not None:
                    write_adapter(files, flight.job.save_adapter)
                out.append(Finished(flight.job.ticket, result, error, worker, flight.attempt))
            self._dispatch()
        return out

    def test(self, config: Config, adapter: Path) -> Any:
        files = read_adapter(adapter)
        return self.ray.get(self.actors[0].test.remote(config, files))

    def close(self) -> None:
        for ref in list(self._flights):
            self.ray.cancel(ref, force=True)
        self._flights.clear()
        self._queue.clear()
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []
        if self._owns_ray:
            self.ray.shutdown()
