"""Prior files: sources read from recorded grids or finished studies, saved as JSON.

A source keeps each config it trained to the end and that config's validation score, nothing
else of the row: no test score enters a prior, and a trial stopped early (whose score is its
epoch-1 check accuracy, not its value) is left out. The file names every source (model,
domain, space, the commit its rows were recorded at, where they came from) and how it was
built, so a report can say what the run started from.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from loratune.errors import LoratuneError
from loratune.jsonl import read_utf8
from loratune.prior.model import source_model
from loratune.space import Config
from loratune.study import TrialRecord

FORMAT = 1
SHIPPED = "smollm2-135m"  # the base model the package's own prior was built on
_DATA = "data"  # package folder of the shipped prior files: <model>.json


@dataclass(frozen=True)
class Source:
    """One domain on one base model: configs trained to the end and their validation scores."""

    label: str
    model: str
    domain: str
    space: str
    commit: str
    origin: str  # a grid file or a study name
    configs: tuple[Config, ...]
    validation: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.configs) != len(self.validation) or len(self.configs) < 2:
            raise LoratuneError(f"prior source {self.label}: needs 2+ configs with a score")

    @property
    def shortfall(self) -> tuple[float, ...]:
        """Points below this source's own best validation score, per config."""
        best = max(self.validation)
        return tuple(100.0 * (best - v) for v in self.validation)

    def predict(self, configs: Sequence[Config]) -> np.ndarray:
        return source_model(self.configs, self.shortfall).predict(configs)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["configs"] = [c.to_dict() for c in self.configs]
        d["validation"] = list(self.validation)
        return d


@dataclass(frozen=True)
class Prior:
    """Sources, and how the prior was built (a command, the code's commit)."""

    sources: tuple[Source, ...]
    built: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.sources:
            raise LoratuneError("a prior needs at least one source")

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(sorted({s.model for s in self.sources}))

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(sorted({s.domain for s in self.sources}))

    def shortfall(self, configs: Sequence[Config]) -> np.ndarray:
        """Predicted points below each source's best: one row per source, one column a config."""
        return np.vstack([s.predict(configs) for s in self.sources])

    def without(self, domain: str) -> Prior:
        """The prior with every source of `domain` left out (a target never informs its own)."""
        kept = tuple(s for s in self.sources if s.domain != domain)
        if not kept:
            raise LoratuneError(f"the prior has no source besides {domain!r}")
        return dataclasses.replace(self, sources=kept)

    def join(self, more: Iterable[Source]) -> Prior:
        labels = {s.label for s in self.sources}
        extra = tuple(s for s in more if s.label not in labels)
        return dataclasses.replace(self, sources=self.sources + extra)

    def describe(self) -> str:
        """One line: its sources, their model(s)."""
        names = ", ".join(f"{s.domain} ({s.model}, {len(s.configs)} configs)" for s in self.sources)
        return f"{len(self.sources)} sources: {names}"


def _validation(row: Mapping[str, Any]) -> float | None:
    value = row.get("validation_accuracy", row.get("accuracy"))
    return None if value is None else float(value)


def source_from_rows(rows: Sequence[Mapping[str, Any]], origin: str, label: str = "") -> Source:
    """A source from a recorded grid's rows (or a results.jsonl): complete, full trials only;
    their config and validation score, never their test score."""
    kept = [
        r
        for r in rows
        if r.get("status") == "complete"
        and not r.get("stopped_early")
        and _validation(r) is not None
    ]
    if len(kept) < 2:
        raise LoratuneError(f"{origin}: fewer than 2 complete trials to build a prior from")
    first = kept[0]
    study = str(first.get("study") or "")
    space = study.split(":")[3] if study.count(":") >= 3 else "default"
    model, domain = str(first.get("model") or "unknown"), str(first.get("domain") or "unknown")
    commit = str((first.get("provenance") or {}).get("git_commit") or "unknown")
    by_key: dict[Config, float] = {}
    for r in kept:  # a config recorded twice (a retry) counts once, its last score
        by_key[Config.from_dict(dict(r["config"]))] = _validation(r)  # type: ignore[assignment]
    return Source(
        label or f"{model}/{domain}",
        model,
        domain,
        space,
        commit,
        origin,
        tuple(by_key),
        tuple(by_key.values()),
    )


def source_from_records(
    records: Sequence[TrialRecord], origin: str, model: str, domain: str, space: str = "default"
) -> Source | None:
    """A source from a finished study's trials (full ones only); None with fewer than two."""
    full = [r for r in records if r.full and r.accuracy is not None]
    if len(full) < 2:
        return None
    return Source(
        f"{model}/{domain}:{origin}",
        model,
        domain,
        space,
        "study",
        origin,
        tuple(r.config for r in full),
        tuple(float(r.accuracy) for r in full),  # type: ignore[arg-type]
    )


def build_prior(sources: Sequence[Source], built: Mapping[str, str] | None = None) -> Prior:
    labels = [s.label for s in sources]
    if len(set(labels)) != len(labels):
        raise LoratuneError(f"prior sources must have distinct labels: {labels}")
    return Prior(tuple(sources), dict(built or {}))


def save_prior(prior: Prior, path: str | Path) -> None:
    doc = {
        "format": FORMAT,
        "built": dict(prior.built),
        "models": list(prior.models),
        "sources": [s.to_dict() for s in prior.sources],
    }
    Path(path).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def load_prior(path: str | Path) -> Prior:
    """A prior file; a missing or malformed one is a one-line error."""
    try:
        doc = json.loads(read_utf8(str(path)))
        if doc.get("format") != FORMAT:
            raise LoratuneError(f"prior file {path}: format {doc.get('format')!r}, expected 1")
        sources = tuple(
            Source(
                **{k: s[k] for k in ("label", "model", "domain", "space", "commit", "origin")},
                configs=tuple(Config.from_dict(c) for c in s["configs"]),
                validation=tuple(float(v) for v in s["validation"]),
            )
            for s in doc["sources"]
        )
        return Prior(sources, dict(doc.get("built") or {}))
    except LoratuneError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LoratuneError(f"cannot read prior file {path}: {exc}") from None


def shipped_prior(model: str = SHIPPED) -> Prior | None:
    """The prior the package ships for `model`, or None where it ships none."""
    ref = resources.files("loratune.prior").joinpath(_DATA, f"{model}.json")
    if not ref.is_file():
        return None
    with resources.as_file(ref) as path:
        return load_prior(path)
