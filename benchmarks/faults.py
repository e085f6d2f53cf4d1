"""Faults under load: many workers started at once, killed, hung, or cut off from their database.

Each fault is run `--reps` times on this machine with the tiny random-init model
(`--model tiny-llama --device cpu --n-train 24`, a generated 80-row CSV), each run on a new
storage, and the study is counted afterwards:

- `sqlite-start`, `postgres-start`: N `loratune sweep --resume` processes (N = 2, 4, 8) started
  at once on a new SQLite file / a new PostgreSQL database, one study;
- `ray-kill`: `--backend ray --workers 4 --cpus-per-trial 0.5`, one actor killed with SIGKILL
  while it trains (its pid read from the trial's `worker_pid` attribute);
- `ray-hang`: the same backend with `LORATUNE_FAULT_HANG` (the first trial to start hangs
  forever) and `--trial-timeout 20`;
- `driver-kill`: an in-process `loratune sweep` killed with kill -9 mid-sweep, then the same
  command again (`--resume`; `LORATUNE_HEARTBEAT=1,3`);
- `postgres-restart`: two worker processes, PostgreSQL stopped at once (`-m immediate`) while
  they train, down 3 s, started again (`LORATUNE_HEARTBEAT=1,20`).

Counted from the study (`loratune.study.records` and the raw Optuna trials): expected = configs
in the space; recorded = distinct configs with a complete record (a trial failed with an error
is not recorded); lost = expected - recorded; duplicated = complete records beyond one per
config; retried = complete records with `retries` > 0 plus FAIL trials without an `error`
(stale, re-queued); workers exit 0 = worker processes (the driver for Ray, the resumed run for
`driver-kill`) that exited 0, of all. The PostgreSQL server is a throwaway one (initdb and
pg_ctl in a temporary folder, as `nobody` when run as root), as in tests/test_postgres.py.

    taskset -c 1 .venv/bin/python benchmarks/faults.py --reps 5 --write docs/reliability.md
    taskset -c 1 .venv/bin/python benchmarks/faults.py --reps 1 --only ray-hang

Every child process inherits the CPU affinity it is started with (`taskset`).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from loratune.provenance import cpu_name

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STUDY = "shared"
FAULTS = (
    "sqlite-start",
    "postgres-start",
    "ray-kill",
    "ray-hang",
    "driver-kill",
    "postgres-restart",
)
START_NS = (2, 4, 8)
TIMEOUT = 900.0  # seconds any one run may take before it is killed and counted as failed
BEGIN, END = "<!-- faults: begin -->", "<!-- faults: end -->"

# Spaces: small, so that a run takes tens of seconds on one core, long enough to be hit
# mid-trial.
SPACES = {
    "six": "[grid]\nrank = [2, 4, 8]\nlearning_rate = [1e-3, 1e-2]\n"
    "[fixed]\nepochs = 2\nbatch_size = 8\n",
    "six-long": "[grid]\nrank = [2, 4, 8]\nlearning_rate = [1e-3, 1e-2]\n"
    "[fixed]\nepochs = 4\nbatch_size = 8\n",
}


# --- runs -------------------------------------------------------------------------------------


@dataclass
class Run:
    fault: str
    n: int
    rep: int
    expected: int = 0
    recorded: int = 0
    lost: int = 0
    duplicated: int = 0
    retried: int = 0
    failed_with_error: list[str] = field(default_factory=list)
    left_over: dict[str, int] = field(default_factory=dict)  # trials RUNNING/WAITING at the end
    trials: int = 0
    exits: list[int] = field(default_factory=list)  # the counted workers' exit statuses
    wall_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)  # tails of workers that exited non-zero


class Worker:
    """One `loratune sweep` process, its output in files of the run's folder."""

    def __init__(self, cmd: list[str], env: dict[str, str], folder: Path, name: str) -> None:
        self.out, self.err = folder / f"{name}.out", folder / f"{name}.err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(
                cmd, env=env, cwd=folder, stdout=out, stderr=err, start_new_session=True
            )

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=max(1.0, timeout))
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.wait()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):  # the process and anything it started
            os.killpg(self.proc.pid, signal.SIGKILL)

    def tail(self, chars: int = 3000) -> str:
        return self.err.read_text(errors="replace")[-chars:]


