"""The durable record of every trial: an Optuna study (SQLite by default, any Optuna storage URL).

Each trial holds the grid parameters as Optuna params, its validation accuracy as its value
(the number every decision reads), the early-stopping check's learning curve as intermediate
values, and in user attributes the full config, exact validation counts, the other
measurements, provenance, and test accuracy where it was measured (a ground-truth grid, or
the pick of an autotune, scored once at the end): never the value. Records are written when
a trial starts (RUNNING), so an interrupted sweep shows what was in flight, and are final
once told.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import optuna

from loratune.errors import LoratuneError
from loratune.jsonl import jsonl_objects
from loratune.space import Config, Space, config_key

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
    def full(self) -> bool:
        """Finished and trained for all its epochs: only such a trial can be a pick, since
        one stopped early was scored before it finished learning."""
        return self.ok and not self.metrics.get("stopped_early", False)


def study_name(domain: str, model: str, space: Space, kind: str = "sweep") -> str:
    return f"{kind}:{domain}:{model}:{space.name}"


Storage = str | optuna.storages.BaseStorage | None  # URL, a storage object, or the default


def open_study(
    storage: Storage, name: str, attrs: dict[str, Any] | None = None, create: bool = True
) -> optuna.Study:
    """Open (or create) a study; `attrs` (domain, model, space) are stored on creation."""
    url = storage or DEFAULT_STORAGE
    backend = resolve_storage(url)
    try:
        if not create:
            return optuna.load_study(study_name=name, storage=backend)
        study = optuna.create_study(
            study_name=name, storage=backend, direction="maximize", load_if_exists=True
        )
    except KeyError as exc:
        raise LoratuneError(f"no study named {name!r} in {url}") from exc
    except Exception as exc:  # SQLAlchemy and drivers raise many kinds: one line each
        raise _storage_error(url, exc) from exc
    if attrs:
        for k, v in attrs.items():
            if study.user_attrs.get(k) is None:
                study.set_user_attr(k, v)
    return study


def study_space(study: optuna.Study) -> Space | None:
    """The space a loratune study was created with (stored on the study), or None."""
    d = study.user_attrs.get("space_def")
    if not d:
        return None
    return Space(d["name"], {k: tuple(v) for k, v in d["grid"].items()}, dict(d["fixed"]))


def list_studies(storage: Storage) -> list[str]:
    url = storage or DEFAULT_STORAGE
    backend = resolve_storage(url)
    try:
        return [s.study_name for s in optuna.get_all_study_summaries(storage=backend)]
    except Exception as exc:
        raise _storage_error(url, exc) from exc


STORAGE_HELP = (
    "use sqlite:///FILE.db, postgresql://USER@HOST/DB, mysql://..., or a journal file "
    "(a path ending in .log, or journal:///PATH)"
)


def resolve_storage(storage: Storage) -> str | optuna.storages.BaseStorage:
    """An Optuna storage for a URL: RDB URLs pass through; a journal file gets a JournalStorage.

    A plain path is refused here (not deep in SQLAlchemy) with the forms that work.
    """
    if storage is None:
        return DEFAULT_STORAGE
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
    return storage


def _storage_error(url: str, exc: Exception) -> LoratuneError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "file is not a database" in text or "malformed" in text:
        return LoratuneError(f"storage {url} is not a readable SQLite database ({text})")
    if "readonly" in text or "read-only" in text:
        return LoratuneError(f"storage {url} is read-only: point --storage at a writable file")
    return LoratuneError(f"cannot open storage {url}: {text} ({STORAGE_HELP})")


def _distributions(space: Space) -> dict[str, optuna.distributions.BaseDistribution]:
    return {k: optuna.distributions.CategoricalDistribution(list(v)) for k, v in space.grid.items()}


def start_trial(
    study: optuna.Study, space: Space, config: Config, attrs: dict[str, Any]
) -> optuna.Trial:
    """Create a RUNNING trial for `config` so the record exists before training starts."""
    params = {
        k: config.alpha / config.rank if k == "alpha_ratio" else getattr(config, k)
        for k in space.grid
    }
    # An enqueued trial makes ask() use exactly these values instead of sampling.
    study.enqueue_trial(params, skip_if_exists=False)
    trial = study.ask(_distributions(space))
    trial.set_user_attr("config", config.to_dict())
    trial.set_user_attr("config_key", config_key(config))
    trial.set_user_attr("started", datetime.now().isoformat(timespec="seconds"))
    for k, v in attrs.items():
        trial.set_user_attr(k, v)
    return trial


def finish_trial(
    study: optuna.Study, trial: optuna.Trial, accuracy: float, metrics: dict[str, Any]
) -> None:
    for k, v in metrics.items():
        trial.set_user_attr(k, v)
    study.tell(trial, accuracy)


def fail_trial(study: optuna.Study, trial: optuna.Trial, reason: str) -> None:
    trial.set_user_attr("error", reason)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)


def mark_interrupted(study: optuna.Study) -> int:
    """RUNNING trials left by a dead process become FAIL with no error; returns how many.

    loratune writes a study from one process at a time, so a RUNNING trial seen at start-up
    belongs to a run that was stopped. A failure without an `error` attribute is such an
    interruption, and is run again on --resume.
    """
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for t in running:
        study.tell(t.number, state=optuna.trial.TrialState.FAIL)
    return len(running)


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
        if "config" not in attrs:
            continue  # not a loratune trial
        curve = tuple(t.intermediate_values[k] for k in sorted(t.intermediate_values))
        out.append(
            TrialRecord(
                number=t.number,
                config=Config.from_dict(attrs["config"]),
                state=_STATES.get(t.state, str(t.state)),
                accuracy=t.value if t.state == optuna.trial.TrialState.COMPLETE else None,
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


def export_rows(study: optuna.Study) -> list[dict[str, Any]]:
    """results.jsonl rows: the user's document fields first, then everything else recorded."""
    rows = []
    for r in records(study):
        if r.state == "running":
            continue
        c, m = r.config, r.metrics
        rows.append(
            {
                "timestamp": r.attrs["completed"] or m.get("started"),
                "domain": r.attrs.get("domain"),
                "rank": c.rank,
                "alpha": c.alpha,
                "weight_decay": c.weight_decay,
                "learning_rate": c.learning_rate,
                "accuracy": r.accuracy,  # validation accuracy: the trial's value
                "validation_accuracy": r.accuracy,
                "test_accuracy": m.get("test_accuracy"),
                "latency": m.get("latency"),
                "cost": m.get("cost"),
                "device": m.get("device"),
                "training_time_seconds": m.get("training_time_seconds"),
                "status": r.state,
                "error": m.get("error"),
                "model": r.attrs.get("model"),
                "study": study.study_name,
                "trial": r.number,
                "config": c.to_dict(),
                "curve": list(r.curve),
                **{
                    k: v
                    for k, v in m.items()
                    if k not in ("config_key", "error", "started", "test_accuracy")
                    and k not in ("latency", "cost", "device", "training_time_seconds")
                },
                "provenance": r.attrs.get("provenance"),
            }
        )
    return rows


