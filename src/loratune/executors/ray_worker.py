"""One Ray actor: loads the base model once, then trains many trials on it.

Each trial reports its epochs to the study itself (`trial.report`, then the study's pruner:
early stopping reads the study, not the driver's memory) and records heartbeats while it
trains, so a worker that dies or hangs is seen as stale by every process on the storage.
The adapter comes back to the driver as its files' bytes with the result: LoRA adapters are
small (kilobytes to a few MB), and no shared file system is needed between the nodes.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path
from typing import Any

from loratune.executors.base import TrialRef
from loratune.space import Config
from loratune.tasks import Task

Adapter = dict[str, bytes]  # file name -> content


def read_adapter(folder: Path) -> Adapter:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def write_adapter(files: Adapter, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


class TrialWorker:
    """The actor class (wrapped with `ray.remote` by the backend)."""

    def __init__(
        self,
        model: str,
        device: str | None,
        task: Task,
        price_per_hour: float,
        evaluate_test: bool,
        threads: int,
        index: int,
    ) -> None:
        import torch

        from loratune.executors.local import LocalExecutor
        from loratune.models import load_base_model

        torch.set_num_threads(max(1, threads))
        self.index = index
        base = load_base_model(model, device=device, seed=0)
        self.executor = LocalExecutor(base, task, price_per_hour, evaluate_test=evaluate_test)

    def ready(self) -> bool:
        """Answers once the actor's model is loaded: a trial's deadline runs from then."""
        return True

    def info(self) -> dict[str, Any]:
        """Where this worker runs: the provenance recorded on each of its trials."""
        import ray

        from loratune.provenance import provenance

        return {
            **provenance(),
            "node": ray.util.get_node_ip_address(),
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "device": self.executor.device,
            "worker": self.index,
        }

    def run(
        self, config: Config, save: bool, ref: TrialRef | None
    ) -> tuple[Any, str | None, Adapter, dict[str, Any]]:
        """(result or None, error, adapter files, worker info)."""
        from loratune.claims import Heartbeat
        from loratune.executors.local import TrialHooks
        from loratune.trainer import TrialFailed

        trial, beat = self._trial(ref)
        hooks = TrialHooks()
        if trial is not None:

            def on_epoch(epoch: int, acc: float) -> bool:
                trial.report(acc, epoch + 1)
                return not trial.should_prune()

            hooks.on_epoch = on_epoch
            trial.set_user_attr("worker_pid", os.getpid())
        try:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / "adapter" if save else None
                try:
                    result = self.executor.run(config, hooks, save_adapter=folder)
                except TrialFailed as exc:
                    return None, str(exc), {}, self.info()
                files = read_adapter(folder) if folder is not None else {}
            return result, None, files, self.info()
        finally:
            if isinstance(beat, Heartbeat):
                beat.stop()

    def _trial(self, ref: TrialRef | None) -> tuple[Any, Any]:
        if ref is None:
            return None, None
        import optuna

        from loratune.claims import Heartbeat
        from loratune.study import resolve_storage
        from loratune.study.pruner import EarlyStop, EpochOnePruner

        storage = resolve_storage(ref.storage)
        pruner = (
            EpochOnePruner(EarlyStop(*ref.early_stop))
            if ref.early_stop
            else optuna.pruners.NopPruner()
        )
        study = optuna.load_study(study_name=ref.study, storage=storage, pruner=pruner)
        beat = Heartbeat(study._storage, ref.trial_id) if ref.heartbeat else None
        return optuna.trial.Trial(study, ref.trial_id), beat

    def test(self, config: Config, files: Adapter) -> Any:
        with tempfile.TemporaryDirectory() as tmp:
            write_adapter(files, Path(tmp))
            return self.executor.test(config, Path(tmp))
