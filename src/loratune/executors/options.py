"""Which backend runs trials, as the API and the CLI name it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from loratune.errors import LoratuneError
from loratune.executors.deadline import Deadlines

BackendKind = Literal["inprocess", "ray"]


@dataclass(frozen=True)
class BackendOptions:
    """`inprocess` (default: one trial at a time in this process) or `ray`: `workers` actors,
    each with `cpus_per_trial` CPUs and `gpus_per_trial` GPUs (a fraction shares a GPU), on the
    cluster at `address` (None: a local one; "auto": the running one; ray://HOST:10001).
    `trial_timeout`: seconds any trial may run before it is failed as hung and retried once
    (None: derived from this run's measured epochs, `executors.deadline`)."""

    kind: BackendKind = "inprocess"
    address: str | None = None
    workers: int = 1
    gpus_per_trial: float = 0.0
    cpus_per_trial: float = 1.0
    trial_timeout: float | None = None

    def deadlines(self) -> Deadlines:
        return Deadlines(override=self.trial_timeout)

    def check(self, storage: Any) -> None:
        if self.kind not in ("inprocess", "ray"):
            raise LoratuneError(f"unknown backend {self.kind!r}: use inprocess or ray")
        if self.workers < 1:
            raise LoratuneError("--workers must be >= 1")
        if self.gpus_per_trial < 0 or self.cpus_per_trial <= 0:
            raise LoratuneError("--gpus-per-trial must be >= 0 and --cpus-per-trial > 0")
        self.deadlines()  # refuses a timeout that is not a positive number of seconds
        if self.kind == "inprocess" and self.workers != 1:
            raise LoratuneError("the in-process backend runs one worker: use --backend ray")
        if self.kind == "ray" and storage is not None and not isinstance(storage, str):
            raise LoratuneError("the Ray backend needs a storage URL its workers can open")
        if self.kind == "ray" and self.address is None and self.gpus_per_trial > 0:
            import torch  # a local cluster has the GPUs CUDA sees here, and no others

            if self.gpus_per_trial > torch.cuda.device_count():
                raise LoratuneError(
                    f"--gpus-per-trial {self.gpus_per_trial:g} but this machine has "
                    f"{torch.cuda.device_count()} CUDA GPUs for a local Ray cluster "
                    "(use --gpus-per-trial 0, or --address for a cluster with GPUs)"
                )