_DOC_FIELDS = ("timestamp", "domain", "rank", "alpha", "weight_decay", "learning_rate")
_ROW_ONLY = (
    "status",
    "model",
    "study",
    "trial",
    "config",
    "curve",
    "accuracy",
    "validation_accuracy",
    "provenance",
)


def import_rows(study: optuna.Study, space: Space, rows: list[dict[str, Any]]) -> int:
    """Add exported rows (`export_rows` output) whose config the study lacks; returns how many.

    This rebuilds a study from its committed JSONL on a machine without the SQLite file, so
    a long recording resumes instead of starting over. Rows keep their recorded measures,
    curve, timestamp and provenance; nothing is re-measured or altered.
    """
    have = {r.metrics.get("config_key") for r in records(study)}
    dists = _distributions(space)
    in_space = {config_key(c) for c in space.configs()}
    # Check every row before adding any: an import is all rows or none.
    todo: list[optuna.trial.FrozenTrial] = []
    for number, row in enumerate(rows, 1):
        try:
            trial = _frozen(row, space, dists, in_space)
        except LoratuneError as exc:
            raise LoratuneError(f"row {number}: {exc}; nothing was imported") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise LoratuneError(
                f"row {number}: cannot import it ({exc}); nothing was imported"
            ) from exc
        if trial is None:
            continue
        key = trial.user_attrs["config_key"]
        if key in have:
            continue
        have.add(key)
        todo.append(trial)
    for k in ("domain", "model"):
        if rows and study.user_attrs.get(k) is None and rows[0].get(k) is not None:
            study.set_user_attr(k, rows[0][k])
    if study.user_attrs.get("space_def") is None:
        # Without it validation cannot tell that an imported grid is complete.
        study.set_user_attr("space_def", space.to_dict())
    for trial in todo:
        study.add_trial(trial)
    return len(todo)


def _frozen(
    row: dict[str, Any],
    space: Space,
    dists: dict[str, optuna.distributions.BaseDistribution],
    in_space: set[str],
) -> optuna.trial.FrozenTrial | None:
    """The trial an exported row becomes, or None for a row that is not imported."""
    config = Config.from_dict(row["config"])
    key = config_key(config)
    if row.get("status") not in ("complete", "failed"):
        return None
    if key not in in_space:
        raise LoratuneError(f"a recorded config is not in space {space.name!r}: {key}")
    if row["status"] == "failed" and not row.get("error"):
        return None  # an interruption: run it again rather than import it
    params = {
        k: config.alpha / config.rank if k == "alpha_ratio" else getattr(config, k)
        for k in space.grid
    }
    attrs = {k: v for k, v in row.items() if k not in _DOC_FIELDS + _ROW_ONLY}
    attrs.update(config=config.to_dict(), config_key=key, provenance=row.get("provenance"))
    if attrs.get("error") is None:
        attrs.pop("error", None)
    when = datetime.fromisoformat(row["timestamp"]) if row.get("timestamp") else None
    complete = row["status"] == "complete"
    value = float(row["accuracy"]) if complete else None
    if value is not None and not math.isfinite(value):
        raise LoratuneError(f"accuracy {row['accuracy']!r} is not a finite number")
    state = optuna.trial.TrialState.COMPLETE if complete else optuna.trial.TrialState.FAIL
    curve = [float(v) for v in row.get("curve") or []]
    return optuna.trial.FrozenTrial(
        number=0,
        trial_id=0,
        state=state,
        value=value,
        values=None,
        datetime_start=when,
        datetime_complete=when,
        params=params,
        distributions=dists,
        user_attrs=attrs,
        system_attrs={},
        intermediate_values=dict(enumerate(curve)),
    )


def read_jsonl(path: str) -> list[dict[str, Any]]:
    """Rows of an exported results file; a broken line is an error naming the file and line."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise LoratuneError(f"cannot read {path}: {exc.strerror}") from exc
    rows = []
    for number, row in jsonl_objects(path, text):
        if not {"config", "status"} <= set(row):
            raise LoratuneError(f"{path}:{number}: not an exported trial (needs config, status)")
        rows.append(row)
    return rows


def write_jsonl(rows: list[dict[str, Any]], path: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, default=str) + "\n")
    except OSError as exc:
        raise LoratuneError(f"cannot write {path}: {exc.strerror}") from exc