def snapshot(work: Path) -> dict[str, Any]:
    """Copy src/loratune, as it is now, into `work` and run everything (this process, every
    worker, Ray's actors through PYTHONPATH) on the copy: edits made to the checkout while the
    benchmark runs do not reach it. Returns what was copied: the commit, and a hash of the
    uncommitted changes to src/ (with the files they touch), if any."""
    src = work / "src"
    shutil.copytree(ROOT / "src" / "loratune", src / "loratune", ignore=shutil.ignore_patterns(
        "__pycache__"))  # fmt: skip
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(src), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    sys.path.insert(0, str(src))

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout

    changed = git("status", "--porcelain", "--", "src").splitlines()
    digest = hashlib.sha256(git("diff", "HEAD", "--", "src").encode())
    for line in sorted(changed):
        path = ROOT / line[3:]
        if line.startswith("??") and path.is_file():
            digest.update(path.read_bytes())
    probe = [sys.executable, "-c", "import loratune; print(loratune.__file__)"]
    where = subprocess.run(probe, env=child_env(), capture_output=True, text=True).stdout
    if not where.startswith(str(src)):
        raise SystemExit(f"workers would not run the copy in {src}: {where}")
    return {
        "commit": git("rev-parse", "--short", "HEAD").strip(),
        "uncommitted_src": changed,
        "uncommitted_sha256": digest.hexdigest()[:16] if changed else None,
    }


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **extra}
    for name in ("RAY_ADDRESS", "LORATUNE_HEARTBEAT", "LORATUNE_FAULT_HANG", "LORATUNE_DB_WAIT"):
        if name not in extra:
            env.pop(name, None)
    return env


def sweep_cmd(data: Path, space: Path, url: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "loratune", "sweep", "--data", str(data), "--model", "tiny-llama",
        "--device", "cpu", "--n-train", "24", "--space", str(space), "--storage", url,
        "--study", STUDY, "--resume", *extra,
    ]  # fmt: skip


def count(run: Run, url: str, space: Path) -> None:
    """Fill `run`'s counts from the study at `url` (see the module's docstring)."""
    import optuna

    from loratune.space import load_space
    from loratune.study import open_study, records

    run.expected = len(load_space(str(space)).configs())
    try:
        study = open_study(url, STUDY, create=False)
    except Exception as exc:  # noqa: BLE001 - no study at all: everything lost
        run.notes.append(f"no study: {type(exc).__name__}: {exc}"[:500])
        run.lost = run.expected
        return
    recs = records(study)
    done = collections.Counter(r.metrics["config_key"] for r in recs if r.state == "complete")
    run.recorded = len(done)
    run.lost = run.expected - run.recorded
    run.duplicated = sum(c - 1 for c in done.values())
    run.retried = sum(1 for r in recs if r.state == "complete" and r.metrics.get("retries"))
    raw = study.get_trials(deepcopy=False)
    run.trials = len(raw)
    fail = optuna.trial.TrialState.FAIL
    run.retried += sum(1 for t in raw if t.state == fail and not t.user_attrs.get("error"))
    run.failed_with_error = [
        f"trial {r.number}: {r.metrics['error']}"
        for r in recs
        if r.state == "failed" and r.metrics.get("error")
    ]
    left = collections.Counter(t.state.name for t in raw if not t.state.is_finished())
    run.left_over = dict(left)


def finish(run: Run, workers: Sequence[Worker], codes: Sequence[int]) -> None:
    run.exits = list(codes)
    for w, code in zip(workers, codes, strict=True):
        if code != 0:
            run.stderr.append(f"{w.err.name} (exit {code}):\n{w.tail()}")


def wait_all(workers: Sequence[Worker], start: float) -> list[int]:
    return [w.wait(TIMEOUT - (time.monotonic() - start)) for w in workers]


# --- the throwaway PostgreSQL server -------------------------------------------------------------


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / name).exists():
            return str(d / name)
    return None


