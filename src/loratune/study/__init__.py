"""The durable record of every trial: an Optuna study (SQLite by default, any Optuna storage URL).

Each trial holds the grid parameters as Optuna params, its validation accuracy as its value
(the number every decision reads; a study tuned for another metric, named in its `metric`
user attribute, holds that metric's score, `tasks.metrics`), the early-stopping check's
learning curve as intermediate values, and in user attributes the full config, exact
validation counts, the other measurements, provenance, and test accuracy where it was
measured (a ground-truth grid, or the pick of an autotune, scored once at the end): never
the value. Records are written when
a trial starts (RUNNING), so an interrupted sweep shows what was in flight, and are final
once told.

Optuna's conventions hold, so optuna-dashboard and any Optuna reader see what loratune did:
the objective is named (`name_objective`: "validation_accuracy", or the chosen metric's), the
curve is reported at steps 1..n (epoch 1 at step 1), and a trial stopped early ends PRUNED
with its value (the check score it stopped at); `records` reads it back as the finished trial
with `stopped_early` it always was, as it reads one an older version stored COMPLETE.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import optuna

from loratune.claims import HEARTBEAT_ATTR, claim_trial, fail_stale, lock_file
from loratune.errors import LoratuneError
from loratune.space import Config, Space, config_key
from loratune.study.pruner import FIRST_EPOCH
from loratune.study.reconnect import ReconnectingRDBStorage, call_with_reconnect
from loratune.study.startup import open_once_schema
from loratune.tasks import get_metric

DEFAULT_STORAGE = "sqlite:///loratune.db"
# Protocol 2: validation decides, test only reports (see docs/protocol.md). Rows recorded
# under protocol 1 (test accuracy as the value) are in benchmarks/grids/archive/.
PROTOCOL = 2

optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass(frozen=True)
class TrialRecord:
    """A read-only view of one finished or failed trial, as strategies and reports see it."""

    number: int
    config: Config
    state: str  # "complete", "failed" or "running"
    accuracy: float | None
    curve: tuple[float, ...]
    metrics: dict[str, Any]
    attrs: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.state == "complete" and self.accuracy is not None

    @property
    def test_accuracy(self) -> float | None:
        """Test accuracy where it was measured (ground truth, or autotune's pick); else None."""
        v = self.metrics.get("test_accuracy")
        return None if v is None else float(v)

    @property
    def metric(self) -> str:
        """The metric the trial's value scores (`tasks.metrics`); accuracy where unrecorded."""
        return str(self.metrics.get("metric") or "accuracy")

    @property
    def test_score(self) -> float | None:
        """The metric's test score where it was measured (test accuracy for accuracy)."""
        if self.metric == "accuracy":
            return self.test_accuracy
        v = self.metrics.get("test_score")
        return None if v is None else float(v)

    @property
    def full(self) -> bool:
        """Finished and trained for all its epochs: only such a trial can be a pick, since
        one stopped early was scored before it finished learning."""
        return self.ok and not self.metrics.get("stopped_early", False)


def study_name(domain: str, model: str, space: Space, kind: str = "sweep") -> str:
    return f"{kind}:{domain}:{model}:{space.name}"


Storage = str | optuna.storages.BaseStorage | None  # URL, a storage object, or the default


def open_study(
    storage: Storage,
    name: str,
    attrs: dict[str, Any] | None = None,
    create: bool = True,
    pruner: optuna.pruners.BasePruner | None = None,
) -> optuna.Study:
    """Open (or create) a study; `attrs` (domain, model, space) are stored on creation.

    `pruner` decides early stopping from the study's trials (`study.pruner`); without
    one nothing is pruned (Optuna's default median pruner would stop sweep trials).
    """
    url = storage or DEFAULT_STORAGE
    pruner = pruner or optuna.pruners.NopPruner()
    try:
        backend = resolve_storage(url)
        if not create:
            return optuna.load_study(study_name=name, storage=backend, pruner=pruner)
        study = optuna.create_study(
            study_name=name,
            storage=backend,
            direction="maximize",
            load_if_exists=True,
            pruner=pruner,
        )
    except KeyError as exc:
        raise LoratuneError(f"no study named {name!r} in {url}") from exc
    except LoratuneError:
        raise
    except Exception as exc:  # SQLAlchemy and drivers raise many kinds: one line each
        raise _storage_error(url, exc) from exc
    if attrs:
        for k, v in attrs.items():
            if study.user_attrs.get(k) is None:
                study.set_user_attr(k, v)
    return study


def objective_name(metric: str) -> str:
    """The name of the study's objective (Optuna's metric name): "validation_<metric>" for a
    metric where higher is better, "neg_<metric>" for one stored negated (a loss)."""
    m = get_metric(metric)
    base = m.name if m.name.startswith("val_") else f"validation_{m.name}"
    return base if m.higher_is_better else f"neg_{base}"


def name_objective(study: optuna.Study, metric: str) -> None:
    """Name the study's objective after `metric` (`objective_name`), so Optuna's readers
    (optuna-dashboard, `trials_dataframe`) show it instead of "Objective 0"; a study that
    already has a name keeps it."""
    if study.metric_names is not None:
        return
    with warnings.catch_warnings():  # "experimental" in Optuna since 3.2
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names([objective_name(metric)])


def study_space(study: optuna.Study) -> Space | None:
    """The space a loratune study was created with (stored on the study), or None."""
    d = study.user_attrs.get("space_def")
    if not d:
        return None
    return Space(d["name"], {k: tuple(v) for k, v in d["grid"].items()}, dict(d["fixed"]))


def list_studies(storage: Storage) -> list[str]:
    url = storage or DEFAULT_STORAGE
    try:
        backend = resolve_storage(url)
        return [s.study_name for s in optuna.get_all_study_summaries(storage=backend)]
    except LoratuneError:
        raise
    except Exception as exc:
        raise _storage_error(url, exc) from exc


STORAGE_HELP = (
    "use sqlite:///FILE.db, postgresql://USER@HOST/DB, mysql://..., or a journal file "
    "(a path ending in .log, or journal:///PATH)"
)


# Seconds between a running trial's heartbeats, and the silence after which it is failed and
# retried (RDB storages). A killed run's trial is retried this long after it died.
# LORATUNE_HEARTBEAT="interval,grace" overrides them (the fault tests use 1,4).
HEARTBEAT = (10.0, 40.0)
_RDB: dict[tuple[str, float, float], optuna.storages.RDBStorage] = {}


def heartbeat_settings() -> tuple[float, float]:
    raw = os.environ.get("LORATUNE_HEARTBEAT")
    if not raw:
        return HEARTBEAT
    try:
        interval, grace = (float(x) for x in raw.split(","))
    except ValueError as exc:
        raise LoratuneError(f"LORATUNE_HEARTBEAT={raw!r}: give INTERVAL,GRACE seconds") from exc
    return interval, grace


def rdb_storage(url: str) -> optuna.storages.RDBStorage:
    """One RDB storage per URL and process, with heartbeats and one retry of a trial whose
    heartbeat went stale (Optuna's `RetryFailedTrialCallback` queues it again)."""
    interval, grace = heartbeat_settings()
    key = (url, interval, grace)
    if key not in _RDB:
        with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna since 2.8
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
            callback = (
                {"heartbeat_stale_trial_callback": retry(max_retry=1)}
                if retry
                else {
                    "failed_trial_callback": optuna.storages.RetryFailedTrialCallback(max_retry=1)
                }
            )
            _RDB[key] = open_once_schema(
                url,
                lambda: ReconnectingRDBStorage(
                    url,
                    # A server restarted under the run: pooled connections are checked first.
                    engine_kwargs=None if url.startswith("sqlite") else {"pool_pre_ping": True},
                    heartbeat_interval=int(max(1, interval)),
                    grace_period=int(max(2, grace)),
                    **callback,  # type: ignore[arg-type]
                ),
            )
    return _RDB[key]


def storage_url(storage: Storage) -> str | None:
    """The URL of a storage (what other processes open), or None for a storage object."""
    if storage is None:
        return DEFAULT_STORAGE
    return storage if isinstance(storage, str) else None


def resolve_storage(storage: Storage) -> optuna.storages.BaseStorage:
    """An Optuna storage for a URL: an RDB storage with heartbeats for database URLs, a
    JournalStorage for a journal file.

    A plain path is refused here (not deep in SQLAlchemy) with the forms that work.
    """
    if storage is None:
        storage = DEFAULT_STORAGE
    if not isinstance(storage, str):
        return storage
    path = storage.removeprefix("journal://") if storage.startswith("journal://") else None
    if path is None and "://" not in storage and storage.endswith(".log"):
        path = storage
    if path is not None:
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        try:
            return JournalStorage(JournalFileBackend(path))
        except OSError as exc:
            raise LoratuneError(f"cannot open journal file {path}: {exc.strerror}") from exc
    if "://" not in storage:
        raise LoratuneError(f"storage {storage!r} is not a URL: {STORAGE_HELP}")
    return rdb_storage(storage)


def _storage_error(url: str, exc: Exception) -> LoratuneError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "file is not a database" in text or "malformed" in text:
        return LoratuneError(f"storage {url} is not a readable SQLite database ({text})")
    if "readonly" in text or "read-only" in text:
        return LoratuneError(f"storage {url} is read-only: point --storage at a writable file")
    return LoratuneError(f"cannot open storage {url}: {text} ({STORAGE_HELP})")


def _choice(value: Any) -> Any:
    """Optuna's categorical choices are scalars: a list of target modules is one string."""
    return ",".join(value) if isinstance(value, (list, tuple)) else value


def distributions(space: Space) -> dict[str, optuna.distributions.BaseDistribution]:
    return {
        k: optuna.distributions.CategoricalDistribution([_choice(v) for v in values])
        for k, values in space.grid.items()
    }


def params_of(space: Space, config: Config) -> dict[str, Any]:
    return {
        k: config.alpha / config.rank if k == "alpha_ratio" else _choice(getattr(config, k))
        for k in space.grid
    }


def config_of(space: Space, params: dict[str, Any]) -> Config:
    """The config that Optuna params describe (`params_of` read back)."""
    values = {
        k: v.split(",") if k == "target_modules" and isinstance(v, str) else v
        for k, v in params.items()
    }
    return Config.from_dict({**space.fixed, **values})


def start_trial(
    study: optuna.Study,
    space: Space,
    config: Config,
    attrs: dict[str, Any],
    storage: Storage = None,
    heartbeat: bool = False,
    key: str | None = None,
) -> optuna.Trial | None:
    """Claim `config` in the study: a RUNNING trial the caller owns, so the record exists
    before training starts; None when another process already has it (`claims`).

    `storage` is the study's storage URL (its claims lock); `heartbeat`: the caller records
    the trial's heartbeats (`claims.Heartbeat`), so a resumed run judges it by them; `key`
    replaces the config's key (a second training seed of a config is another claim).
    """
    backend = study._storage  # the storage the study was opened with (its cache included)
    url = storage_url(storage) if storage is not None else _url_of(backend)
    attrs = {
        **attrs,
        "config": config.to_dict(),
        "started": datetime.now().isoformat(timespec="seconds"),
    }
    key = key or config_key(config)

    def claim() -> optuna.Trial | None:
        params, dists = params_of(space, config), distributions(space)
        return claim_trial(study, backend, url, key, params, dists, attrs)

    # On a database server the whole claim is repeated while the server is unreachable: its
    # advisory lock died with the connection, and the repeat reads the study again.
    server = url if url and lock_file(url) is None and not url.startswith("sqlite") else None
    trial = call_with_reconnect(server, f"claiming config {key}", claim) if server else claim()
    if trial is not None and not heartbeat:
        trial.set_user_attr(HEARTBEAT_ATTR, False)
    return trial


def _url_of(backend: optuna.storages.BaseStorage) -> str | None:
    """The URL behind a storage object loratune opened, for its claims lock."""
    for (url, _, _), rdb in _RDB.items():
        if getattr(backend, "_backend", backend) is rdb:
            return url
    if isinstance(backend, optuna.storages.JournalStorage):
        path = getattr(getattr(backend, "_backend", None), "_file_path", None)
        return f"journal://{path}" if path else None
    return None


def finish_trial(
    study: optuna.Study,
    trial: optuna.Trial,
    accuracy: float,
    metrics: dict[str, Any],
    curve: Sequence[float] = (),
) -> None:
    """Store a trained trial's measures (user attributes) and end it with its value.

    `curve` (the check score after each epoch) goes in the intermediate values at steps
    1..n: whoever trained the trial reported them epoch by epoch (`trial.report`, here or in
    a Ray worker), and the steps still missing are added here. A trial stopped early
    (`stopped_early`) ends PRUNED, as Optuna records a trial its pruner stopped; one trained
    to its end ends COMPLETE. Both keep `accuracy` as their value.
    """
    for k, v in metrics.items():
        trial.set_user_attr(k, v)
    storage, trial_id = study._storage, trial._trial_id
    reported = storage.get_trial(trial_id).intermediate_values
    for step, value in enumerate(curve, FIRST_EPOCH):
        if step not in reported:
            storage.set_trial_intermediate_value(trial_id, step, float(value))
    if not metrics.get("stopped_early"):
        study.tell(trial, accuracy)
        return
    frozen = storage.get_trial(trial_id)
    last = frozen.last_step
    if last is not None and frozen.intermediate_values[last] == float(accuracy):
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)  # value: the last one reported
    else:
        # Optuna's tell gives a PRUNED trial its last intermediate value and takes none; here
        # the value differs from it (a replayed row's exact counts), so it is stored as tell
        # stores it, with loratune's value.
        storage.set_trial_state_values(trial_id, optuna.trial.TrialState.PRUNED, [float(accuracy)])


