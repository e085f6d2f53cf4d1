"""The Ray backend end to end with tiny-llama on a local cluster of 2 one-CPU actors."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time

import pytest

from loratune import api
from loratune.space import config_key

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e .[ray])")


@pytest.fixture(scope="module", autouse=True)
def cluster():
    """One local cluster for the module (2 CPUs: 2 one-CPU actors), on this process's cores."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


def _space(tmp_path, epochs: int = 2, ranks: str = "[2, 4]"):
    path = tmp_path / "small.toml"
    path.write_text(
        f"[grid]\nrank = {ranks}\nlearning_rate = [1e-3, 1e-2]\n"
        f"[fixed]\nepochs = {epochs}\nbatch_size = 8\n"
    )
    return path


def _common(tmp_path, data_csv, space, **kw):
    return dict(data=data_csv, model="tiny-llama", space=space, n_train=24, device="cpu", **kw)


def _running_worker_pids(db) -> list[int]:
    """Read-only, with sqlite3: opening an Optuna storage here would race the run's own."""
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            rows = conn.execute(
                "SELECT a.value_json FROM trial_user_attributes a JOIN trials t "
                "ON a.trial_id = t.trial_id WHERE a.key = 'worker_pid' AND t.state = 'RUNNING'"
            ).fetchall()
    except sqlite3.Error:
        return []
    return [int(json.loads(v)) for (v,) in rows]


RAY = dict(backend="ray", workers=2, cpus_per_trial=1.0)


def test_ray_sweep_and_autotune_match_the_in_process_backend(tmp_path, data_csv):
    space = _space(tmp_path)
    url = f"sqlite:///{tmp_path}/r.db"
    recs = api.sweep(**_common(tmp_path, data_csv, space), storage=url, study="s", **RAY)
    assert sorted(r.state for r in recs) == ["complete"] * 4
    assert len({r.metrics["config_key"] for r in recs}) == 4  # each config once
    workers = {(r.attrs["provenance"]["node"], r.attrs["provenance"]["pid"]) for r in recs}
    assert len(workers) == 2  # both actors trained
    for r in recs:
        prov = r.attrs["provenance"]
        assert prov["device"] == "cpu" and prov["packages"]["torch"] and prov["hostname"]
    common = _common(tmp_path, data_csv, space, explore=2, verify=1, early_stop=False)
    common.update(report=False, save="best", prior="none")
    local = api.autotune(**common, storage=url, study="a-local", out=tmp_path / "l")
    remote = api.autotune(**common, storage=url, study="a-ray", out=tmp_path / "r", **RAY)
    for attr in ("explored", "verified"):
        keys = {config_key(r.config) for r in getattr(local, attr)}
        assert keys == {config_key(r.config) for r in getattr(remote, attr)}
    assert config_key(local.best.config) == config_key(remote.best.config)
    assert remote.best.accuracy == local.best.accuracy  # same seed, same CPU: same trial
    assert (remote.adapter_dir / "adapter_model.safetensors").is_file()  # bytes came back
    assert remote.validation.pick.test_accuracy == local.validation.pick.test_accuracy


def test_an_actor_killed_mid_trial_is_retried_once_and_recorded_once(tmp_path, data_csv):
    space = _space(tmp_path, epochs=4, ranks="[2, 4, 8]")
    url = f"sqlite:///{tmp_path}/k.db"
    killed: list[int] = []

    def kill_one() -> None:
        deadline = time.time() + 300
        while time.time() < deadline and not killed:
            time.sleep(0.5)
            pids = _running_worker_pids(tmp_path / "k.db")
            if pids:
                time.sleep(1.0)  # mid-trial
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

    thread = threading.Thread(target=kill_one, daemon=True)
    thread.start()
    recs = api.sweep(**_common(tmp_path, data_csv, space), storage=url, study="k", **RAY)
    thread.join(timeout=5)
    assert killed, "no trial was seen running"
    states = [(r.state, r.metrics.get("error")) for r in recs]
    assert [r.state for r in recs] == ["complete"] * 6, states  # recorded once each
    assert len({r.metrics["config_key"] for r in recs}) == 6
    retried = [r for r in recs if r.metrics.get("retries")]
    assert len(retried) == 1 and retried[0].metrics["retries"] == 1
    assert retried[0].attrs["provenance"]["pid"] != killed[0]  # finished by another process


def test_a_hung_actor_is_killed_at_its_deadline_and_its_trial_retried_once(
    tmp_path, data_csv, monkeypatch
):
    """One trial hangs (fault injection: the first trial to start sleeps forever); past its
    deadline its actor is killed and replaced and the trial runs again on another actor, in
    the same Optuna trial: every config recorded once, complete."""
    marker = tmp_path / "hang"
    monkeypatch.setenv("LORATUNE_FAULT_HANG", str(marker))
    space = _space(tmp_path)
    url = f"sqlite:///{tmp_path}/h.db"
    start = time.time()
    recs = api.sweep(
        **_common(tmp_path, data_csv, space), storage=url, study="h", trial_timeout=20, **RAY
    )
    states = [(r.state, r.metrics.get("error")) for r in recs]
    assert marker.exists(), f"no trial hung: the fault was not injected {states}"
    hung_pid = int(marker.read_text())
    assert [r.state for r in recs] == ["complete"] * 4, states
    assert len({r.metrics["config_key"] for r in recs}) == 4
    retried = [r for r in recs if r.metrics.get("retries")]
    assert len(retried) == 1 and retried[0].metrics["retries"] == 1
    assert retried[0].attrs["provenance"]["pid"] != hung_pid
    assert _ended(hung_pid), "the hung actor's process still runs"
    assert time.time() - start < 240


def _ended(pid: int, wait: float = 15.0) -> bool:
    end = time.time() + wait
    while time.time() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.5)
    return False
