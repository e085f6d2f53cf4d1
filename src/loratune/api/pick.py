"""The end of a tuning run: the pick by validation, its one test evaluation, its adapter kept.

The pick is the finished trial with the most validation examples right (exact counts, so
ties are ties); the test split is read once, for the pick alone, and the result is stored
on the study, so a resumed run never reads it again.
"""

from __future__ import annotations

import re
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

from loratune.api.context import Job
from loratune.errors import LoratuneError
from loratune.results import Validation
from loratune.study import TrialRecord
from loratune.tasks import get_metric

PICK_ATTR = "pick_test"  # study attribute: the pick's trial number and its test counts
# The noise-aware last step (`api.separate`): its trials' phase, and the study attribute that
# names the trial it picked (the adapter it kept, of the first or the second seed).
SEPARATE_PHASE = "separate"
SEPARATE_ATTR = "separate_pick"


def runs_dir(study: str) -> Path:
    """The run folder of a study: runs/<name>, the name made safe for a path (no `..`, no
    absolute path: a study name never writes outside runs/)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", study).strip("._") or "run"
    return Path("runs") / safe


def validation_score(r: TrialRecord) -> Fraction:
    """Exact validation accuracy from the recorded counts (float only where counts are absent).
    A trial tuned for another metric is ranked by that metric's recorded score: no exact
    counts exist for an F1 or a loss."""
    correct, total = r.metrics.get("val_correct"), r.metrics.get("val_total")
    if r.metric != "accuracy":
        return Fraction(r.accuracy or 0.0)
    if isinstance(correct, int) and isinstance(total, int) and total > 0:
        return Fraction(correct, total)
    return Fraction(r.accuracy or 0.0)


def ranked(trials: list[TrialRecord]) -> list[TrialRecord]:
    """The finished trials, best validation accuracy first; the earlier first in a tie.

    A trial of the noise-aware last step is another training seed of a config already
    ranked: only that step weighs it (`api.separate`), the search's ranking never does."""
    full = [r for r in trials if r.full and r.metrics.get("phase") != SEPARATE_PHASE]
    return sorted(full, key=lambda r: (validation_score(r), -r.number), reverse=True)


def pick_best(trials: list[TrialRecord]) -> TrialRecord | None:
    """The finished trial with the highest validation accuracy; the earliest wins a tie."""
    best = ranked(trials)
    return best[0] if best else None


def adapter_folder(adapters: Path, number: int) -> Path:
    return adapters / f"trial-{number}"


def test_pick(job: Job, pick: TrialRecord, adapters: Path) -> dict[str, Any]:
    """Score the pick on the test split, once per study; returns what is stored."""
    stored = job.study.user_attrs.get(PICK_ATTR)
    if stored and stored.get("trial") == pick.number:
        return dict(stored)
    if pick.test_accuracy is not None:  # a ground-truth row already carries it
        ev = {
            "test_accuracy": pick.test_accuracy,
            "test_correct": pick.metrics.get("test_correct"),
            "test_total": pick.metrics.get("test_total"),
            "test_seconds": 0.0,
        }
        if pick.metric != "accuracy":
            ev["test_score"] = pick.test_score
    else:
        folder = adapter_folder(adapters, pick.number)
        result = job.get_backend().test(pick.config, folder)
        ev = {
            "test_accuracy": result.accuracy,
            "test_correct": result.correct,
            "test_total": result.total,
            "test_seconds": result.seconds,
        }
        if result.score is not None:  # the metric's test score, where it is not accuracy
            ev["test_score"] = result.score
    stored = {"trial": pick.number, "config_key": pick.metrics.get("config_key"), **ev}
    job.study.set_user_attr(PICK_ATTR, stored)
    return stored


def keep_adapters(
    adapters: Path,
    target: Path,
    pick: TrialRecord,
    verified: list[TrialRecord],
    trials: list[TrialRecord],
    save: str,
) -> Path | None:
    """Keep the adapters `save` asks for; returns the pick's folder (None for "none").

    best: the pick's adapter moves to <target>/adapter; verified: the verified trials' and
    the pick's stay in <target>/adapters/; all: every one stays; none: all are removed.
    """
    if not adapters.is_dir():
        return None
    keep = {
        "best": set(),
        "verified": {r.number for r in verified} | {pick.number},
        "all": {r.number for r in trials} | {pick.number},  # the pick may be a separate trial
        "none": set(),
    }[save]
    kept: Path | None = None
    if save == "best":
        src = adapter_folder(adapters, pick.number)
        if not src.is_dir():
            raise LoratuneError(f"the pick's adapter is missing: {src}")
        kept = target / "adapter"
        if kept.exists():
            shutil.rmtree(kept)
        shutil.move(str(src), str(kept))
    for folder in adapters.glob("trial-*"):
        number = int(folder.name.split("-", 1)[1]) if folder.name[6:].isdigit() else -1
        if number not in keep:
            shutil.rmtree(folder)
    if save in ("verified", "all"):
        kept = adapter_folder(adapters, pick.number)
    if not any(adapters.iterdir()):
        adapters.rmdir()
    return kept


def card_adapter(
    folder: Path, study: str, trial: int, tested: dict[str, Any], validation: Validation | None
) -> None:
    """Add the run's facts to the pick's `loratune.json` and write its model card."""
    from loratune.deploy import write_model_card
    from loratune.trainer.adapters import read_meta, write_meta

    meta = read_meta(folder)
    meta.update(
        study=study,
        trial=trial,
        test_accuracy=tested.get("test_accuracy"),
        test_correct=tested.get("test_correct"),
        test_total=tested.get("test_total"),
    )
    if "test_score" in tested and meta.get("metric"):
        meta[f"test_{meta['metric']}"] = _value(str(meta["metric"]), tested["test_score"])
    write_meta(folder, meta)
    speed = validation.speedup if validation is not None else None
    write_model_card(
        folder,
        meta,
        {
            "regret": validation.regret_vs_grid if validation is not None else None,
            "speedup": speed.factor if speed is not None else None,
            "speedup_source": speed.source if speed is not None else None,
        },
    )


def _value(metric: str, score: float | None) -> float | None:
    """A recorded score as the metric's value (a loss positive again)."""
    return get_metric(metric).value_of(score)
