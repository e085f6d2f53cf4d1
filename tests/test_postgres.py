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
import tempfile
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


@pytest.fixture
def postgres():
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
    try:
        yield f"postgresql+psycopg2://{user}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


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
