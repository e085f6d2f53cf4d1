"""`loratune.predict`: fit the predictor on a study's trials and predict its whole grid."""

from __future__ import annotations

import numpy as np

from loratune import stats
from loratune.errors import LoratuneError
from loratune.results import Prediction
from loratune.strategies.autotune import fit_predictor, predict_grid
from loratune.study import list_studies, open_study, records, study_space


def predict(
    study: str | None = None, *, storage: str | None = None, seed: int = 0
) -> tuple[list[Prediction], list[Prediction]]:
    """(every config, best predicted first; the accuracy / seconds-per-epoch Pareto front)."""
    names = list_studies(storage)
    if study is None:
        if not names:
            raise LoratuneError("no study in this storage: run `loratune sweep` first")
        study = names[-1]
    st = open_study(storage, study, create=False)
    space = study_space(st)
    if space is None:
        raise LoratuneError(f"study {study!r} has no space recorded: not a loratune study")
    trials = records(st)
    fitted = fit_predictor(trials, seed=seed, features=space.features())
    preds = predict_grid(fitted, space, trials)
    front = stats.pareto_front(
        np.array([p.accuracy for p in preds]), np.array([p.latency for p in preds])
    )
    return preds, [preds[i] for i in front]
