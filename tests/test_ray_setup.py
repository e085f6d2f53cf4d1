"""Setting up the Ray backend: a cluster that cannot be reached, and --gpus-per-trial on a
cluster without GPUs (refused, or explained, instead of a silent wait: Ray queues an actor
whose GPU never comes). No cluster is running at the start."""

from __future__ import annotations

import optuna
import pytest
import torch

from loratune import api
from loratune.errors import LoratuneError
from loratune.executors.options import BackendOptions
from loratune.executors.ray_backend import RayBackend
from loratune.tasks import get_task

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e .[ray])")
no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")


def test_a_cluster_that_cannot_be_reached_is_one_clear_error(data_csv, monkeypatch):
    def unreachable(**_):
        raise ConnectionError("Could not find any running Ray instance.")

    monkeypatch.setattr(ray, "init", unreachable)
    task = get_task(data=data_csv, n_train=8, n_val=8, n_test=8)
    options = BackendOptions(kind="ray", address="auto", workers=1)
    with pytest.raises(LoratuneError, match=r"cannot start or reach Ray at auto: Could not find"):
        RayBackend(options, "tiny-llama", "cpu", task)


@no_gpu
def test_a_local_cluster_without_gpus_is_refused_before_any_trial(tmp_path, data_csv):
    url = f"sqlite:///{tmp_path}/g.db"
    with pytest.raises(LoratuneError, match=r"--gpus-per-trial 0.5 but this machine has 0"):
        api.sweep(
            data=data_csv, model="tiny-llama", n_train=24, device="cpu", storage=url, study="g",
            backend="ray", workers=1, cpus_per_trial=1.0, gpus_per_trial=0.5,
        )  # fmt: skip
    assert not ray.is_initialized()  # refused before a cluster was started
    studies = optuna.get_all_study_summaries(url)  # no trial was left behind, running or not
    assert sum(s.n_trials for s in studies) == 0


@no_gpu
def test_the_backend_shuts_down_a_cluster_it_started_without_gpus(data_csv):
    task = get_task(data=data_csv, n_train=8, n_val=8, n_test=8)
    options = BackendOptions(kind="ray", workers=1, cpus_per_trial=1.0, gpus_per_trial=0.5)
    with pytest.raises(LoratuneError, match=r"the Ray cluster has 0 GPUs: no trial could start"):
        RayBackend(options, "tiny-llama", "cpu", task)
    assert not ray.is_initialized()


@no_gpu
def test_a_joined_cluster_without_gpus_says_why_trials_wait(data_csv):
    ray.init(num_cpus=1, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        task = get_task(data=data_csv, n_train=8, n_val=8, n_test=8)
        options = BackendOptions(kind="ray", workers=1, cpus_per_trial=1.0, gpus_per_trial=0.5)
        with pytest.warns(UserWarning, match="trials wait until nodes with GPUs join"):
            backend = RayBackend(options, "tiny-llama", "cpu", task)
        backend.close()
        assert ray.is_initialized()  # not ours to shut down
    finally:
        ray.shutdown()
