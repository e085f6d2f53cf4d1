"""Storage calls that wait for a database that went away (a restart, a fail-over).

A PostgreSQL server restarted in the middle of a sweep drops every connection: each call a
worker makes meanwhile (a claim, an epoch's report, a finished trial) fails. Here such a call
waits and tries again, with back-off, for at most `db_wait()` seconds (`LORATUNE_DB_WAIT`,
default 30: under the heartbeat grace of 40 s, so an outage this bound rides out never makes a
running trial look dead to the other workers). Past the bound the run stops with one line,
and `--resume` completes the study. An error while the database answers (bad data, a missing
table) is not an outage and is raised at once: a failed call is retried only when a fresh
connection cannot run `SELECT 1`.

Retried calls must be safe to repeat. Reads and attribute writes are; a state change that
committed before its connection dropped is recognised on the retry (the trial already holds
that state); `create_new_trial` is not retried here but by the claim around it (`claims`),
which re-reads the study under its lock.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

import optuna
from optuna.storages import RDBStorage
from optuna.trial import TrialState

from loratune.errors import LoratuneError

DEFAULT_WAIT = 30.0
WAIT_ENV = "LORATUNE_DB_WAIT"
FIRST_PAUSE, MAX_PAUSE = 0.2, 5.0
T = TypeVar("T")


def db_wait() -> float:
    raw = os.environ.get(WAIT_ENV)
    try:
        return DEFAULT_WAIT if not raw else max(0.0, float(raw))
    except ValueError as exc:
        raise LoratuneError(f"{WAIT_ENV}={raw!r}: give the seconds to wait") from exc


def transient(exc: BaseException) -> bool:
    """An error that a lost connection gives (what a retry may cure)."""
    import sqlalchemy.exc

    lost = (
        optuna.exceptions.StorageInternalError,
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.InterfaceError,
    )
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, lost)


def reachable(url: str) -> bool:
    """Whether a fresh connection to `url` runs `SELECT 1` now."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def call_with_reconnect(url: str, what: str, call: Callable[[], T]) -> T:
    """`call()`, repeated while the database at `url` is unreachable, up to `db_wait()` s."""
    bound = db_wait()
    start = time.monotonic()
    pause = FIRST_PAUSE
    while True:
        try:
            return call()
        except Exception as exc:
            if not transient(exc) or reachable(url):
                raise
            waited = time.monotonic() - start
            if waited >= bound:
                raise LoratuneError(
                    f"lost the storage {_safe(url)} for {waited:.0f} s ({what}): finished "
                    "trials are kept; rerun with --resume once it is back"
                ) from exc
            time.sleep(min(pause, max(0.0, bound - waited)))
            pause = min(MAX_PAUSE, pause * 2)


def _safe(url: str) -> str:
    """The URL without its password."""
    import sqlalchemy

    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


# Methods retried as they are: reads, and writes that store the same thing when repeated.
_REPEATABLE = (
    "get_study_id_from_name",
    "get_study_name_from_id",
    "get_study_directions",
    "get_study_user_attrs",
    "get_study_system_attrs",
    "get_all_studies",
    "get_trial",
    "get_all_trials",
    "get_trial_id_from_study_id_trial_number",
    "get_trial_param",
    "get_trial_user_attrs",
    "get_trial_system_attrs",
    "get_best_trial",
    "set_study_user_attr",
    "set_study_system_attr",
    "set_trial_param",
    "set_trial_intermediate_value",
    "set_trial_user_attr",
    "set_trial_system_attr",
    "_get_stale_trial_ids",
)


class ReconnectingRDBStorage(RDBStorage):
    """Optuna's RDBStorage, whose calls ride out a database outage (see the module)."""

    def set_trial_state_values(self, trial_id: int, state: TrialState, values: Any = None) -> bool:
        tries = 0

        def once() -> bool:
            nonlocal tries
            tries += 1
            try:
                return RDBStorage.set_trial_state_values(self, trial_id, state, values)
            except optuna.exceptions.UpdateFinishedTrialError:
                # A retry of a change that committed before its connection dropped.
                if tries > 1 and RDBStorage.get_trial(self, trial_id).state == state:
                    return True
                raise

        return call_with_reconnect(self.url, f"setting trial {trial_id} {state.name}", once)


def _reconnecting(name: str) -> Callable[..., Any]:
    plain = getattr(RDBStorage, name)

    @functools.wraps(plain)
    def method(self: ReconnectingRDBStorage, *args: Any, **kwargs: Any) -> Any:
        return call_with_reconnect(self.url, name, lambda: plain(self, *args, **kwargs))

    return method


for _name in _REPEATABLE:
    setattr(ReconnectingRDBStorage, _name, _reconnecting(_name))
