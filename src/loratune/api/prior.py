"""Which prior a run starts from (`--prior auto|none|FILE`), and what it says of it.

auto: the prior the package ships for the run's base model (or, where it ships none, the one
built on another model, said so), joined by the finished studies of the same model in the
run's storage. FILE: a prior file (`loratune prior build`). none: today's cold start.
Every source of the target's own domain is left out, whatever the choice: a run is never
told the answer of the grid it could be judged on.
"""

from __future__ import annotations

from dataclasses import dataclass

import optuna

from loratune.errors import LoratuneError
from loratune.prior import SHIPPED, Prior, load_prior, shipped_prior, source_from_records
from loratune.study import records

AUTO, NONE = "auto", "none"


@dataclass(frozen=True)
class PriorChoice:
    """The prior a run uses (None: a cold start) and one line on where it came from."""

    prior: Prior | None
    note: str


def _study_sources(storage: optuna.storages.BaseStorage, model: str, domain: str) -> list:
    """Finished studies of `model` in the storage, each a source (full trials only)."""
    out = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        parts = summary.study_name.split(":")
        if len(parts) != 4 or parts[2] != model or parts[1] == domain:
            continue
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        source = source_from_records(records(study), summary.study_name, model, parts[1], parts[3])
        if source is not None:
            out.append(source)
    return out


def choose_prior(
    choice: str, model: str, domain: str, storage: optuna.storages.BaseStorage | None
) -> PriorChoice:
    if choice == NONE:
        return PriorChoice(None, "none: cold start (Sobol design, then the predictor)")
    if choice == AUTO:
        prior = shipped_prior(model)
        note = f"auto: the shipped prior of {model}"
        if prior is None:
            prior = shipped_prior(SHIPPED)
            note = f"auto: the shipped prior of {SHIPPED}, applied to {model} (another model)"
        if prior is None:
            raise LoratuneError("the package's prior file is missing: reinstall loratune")
        if storage is not None:
            studies = _study_sources(storage, model, domain)
            if studies:
                prior = prior.join(studies)
                note += f", with {len(studies)} finished studies of this storage"
    else:
        prior = load_prior(choice)
        note = f"file {choice}"
        if model not in prior.models:
            note += f" (built on {', '.join(prior.models)}; this run's model is {model})"
    if domain in prior.domains:
        kept = [s for s in prior.sources if s.domain != domain]
        if not kept:
            return PriorChoice(None, note + f"; its only domain is {domain}: cold start")
        prior = prior.without(domain)
        note += f"; its {domain} source left out (the target's own)"
    return PriorChoice(prior, f"{note}; {prior.describe()}")