def fail_trial(study: optuna.Study, trial: optuna.Trial, reason: str) -> None:
    trial.set_user_attr("error", reason)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)


def mark_interrupted(study: optuna.Study) -> int:
    """At start-up, RUNNING trials of a stopped run become FAIL with no error (run again on
    --resume); a trial whose process still records heartbeats is left alone (`fail_stale`)."""
    return fail_stale(study)


def _finished(trial: optuna.trial.FrozenTrial) -> bool:
    """A finished trial to loratune: COMPLETE, or PRUNED with `stopped_early` (a trial stopped
    early, with its measures and value; earlier versions stored it COMPLETE)."""
    if trial.state == optuna.trial.TrialState.PRUNED:
        return bool(trial.user_attrs.get("stopped_early"))
    return trial.state == optuna.trial.TrialState.COMPLETE


_STATES = {
    optuna.trial.TrialState.COMPLETE: "complete",
    optuna.trial.TrialState.FAIL: "failed",
    optuna.trial.TrialState.RUNNING: "running",
    optuna.trial.TrialState.PRUNED: "pruned",
    optuna.trial.TrialState.WAITING: "waiting",
}


def records(study: optuna.Study) -> list[TrialRecord]:
    """Every trial of the study as a read-only record, in the order they were started."""
    out = []
    for t in study.get_trials(deepcopy=False):
        attrs = dict(t.user_attrs)
        if "config" not in attrs or t.state == optuna.trial.TrialState.WAITING:
            continue  # not a loratune trial, or a retry queued but not started
        curve = tuple(t.intermediate_values[k] for k in sorted(t.intermediate_values))
        # A trial stopped early is PRUNED in Optuna's terms, a finished one in loratune's.
        finished = _finished(t)
        out.append(
            TrialRecord(
                number=t.number,
                config=Config.from_dict(attrs["config"]),
                state="complete" if finished else _STATES.get(t.state, str(t.state)),
                accuracy=t.value if finished else None,
                curve=curve,
                metrics={k: v for k, v in attrs.items() if k not in ("config", "provenance")},
                attrs={
                    **dict(study.user_attrs),
                    "completed": _iso(t.datetime_complete),
                    "provenance": attrs.get("provenance"),
                },
            )
        )
    return out


def done_keys(study: optuna.Study) -> set[str]:
    """Config keys that need no re-run: finished, or failed with a reason (not interrupted)."""
    keys = set()
    for r in records(study):
        if r.state == "complete" or (r.state == "failed" and r.metrics.get("error")):
            keys.add(r.metrics["config_key"])
    return keys


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when else None
