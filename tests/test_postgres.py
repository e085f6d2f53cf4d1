"""Two loratune processes on one PostgreSQL study: each config trained once, none lost.

A throwaway server is started in a temporary folder (initdb, then pg_ctl on a free port, as an
unprivileged user when the tests run as root) and removed afterwards. Skipped, with the reason,
where the PostgreSQL binaries or the driver are missing (`.ci/run` installs them).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from test_faults import assert_each_config_once, space, sweep_process  # noqa: F401

from loratune.study import open_study, records

pytest.importorskip("psycopg2", reason="psycopg2 is not installed (pip install -e .[dev])")


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / name).exists():
            return str(d / name)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A throwaway PostgreSQL server: its URL, and a restart that drops every connection."""

    def __init__(self, url: str, ctl: list[str], data: Path, opts: str, log: Path) -> None:
        self.url, self._ctl, self._data, self._opts, self._log = url, ctl, data, opts, log

    def stop(self) -> None:
        """Stop the server at once: every session is dropped."""
        run = dict(check=True, capture_output=True, text=True)
        subprocess.run([*self._ctl, "-D", str(self._data), "-m", "immediate", "-w", "stop"], **run)

    def start(self) -> None:
        run = dict(check=True, capture_output=True, text=True)
        start = [*self._ctl, "-D", str(self._data), "-o", self._opts, "-l", str(self._log)]
        subprocess.run([*start, "-w", "start"], **run)

    def restart(self, down: float = 0.0) -> None:
        """Stop the server at once, stay down `down` s, start it again."""
        self.stop()
        time.sleep(down)
        self.start()


@pytest.fixture
def postgres_server():
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install postgresql")
    # Not under pytest's tmp folder: that is private to root, and the server runs as nobody.
    root = Path(tempfile.mkdtemp(prefix="loratune-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    user = pwd.getpwuid(os.getuid()).pw_name
    prefix: list[str] = []
    if os.getuid() == 0:  # initdb refuses root: run the server as nobody
        user = "nobody"
        shutil.chown(root, user)
        shutil.chown(sock, user)
        prefix = ["runuser", "-u", user, "--"]
    port = _free_port()
    run = dict(check=True, capture_output=True, text=True)
    subprocess.run([*prefix, initdb, "-D", str(data), "-A", "trust", "-U", user], **run)
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    log = root / "log"
    subprocess.run(
        [*prefix, pg_ctl, "-D", str(data), "-o", opts, "-l", str(log), "-w", "start"], **run
    )
    url = f"postgresql+psycopg2://{user}@127.0.0.1:{port}/postgres"
    try:
        yield Server(url, [*prefix, pg_ctl], data, opts, log)
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres(postgres_server):
    return postgres_server.url


def test_two_processes_on_one_postgres_study_never_train_a_config_twice(
    postgres,
    data_csv,  # noqa: F811
    space,  # noqa: F811
):
    open_study(postgres, "shared")
    procs = [sweep_process(data_csv, space, postgres) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=400)
        assert p.returncode == 0, err
    assert_each_config_once(postgres, 4)
    recs = records(open_study(postgres, "shared"))
    assert len(recs) == 4  # every claim became exactly one trial
    pids = {r.attrs["provenance"]["platform"] for r in recs}
    assert pids  # provenance recorded on every trial


def test_a_postgres_restart_mid_sweep_loses_and_duplicates_nothing(
    postgres_server,
    data_csv,  # noqa: F811
    space,  # noqa: F811
):
    """The server stops at once (every connection dropped) while two workers train, stays
    down 3 s, and comes back: the workers wait, reconnect, and finish; each config once."""
    url = postgres_server.url
    open_study(url, "shared")
    # Heartbeats as by default, longer than the outage: no running trial looks dead.
    env = {"LORATUNE_HEARTBEAT": "1,20"}
    procs = [sweep_process(data_csv, space, url, env=env) for _ in range(2)]
    _wait_for_running(url, procs)
    postgres_server.restart(down=3.0)
    for p in procs:
        _, err = p.communicate(timeout=400)
        assert p.returncode == 0, err
    assert_each_config_once(url, 4)
    recs = records(open_study(url, "shared"))
    assert [r.state for r in recs] == ["complete"] * 4, [(r.state, r.metrics) for r in recs]


def test_past_the_wait_bound_a_lost_database_is_one_line_and_exit_2(
    postgres_server,
    data_csv,  # noqa: F811
    space,  # noqa: F811
):
    url = postgres_server.url
    open_study(url, "shared")
    env = {**os.environ, "LORATUNE_DB_WAIT": "2", "LORATUNE_HEARTBEAT": "1,3"}
    cli = [sys.executable, "-m", "loratune", "sweep", "--data", str(data_csv), "--model",
           "tiny-llama", "--device", "cpu", "--n-train", "24", "--space", str(space),
           "--storage", url, "--study", "shared", "--resume"]  # fmt: skip
    proc = subprocess.Popen(cli, env=env, stderr=subprocess.PIPE, text=True)
    _wait_for_running(url, [proc])
    postgres_server.stop()  # down until the worker gives up (its next storage call waits 2 s)
    try:
        _, err = proc.communicate(timeout=300)
    finally:
        postgres_server.start()  # the fixture's teardown stops it
    assert proc.returncode == 2, err[-2000:]
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: lost the storage") and "--resume" in lines[-1], lines
    assert "Traceback" not in err


def _wait_for_running(url: str, procs) -> None:
    study = open_study(url, "shared")
    deadline = time.time() + 240
    while time.time() < deadline:
        for p in procs:
            assert p.poll() is None, p.stderr.read() if p.stderr else ""
        states = [t.state.name for t in study.get_trials(deepcopy=False)]
        if states.count("RUNNING") >= len(procs) or "COMPLETE" in states:
            time.sleep(1.0)  # mid-trial
            return
        time.sleep(0.3)
    raise AssertionError("no trial ever ran")