class Postgres:
    """initdb + pg_ctl in a temporary folder on a free port (as nobody when root)."""

    def __init__(self) -> None:
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise SystemExit("PostgreSQL binaries (initdb, pg_ctl) not found")
        self.root = Path(tempfile.mkdtemp(prefix="loratune-faults-pg-"))
        self.data, sock = self.root / "data", self.root / "sock"
        sock.mkdir()
        user = pwd.getpwuid(os.getuid()).pw_name
        prefix: list[str] = []
        if os.getuid() == 0:  # initdb refuses root
            user = "nobody"
            shutil.chown(self.root, user)
            shutil.chown(sock, user)
            prefix = ["runuser", "-u", user, "--"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        self.ctl = [*prefix, pg_ctl]
        self.opts = (
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        )
        self.log = self.root / "log"
        self._run([*prefix, initdb, "-D", str(self.data), "-A", "trust", "-U", user])
        self.start()
        self.base = f"postgresql+psycopg2://{user}@127.0.0.1:{port}"
        self._made = 0

    @staticmethod
    def _run(cmd: list[str]) -> None:
        subprocess.run(cmd, check=True, capture_output=True, text=True)

    def start(self) -> None:
        ctl = [*self.ctl, "-D", str(self.data), "-o", self.opts, "-l", str(self.log)]
        self._run([*ctl, "-w", "start"])

    def stop(self) -> None:
        self._run([*self.ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"])

    def new_database(self) -> str:
        """A new, empty database: its URL."""
        import sqlalchemy

        self._made += 1
        name = f"faults{self._made}"
        engine = sqlalchemy.create_engine(
            f"{self.base}/postgres",
            isolation_level="AUTOCOMMIT",
            poolclass=sqlalchemy.pool.NullPool,
        )
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
        engine.dispose()
        return f"{self.base}/{name}"

    def close(self) -> None:
        subprocess.run([*self.ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


def pg_states(url: str) -> list[str]:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [s for (s,) in conn.execute(sqlalchemy.text("SELECT state FROM trials"))]
    except Exception:  # noqa: BLE001 - not created yet
        return []
    finally:
        engine.dispose()


def sqlite_rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Read-only, with sqlite3: an Optuna storage opened here would race the run's own."""
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.Error:
        return []


def sqlite_states(db: Path) -> list[str]:
    return [s for (s,) in sqlite_rows(db, "SELECT state FROM trials")]


def running_worker_pids(db: Path) -> list[int]:
    rows = sqlite_rows(
        db,
        "SELECT a.value_json FROM trial_user_attributes a JOIN trials t "
        "ON a.trial_id = t.trial_id WHERE a.key = 'worker_pid' AND t.state = 'RUNNING'",
    )
    return [int(json.loads(v)) for (v,) in rows]


def wait_until(check: Callable[[], bool], workers: Sequence[Worker], limit: float = 600.0) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if check():
            return True
        if all(w.proc.poll() is not None for w in workers):
            return False
        time.sleep(0.3)
    return False


# --- the faults ----------------------------------------------------------------------------------


class Bench:
    def __init__(self, work: Path, postgres: Postgres | None) -> None:
        self.work, self.pg = work, postgres
        self.data = work / "tickets.csv"
        rows = ["text,label"]
        for i in range(80):  # as tests/conftest.py's data_csv
            label = ["refund", "login", "delivery"][i % 3]
            rows.append(f"message {i} about my {label} problem number {i * 7},{label}")
        self.data.write_text("\n".join(rows) + "\n")
        self.spaces = {}
        for name, text in SPACES.items():
            path = work / f"{name}.toml"
            path.write_text(f'name = "{name}"\n{text}')
            self.spaces[name] = path
        self._runs = 0

    def folder(self, fault: str, n: int, rep: int) -> Path:
        self._runs += 1
        path = self.work / f"{self._runs:03d}-{fault}-n{n}-r{rep}"
        path.mkdir()
        return path

    def start(self, fault: str, n: int, rep: int) -> Run:
        """N processes at once on a new storage."""
        run, folder = Run(fault, n, rep), self.folder(fault, n, rep)
        space = self.spaces["six"]
        if fault == "sqlite-start":
            url = f"sqlite:///{folder}/s.db"
        else:
            assert self.pg is not None
            url = self.pg.new_database()
        cmd, env = sweep_cmd(self.data, space, url), child_env()
        t0 = time.monotonic()
        workers = [Worker(cmd, env, folder, f"w{i}") for i in range(n)]
        finish(run, workers, wait_all(workers, t0))
        run.wall_seconds = time.monotonic() - t0
        count(run, url, space)
        return run

    def ray(self, fault: str, rep: int) -> Run:
        run, folder = Run(fault, 4, rep), self.folder(fault, 4, rep)
        db = folder / "r.db"
        url = f"sqlite:///{db}"
        ray = ("--backend", "ray", "--workers", "4", "--cpus-per-trial", "0.5")
        if fault == "ray-kill":
            space = self.spaces["six-long"]
            env = child_env()
            cmd = sweep_cmd(self.data, space, url, *ray)
        else:
            space = self.spaces["six"]
            marker = folder / "hang"
            env = child_env(LORATUNE_FAULT_HANG=str(marker))
            cmd = sweep_cmd(self.data, space, url, *ray, "--trial-timeout", "20")
        t0 = time.monotonic()
        driver = Worker(cmd, env, folder, "driver")
        if fault == "ray-kill":
            killed = None
            if wait_until(lambda: bool(running_worker_pids(db)), [driver]):
                time.sleep(1.0)  # mid-trial
                pids = running_worker_pids(db)
                if pids:
                    killed = pids[0]
                    os.kill(killed, signal.SIGKILL)
            run.notes.append(
                f"killed actor pid {killed} mid-trial" if killed else "no actor was killed"
            )
        code = driver.wait(TIMEOUT)
        run.wall_seconds = time.monotonic() - t0
        finish(run, [driver], [code])
        if fault == "ray-hang":
            if marker.exists():
                pid = int(marker.read_text() or 0)
                run.notes.append(f"trial hung in pid {pid}; ended: {not _alive(pid)}")
            else:
                run.notes.append("no trial hung: the fault was not injected")
        count(run, url, space)
        return run

    def driver_kill(self, rep: int) -> Run:
        run, folder = Run("driver-kill", 1, rep), self.folder("driver-kill", 1, rep)
        db = folder / "k.db"
        url = f"sqlite:///{db}"
        space = self.spaces["six"]
        env = child_env(LORATUNE_HEARTBEAT="1,3")
        cmd = sweep_cmd(self.data, space, url)
        t0 = time.monotonic()
        first = Worker(cmd, env, folder, "killed")

        def mid_sweep() -> bool:
            states = sqlite_states(db)
            return states.count("COMPLETE") >= 2 and "RUNNING" in states

        if wait_until(mid_sweep, [first]):
            first.proc.send_signal(signal.SIGKILL)
            run.notes.append(f"driver killed with {sqlite_states(db).count('COMPLETE')} done")
        else:
            run.notes.append("the driver was not seen mid-sweep: not killed")
        first_code = first.wait(TIMEOUT)
        run.notes.append(f"killed driver exit {first_code}")
        resumed = Worker(cmd, env, folder, "resumed")
        code = resumed.wait(TIMEOUT - (time.monotonic() - t0))
        run.wall_seconds = time.monotonic() - t0
        finish(run, [resumed], [code])
        count(run, url, space)
        return run

    def postgres_restart(self, rep: int) -> Run:
        run, folder = Run("postgres-restart", 2, rep), self.folder("postgres-restart", 2, rep)
        assert self.pg is not None
        url = self.pg.new_database()
        space = self.spaces["six-long"]
        env = child_env(LORATUNE_HEARTBEAT="1,20")
        cmd = sweep_cmd(self.data, space, url)
        t0 = time.monotonic()
        workers = [Worker(cmd, env, folder, f"w{i}") for i in range(2)]

        def training() -> bool:
            states = pg_states(url)
            return states.count("RUNNING") >= 2 or "COMPLETE" in states

        if wait_until(training, workers):
            time.sleep(1.0)  # mid-trial
            before = pg_states(url)
            self.pg.stop()
            time.sleep(3.0)
            self.pg.start()
            run.notes.append(
                f"restarted with {before.count('RUNNING')} running, "
                f"{before.count('COMPLETE')} complete"
            )
        else:
            run.notes.append("no trial was seen running: not restarted")
        finish(run, workers, wait_all(workers, t0))
        run.wall_seconds = time.monotonic() - t0
        count(run, url, space)
        return run

    def run(self, fault: str, n: int, rep: int) -> Run:
        if fault in ("sqlite-start", "postgres-start"):
            return self.start(fault, n, rep)
        if fault in ("ray-kill", "ray-hang"):
            return self.ray(fault, rep)
        if fault == "driver-kill":
            return self.driver_kill(rep)
        return self.postgres_restart(rep)


def _alive(pid: int, wait: float = 15.0) -> bool:
    end = time.time() + wait
    while time.time() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.5)
    return True


# --- the table -----------------------------------------------------------------------------------

WHAT = {
    "sqlite-start": "N processes started at once, new SQLite file",
    "postgres-start": "N processes started at once, new PostgreSQL database",
    "ray-kill": "Ray, 4 actors, one killed (SIGKILL) mid-trial",
    "ray-hang": "Ray, 4 actors, one trial hung, `--trial-timeout 20`",
    "driver-kill": "driver killed (kill -9) mid-sweep, then `--resume`",
    "postgres-restart": "PostgreSQL restarted mid-sweep (down 3 s), 2 workers",
}


def rows(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in runs:
        groups.setdefault((r["fault"], r["n"]), []).append(r)
    out = []
    for (fault, n), rs in groups.items():
        exits = [c for r in rs for c in r["exits"]]
        out.append(
            {
                "fault": fault,
                "n": n,
                "runs": len(rs),
                "expected": sum(r["expected"] for r in rs),
                "recorded": sum(r["recorded"] for r in rs),
                "lost": sum(r["lost"] for r in rs),
                "duplicated": sum(r["duplicated"] for r in rs),
                "retried": sum(r["retried"] for r in rs),
                "exit0": sum(c == 0 for c in exits),
                "workers": len(exits),
                "median_wall": statistics.median(r["wall_seconds"] for r in rs),
                "wall_range": (
                    min(r["wall_seconds"] for r in rs),
                    max(r["wall_seconds"] for r in rs),
                ),
                "per_run_retried": [r["retried"] for r in rs],
            }
        )
    return out


def markdown(runs: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    head = (
        "| fault | N | runs | trials expected | recorded | lost | duplicated | retried "
        "| workers exit 0 | median wall (min-max) |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    )
    body = ""
    for row in rows(runs):
        lo, hi = row["wall_range"]
        body += (
            f"| {WHAT[row['fault']]} (`{row['fault']}`) | {row['n']} | {row['runs']} "
            f"| {row['expected']} | {row['recorded']} | {row['lost']} | {row['duplicated']} "
            f"| {row['retried']} | {row['exit0']} of {row['workers']} "
            f"| {row['median_wall']:.0f} s ({lo:.0f}-{hi:.0f}) |\n"
        )
    commit = meta["commit"]
    if meta.get("uncommitted_src"):
        n = len(meta["uncommitted_src"])
        commit += (
            f" plus uncommitted changes to {n} files of src/ (sha256 {meta['uncommitted_sha256']})"
        )
    foot = (
        f"\nGenerated by `benchmarks/faults.py` ({meta['when']}; commit {commit}; "
        f"{meta['cpu']}, pinned to CPU {meta['affinity']}; {meta['reps']} runs per row). "
        "Counts are summed over the runs of a row; every run's own counts, notes and the stderr "
        "of any worker that exited non-zero are in `benchmarks/faults.json`.\n"
    )
    return head + body + foot


def write_doc(doc: Path, table: str) -> None:
    text = doc.read_text()
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        text = f"{before}{BEGIN}\n{table}{END}{after}"
    else:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{table}{END}\n"
    doc.write_text(text)


def machine() -> dict[str, Any]:
    cpu = cpu_name()
    affinity = sorted(os.sched_getaffinity(0))
    return {
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "affinity": ",".join(map(str, affinity)),
        "python": sys.version.split()[0],
    }


# --- main ----------------------------------------------------------------------------------------


def plan(only: Sequence[str], ns: Sequence[int]) -> list[tuple[str, int]]:
    out = []
    for fault in only or FAULTS:
        if fault in ("sqlite-start", "postgres-start"):
            out += [(fault, n) for n in ns]
        else:
            out.append((fault, {"ray-kill": 4, "ray-hang": 4, "postgres-restart": 2}.get(fault, 1)))
    return out


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5, help="runs of each fault (default 5)")
    ap.add_argument("--only", action="append", choices=FAULTS, default=[], help="these faults")
    ap.add_argument("--n", type=int, action="append", default=[], help="N of the starts")
    ap.add_argument("--json", type=Path, default=HERE / "faults.json", help="every run")
    ap.add_argument("--write", type=Path, help="write the table into this markdown file")
    ap.add_argument("--keep", action="store_true", help="keep the runs' folders")
    args = ap.parse_args(argv)
    todo = plan(args.only, args.n or START_NS)
    work = Path(tempfile.mkdtemp(prefix="loratune-faults-"))
    meta = {**machine(), **snapshot(work), "reps": args.reps}
    needs_pg = any(f.startswith("postgres") for f, _ in todo)
    pg = Postgres() if needs_pg else None
    runs: list[dict[str, Any]] = []
    bench = Bench(work, pg)
    try:
        for rep in range(args.reps):  # reps outermost: a slow hour hits every fault alike
            for fault, n in todo:
                run = bench.run(fault, n, rep)
                runs.append(asdict(run))
                bad = run.lost or run.duplicated or any(run.exits) or run.failed_with_error
                print(
                    f"{fault:17s} N={n} rep {rep}: expected {run.expected} recorded "
                    f"{run.recorded} lost {run.lost} dup {run.duplicated} retried {run.retried} "
                    f"exits {run.exits} {run.wall_seconds:.0f} s {'; '.join(run.notes)}"
                    + ("  <-- FAULT" if bad else ""),
                    flush=True,
                )
                for err in run.stderr:
                    print(err, flush=True)
                args.json.write_text(json.dumps({"meta": meta, "runs": runs}, indent=1) + "\n")
    finally:
        if pg is not None:
            pg.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"runs kept in {work}")
    table = markdown(runs, meta)
    print(table)
    if args.write:
        write_doc(args.write, table)
    return runs


if __name__ == "__main__":
    main()
