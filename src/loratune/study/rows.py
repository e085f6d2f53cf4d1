"""results.jsonl rows: a study's trials exported as the user's document asks (its fields
first, then everything recorded), and imported back into a study, so a committed grid
rebuilds the study on a machine without the SQLite file."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import optuna

from loratune.errors import LoratuneError
from loratune.jsonl import jsonl_objects, read_utf8
from loratune.space import Config, Space, config_key
from loratune.study import TrialRecord, distributions, name_objective, params_of, records
from loratune.study.pruner import FIRST_EPOCH
from loratune.tasks import get_metric

# What results.jsonl says of a trial a stopped run left unfinished (FAIL with no reason in the
# study). Importing such a row imports nothing: --resume trains the config again.
INTERRUPTED = "interrupted: the run stopped before this trial finished (--resume trains it again)"


def export_rows(study: optuna.Study) -> list[dict[str, Any]]:
    """results.jsonl rows: the user's document fields first, then everything else recorded."""
    rows = []
    for r in records(study):
        if r.state == "running":
            continue
        c, m = r.config, r.metrics
        row = {
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
            "error": m.get("error") or (INTERRUPTED if r.state == "failed" else None),
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
        rows.append(row if r.metric == "accuracy" else _metric_row(row, r))
    return rows


def _metric_row(row: dict[str, Any], r: TrialRecord) -> dict[str, Any]:
    """A row of a trial tuned for another metric than accuracy: `metric` names it, `value` is
    the study's value (its score: higher is better), `validation_<metric>` and `test_<metric>`
    its values, and `accuracy`/`validation_accuracy` stay accuracy (from the exact counts)."""
    metric = get_metric(r.metric)
    correct, total = r.metrics.get("val_correct"), r.metrics.get("val_total")
    accuracy = correct / total if isinstance(correct, int) and total else None
    row.update(accuracy=accuracy, validation_accuracy=accuracy)
    return {
        **row,
        "metric": metric.name,
        "value": r.accuracy,
        f"validation_{metric.name}": metric.value_of(r.accuracy),
        f"test_{metric.name}": metric.value_of(r.test_score),
    }


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
    dists = distributions(space)
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
    if rows:  # the objective's name: the rows' metric (accuracy where they name none)
        name_objective(study, str(rows[0].get("metric") or "accuracy"))
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
        raise LoratuneError(
            f"a recorded config ({config.describe()}) is not in space {space.name!r}: pass "
            "--space with the space the rows were recorded on"
        )
    if row["status"] == "failed" and row.get("error") in (None, "", INTERRUPTED):
        return None  # an interruption (older exports say null): run it again, not import it
    params = params_of(space, config)
    # A row of another metric than accuracy carries its value apart (`_metric_row`).
    metric = row.get("metric")
    extra = ("value", f"validation_{metric}", f"test_{metric}") if metric else ()
    attrs = {k: v for k, v in row.items() if k not in _DOC_FIELDS + _ROW_ONLY + extra}
    attrs.update(config=config.to_dict(), config_key=key, provenance=row.get("provenance"))
    if attrs.get("error") is None:
        attrs.pop("error", None)
    # Optuna needs a start time on a finished trial: a row without one is dated now.
    when = datetime.fromisoformat(row["timestamp"]) if row.get("timestamp") else datetime.now()
    complete = row["status"] == "complete"
    key = "value" if metric else "accuracy"
    value = float(row[key]) if complete else None
    if value is not None and not math.isfinite(value):
        raise LoratuneError(f"{key} {row[key]!r} is not a finite number")
    state = optuna.trial.TrialState.COMPLETE if complete else optuna.trial.TrialState.FAIL
    if complete and attrs.get("stopped_early"):
        state = optuna.trial.TrialState.PRUNED  # with its value, as `finish_trial` stores it
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
        intermediate_values=dict(enumerate(curve, FIRST_EPOCH)),  # epoch 1 at step 1
    )


def read_jsonl(path: str) -> list[dict[str, Any]]:
    """Rows of an exported results file; a broken line is an error naming the file and line."""
    # No NUL check: a NUL byte is reported by the JSON parser with its line.
    text = read_utf8(path, nul=None)
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
