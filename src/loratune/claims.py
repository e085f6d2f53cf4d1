"""Claiming a config in a shared study, so several processes never train it twice.

A claim is a critical section over the study: read the study's trials of that config; if one
is finished, failed with a reason, or running, the config is taken; otherwise move its waiting
retry copy (left by Optuna's `RetryFailedTrialCallback`) to RUNNING, or create a RUNNING trial.
The section is held by a lock that every process on the storage shares and that dies with its
holder: a PostgreSQL advisory lock (MySQL: GET_LOCK) on the study for RDB servers, an flock on
a file beside the SQLite database or journal file, a thread lock for an in-memory storage.
The lock is held for the read and one insert only (milliseconds), never while training.

While a claimed trial runs, its process (or the Ray actor training it) records a heartbeat
(`Heartbeat`); a trial whose heartbeats stop is failed by `fail_stale_trials` and retried.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import threading
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from loratune.errors import LoratuneError

_THREAD_LOCK = threading.Lock()
_ENGINES: dict[str, Any] = {}
# Set on every claimed trial whose storage records heartbeats: such a RUNNING trial is judged
# by its heartbeat, never guessed dead.
HEARTBEAT_ATTR = "heartbeat"


def _key(study: str) -> int:
    return int.from_bytes(hashlib.sha256(study.encode()).digest()[:8], "big") >> 1


def _engine(url: str) -> Any:
    import sqlalchemy

    if url not in _ENGINES:
        _ENGINES[url] = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    return _ENGINES[url]


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def lock_file(url: str) -> Path | None:
    """The file beside a SQLite database or journal file that claims lock, or None."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url.removeprefix("sqlite:///") + ".claims.lock")
    if url.startswith("journal://"):
        return Path(url.removeprefix("journal://") + ".claims.lock")
    if "://" not in url and url.endswith(".log"):
        return Path(url + ".claims.lock")
    return None


@contextlib.contextmanager
def study_lock(url: str | None, study: str) -> Iterator[None]:
    """Hold the claims lock of `study` on the storage at `url` (None: this process only)."""
    import sqlalchemy

    if url is None or url.startswith("sqlite:///:memory:"):
        with _THREAD_LOCK:
            yield
        return
    path = lock_file(url)
    if path is not None:
        with _THREAD_LOCK, _flock(path):
            yield
        return
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme not in ("postgresql", "mysql"):
        raise LoratuneError(f"no claims lock for storage {url.split('://')[0]}://")
    with _THREAD_LOCK, _engine(url).connect() as conn:
        if scheme == "postgresql":
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": _key(study)})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": _key(study)})
        else:
            name = f"loratune-{_key(study)}"
            conn.execute(sqlalchemy.text("SELECT GET_LOCK(:n, -1)"), {"n": name})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT RELEASE_LOCK(:n)"), {"n": name})


def taken(trials: list[FrozenTrial], key: str) -> bool:
    """A config is taken when a trial of it finished, failed with a reason, or is running."""
    for t in trials:
        if t.user_attrs.get("config_key") != key:
            continue
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING):
            return True
        if t.state == TrialState.FAIL and t.user_attrs.get("error"):
            return True
    return False


def claim_trial(
    study: optuna.Study,
    storage: BaseStorage,
    url: str | None,
    key: str,
    params: dict[str, Any],
    distributions: dict[str, optuna.distributions.BaseDistribution],
    attrs: dict[str, Any],
) -> optuna.Trial | None:
    """A RUNNING trial of config `key` owned by the caller, or None if another has it."""
    study_id = storage.get_study_id_from_name(study.study_name)
    with study_lock(url, study.study_name):
        trials = storage.get_all_trials(study_id, deepcopy=False)
        if taken(trials, key):
            return None
        waiting = [
            t
            for t in trials
            if t.state == TrialState.WAITING and t.user_attrs.get("config_key") == key
        ]
        trial_id = None
        for t in waiting:  # a retry copy: the lock makes this the only process moving it
            if storage.set_trial_state_values(t._trial_id, TrialState.RUNNING):
                trial_id = t._trial_id
                break
        if trial_id is None:
            template = FrozenTrial(
                number=-1,
                state=TrialState.RUNNING,
                value=None,
                datetime_start=datetime.now(),
                datetime_complete=None,
                params=params,
                distributions=distributions,
                user_attrs={},
                system_attrs={},
                intermediate_values={},
                trial_id=-1,
            )
            trial_id = storage.create_new_trial(study_id, template_trial=template)
        heartbeat = heartbeat_enabled(storage)
        if heartbeat:
            storage.record_heartbeat(trial_id)  # type: ignore[attr-defined]
        for k, v in {**attrs, "config_key": key, HEARTBEAT_ATTR: heartbeat}.items():
            storage.set_trial_user_attr(trial_id, k, v)
    return optuna.trial.Trial(study, trial_id)


def heartbeat_enabled(storage: BaseStorage) -> bool:
    from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled

    return isinstance(storage, BaseHeartbeat) and is_heartbeat_enabled(storage)


class Heartbeat:
    """Records a trial's heartbeat every interval from a daemon thread until stopped."""

    def __init__(self, storage: BaseStorage, trial_id: int) -> None:
        self.storage, self.trial_id = storage, trial_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if heartbeat_enabled(storage):
            interval = storage.get_heartbeat_interval()  # type: ignore[attr-defined]
            self._thread = threading.Thread(target=self._beat, args=(interval,), daemon=True)
            self._thread.start()

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            with contextlib.suppress(Exception):  # a missed beat is retried at the next one
                self.storage.record_heartbeat(self.trial_id)  # type: ignore[attr-defined]

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def fail_stale(study: optuna.Study) -> int:
    """At start-up: RUNNING trials that record no heartbeat (an older loratune, or a storage
    without heartbeats) belong to a stopped run and become FAIL with no error, so they run
    again; those with heartbeats are failed only once their heartbeat is stale (Optuna's
    `fail_stale_trials`, whose retry callback queues them again). Returns how many failed."""
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    n = 0
    for t in running:
        if not t.user_attrs.get(HEARTBEAT_ATTR):
            study.tell(t.number, state=TrialState.FAIL)
            n += 1
    before = len(study.get_trials(deepcopy=False, states=(TrialState.FAIL,)))
    fail_stale_trials(study)
    return n + len(study.get_trials(deepcopy=False, states=(TrialState.FAIL,))) - before


def fail_stale_trials(study: optuna.Study) -> None:
    """Optuna's `fail_stale_trials` (its retry callback queues each failed trial again)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
