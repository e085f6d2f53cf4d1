"""Faults survived on one storage: a killed driver resumed, a silent worker retried, a second
process sharing the study. No trial lost, none trained twice."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import textwrap
import time

import optuna
import pytest

from loratune import api
from loratune.space import load_space
from loratune.study import open_study, records, start_trial

SWEEP = """
import sys
from loratune import api
api.sweep(data=sys.argv[1], model="tiny-llama", space=sys.argv[2], n_train=24, device="cpu",
          storage=sys.argv[3], study="shared", resume=True)
"""


@pytest.fixture
def space(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        "[grid]\nrank = [2, 4]\nlearning_rate = [1e-3, 1e-2]\n[fixed]\nepochs = 3\nbatch_size = 8\n"
    )
    return path


@pytest.fixture
def fast_heartbeat(monkeypatch):
    monkeypatch.setenv("LORATUNE_HEARTBEAT", "1,3")


def sweep_process(data, space, url, env=None) -> subprocess.Popen[str]:
    env = {**os.environ, "LORATUNE_HEARTBEAT": "1,3", "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SWEEP), str(data), str(space), url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_each_config_once(url: str, n: int) -> None:
    recs = records(open_study(url, "shared", create=False))
    done = collections.Counter(r.metrics["config_key"] for r in recs if r.state == "complete")
    assert len(done) == n and set(done.values()) == {1}, done  # none lost, none twice


def _wait_for(url: str, state: str, count: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.time() + 240
    while time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            recs = records(open_study(url, "shared", create=False))
        except Exception:
            recs = []
        if sum(r.state == state for r in recs) >= count:
            return
        time.sleep(0.3)
    raise AssertionError(f"never saw {count} {state} trials")


def test_killed_driver_then_resume_loses_and_duplicates_nothing(
    tmp_path, data_csv, space, fast_heartbeat
):
    url = f"sqlite:///{tmp_path}/k.db"
    api.sweep(
        data=data_csv,
        model="tiny-llama",
        space=space,
        n_train=24,
        device="cpu",
        storage=url,
        study="shared",
        n=1,
    )  # the study exists before the driver starts
    proc = sweep_process(data_csv, space, url)
    _wait_for(url, "complete", 2, proc)
    _wait_for(url, "running", 1, proc)
    proc.send_signal(signal.SIGKILL)  # the driver dies mid-trial: its heartbeats stop
    proc.wait()
    running = [r for r in records(open_study(url, "shared")) if r.state == "running"]
    assert len(running) == 1
    api.sweep(
        data=data_csv,
        model="tiny-llama",
        space=space,
        n_train=24,
        device="cpu",
        storage=url,
        study="shared",
        resume=True,
    )
    assert_each_config_once(url, 4)
    recs = records(open_study(url, "shared"))
    stale = next(r for r in recs if r.number == running[0].number)
    assert stale.state == "failed" and not stale.metrics.get("error")  # the dead attempt


def test_resume_never_fails_a_trial_a_live_process_runs(tmp_path, fast_heartbeat):
    url = f"sqlite:///{tmp_path}/h.db"
    space = load_space("default")
    study = open_study(url, "shared")
    config = space.configs()[0]
    trial = start_trial(study, space, config, {}, url, heartbeat=True)
    assert trial is not None
    from loratune.claims import Heartbeat, fail_stale

    beat = Heartbeat(study._storage, trial._trial_id)  # a live worker
    try:
        time.sleep(4)  # past the grace period: only a live heartbeat keeps it running
        assert fail_stale(study) == 0
        assert study.trials[trial.number].state == optuna.trial.TrialState.RUNNING
        assert start_trial(study, space, config, {}, url) is None  # claimed: not trained twice
    finally:
        beat.stop()
    time.sleep(4)  # the worker went silent: failed, and queued again once
    assert fail_stale(study) == 1
    states = [t.state for t in study.get_trials()]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.WAITING]
    again = start_trial(study, space, config, {}, url)  # the retry copy is what is claimed
    assert again is not None and again.number == 1


def test_two_processes_on_one_sqlite_study_never_train_a_config_twice(tmp_path, data_csv, space):
    url = f"sqlite:///{tmp_path}/two.db"
    open_study(url, "shared")
    procs = [sweep_process(data_csv, space, url) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=400)
        assert p.returncode == 0, err
    assert_each_config_once(url, 4)
    recs = records(open_study(url, "shared"))
    assert len(recs) == 4  # no claim was lost or doubled


def _open_at_once(url: str, barrier, out) -> None:  # type: ignore[no-untyped-def]
    from loratune.study import open_study

    barrier.wait()
    try:
        open_study(url, "shared")
        out.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the test
        out.put(f"{type(exc).__name__}: {exc}")


def test_eight_processes_open_one_new_sqlite_storage_at_once(tmp_path):
    """Optuna's schema race (optuna#1092): every process of a simultaneous start succeeds."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    for round_ in range(3):
        url = f"sqlite:///{tmp_path}/new{round_}.db"
        barrier, out = ctx.Barrier(8), ctx.Queue()
        procs = [ctx.Process(target=_open_at_once, args=(url, barrier, out)) for _ in range(8)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        results = [out.get(timeout=5) for _ in procs]
        assert results == ["ok"] * 8, results


def test_losing_the_schema_race_is_retried_and_other_errors_are_not():
    from loratune.study.startup import lost_schema_race, open_once_schema

    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError(
                "(sqlite3.IntegrityError) UNIQUE constraint failed: alembic_version.version_num"
            )
        return "opened"

    assert open_once_schema("sqlite:///nowhere/x.db", flaky) == "opened" and len(calls) == 3
    assert not lost_schema_race(RuntimeError("unable to open database file"))
    with pytest.raises(RuntimeError, match="password authentication failed"):
        open_once_schema(
            "postgresql://u@h/db",
            lambda: (_ for _ in ()).throw(RuntimeError("password authentication failed")),
        )


class _SlowOnce:
    """A blocking executor whose first `slow` runs step slower than any deadline allows."""

    device = "cpu"

    def __init__(self, result, slow: int) -> None:
        self.result, self.slow, self.calls = result, slow, 0

    def run(self, config, hooks, save_adapter=None):
        self.calls += 1
        for i in range(6):  # 2.4 s when slow: past 1 s, and past a retry's 2 s
            if self.calls <= self.slow:
                time.sleep(0.4)
            hooks.on_step(0, i, 6, 1.0)
        return self.result


def _result():
    from loratune.trainer import TrialResult

    return TrialResult(
        accuracy=0.5, val_correct=1, val_total=2, curve=[0.5], check_total=2, train_loss=[1.0],
        latency=1.0, training_time_seconds=1.0, eval_seconds=0.1, wall_seconds=1.2,
        charged_seconds=1.1, cpu_seconds=1.0, cost=0.0, device="cpu", tokens_per_second=1.0,
        peak_memory_mb=1.0, trainable_params=1, epochs_run=1, setup_seconds=0.2,
        epoch_seconds=[1.0], check_seconds=[0.1], stopped_early=False, seed=0, val_hits="10",
    )  # fmt: skip


@pytest.mark.parametrize("slow, error", [(1, None), (2, "ran past its deadline of 2 s")])
def test_a_trial_past_its_deadline_is_failed_and_retried_once_in_process(slow, error):
    from loratune.executors.base import Submission
    from loratune.executors.deadline import Deadlines
    from loratune.executors.inprocess import InProcessBackend
    from loratune.space import Config

    executor = _SlowOnce(_result(), slow)
    backend = InProcessBackend(executor, deadlines=Deadlines(override=1.0))
    backend.submit(Submission(7, Config(rank=2, alpha=4, learning_rate=1e-3, epochs=1)))
    [done] = backend.wait(lambda ticket, epoch, acc: True)
    assert executor.calls == 2 and done.retries == 1
    if error is None:
        assert done.result is not None and done.error is None
    else:
        assert done.result is None and done.error.startswith(error)


def test_deadline_comes_from_the_runs_measured_pace():
    from loratune.errors import LoratuneError
    from loratune.executors.deadline import Deadlines
    from loratune.space import Config

    config = Config(rank=2, alpha=4, learning_rate=1e-3, epochs=3)
    policy = Deadlines()
    assert policy.limit(config) is None  # nothing measured, no override: no bound yet
    policy.learn(_result())  # set-up 0.2 s, epoch 1.0 s + check 0.1 s
    assert policy.limit(config) == 60.0  # 4 x 3.5 s is under the floor
    assert Deadlines(floor=1.0).limit(config) is None
    fast = Deadlines(floor=1.0)
    fast.learn(_result())
    assert fast.limit(config) == pytest.approx(4 * (0.2 + 3 * 1.1))
    assert Deadlines(override=5.0).limit(config) == 5.0
    assert Deadlines(override=5.0).limit(config, attempt=1) == 10.0  # a retry gets twice
    assert fast.limit(config, attempt=1) == pytest.approx(8 * (0.2 + 3 * 1.1))
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(LoratuneError, match="--trial-timeout"):
            Deadlines(override=bad)


def test_a_trial_hung_in_one_call_ends_the_process_and_resume_retries_it(tmp_path, data_csv, space):
    """The hang never returns to a training step: the watchdog ends the process (exit 2, one
    line), the trial stays RUNNING without heartbeats, and --resume trains it once."""
    from loratune.executors import inprocess

    url = f"sqlite:///{tmp_path}/hang.db"
    marker = tmp_path / "hang"
    env = {**os.environ, "LORATUNE_HEARTBEAT": "1,3", "LORATUNE_FAULT_HANG": str(marker)}
    cli = [sys.executable, "-m", "loratune", "sweep", "--data", str(data_csv), "--model",
           "tiny-llama", "--device", "cpu", "--n-train", "24", "--space", str(space),
           "--storage", url, "--study", "shared", "--trial-timeout", "2"]  # fmt: skip
    hung = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=300)
    assert hung.returncode == inprocess.HANG_EXIT, hung.stderr
    lines = hung.stderr.strip().splitlines()
    assert lines[-1].startswith("error: trial 0 hung") and "--resume" in lines[-1], lines
    assert marker.exists()
    time.sleep(3.5)  # the dead process's heartbeat goes stale (grace 3 s)
    resumed = subprocess.run([*cli, "--resume"], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert_each_config_once(url, 4)
