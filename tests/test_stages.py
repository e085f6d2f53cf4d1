"""`loratune.autotune` as a pipeline: its stages run in order, each returns its own read-only
result built from the previous one's, and the separating trials keep their own pruner."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any

import pytest

from loratune import api, stats
from loratune.api import stages
from loratune.stats import PairedDifference
from loratune.study import records
from loratune.study.pruner import EarlyStop

ORDER = [
    ("prepare", stages.Prepared),
    ("search", stages.Searched),
    ("pick", stages.Picked),
    ("separate", stages.Separated),
    ("test_once", stages.Tested),
    ("validate", stages.Validated),
    ("keep_and_card", stages.Kept),
    ("report", api.AutotuneResult),
]


def _within_noise(a: str, b: str) -> PairedDifference:
    return PairedDifference(len(a), 0, 0, 1.0)


def test_autotune_runs_its_stages_in_order(tmp_path: Path, data_csv: Path, monkeypatch) -> None:
    pipeline = importlib.import_module("loratune.api.autotune")
    search = importlib.import_module("loratune.api.search")
    seen: list[tuple[str, Any]] = []
    for name, _ in ORDER:
        stage = getattr(pipeline, name)

        def traced(*args: Any, _name: str = name, _stage: Any = stage, **kw: Any) -> Any:
            out = _stage(*args, **kw)
            seen.append((_name, out))
            return out

        monkeypatch.setattr(pipeline, name, traced)
    # The search prunes anything below the best first epoch; the top two are within noise,
    # so the separate stage trains both again with the next seed, under its own pruner.
    monkeypatch.setattr(search, "EarlyStop", lambda n_val: EarlyStop(n_val=n_val, z=1e-6))
    monkeypatch.setattr(stats, "paired_difference", _within_noise)
    (tmp_path / "grid.toml").write_text(
        'name = "mini"\n[grid]\nrank = [2, 4]\nlearning_rate = [1e-3, 1e-2, 5e-2]\n'
        "[fixed]\nepochs = 2\nbatch_size = 8\nmax_length = 48\n"
    )
    result = api.autotune(
        prior="none",
        data=data_csv,
        model="tiny-llama",
        space=tmp_path / "grid.toml",
        explore=3,
        verify=1,
        separate=2,
        storage=f"sqlite:///{tmp_path}/s.db",
        study="stages",
        device="cpu",
        n_train=24,
        out=tmp_path / "run",
        report=False,
    )
    assert [(name, type(out)) for name, out in seen] == ORDER
    results = [out for _, out in seen]
    assert results[-1] is result
    # Each result holds the previous one's fields, unchanged, and cannot be changed itself.
    for before, after in zip(results[:-2], results[1:-1], strict=True):
        for f in dataclasses.fields(before):
            assert getattr(after, f.name) is getattr(before, f.name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        results[1].trials = ()  # type: ignore[misc]
    prepared, searched, picked, separated, tested, validated, kept = results[:-1]
    assert prepared.plan.early_stop is not None and prepared.plan.prior.startswith("none")
    assert {r.metrics["phase"] for r in searched.trials} <= {"explore", "verify"}
    assert picked.best.number in {r.number for r in searched.trials}
    assert separated.separation is not None and separated.separation.extra_trials == 2
    assert tested.tested["trial"] == separated.pick.number == result.best.number
    assert validated.validation.pick.config == separated.pick.config.describe()
    assert kept.adapter_dir == tmp_path / "run" / "adapter"
    # The separating trials ran every epoch: the search's rule is not theirs.
    again = [r for r in records(prepared.job.study) if r.metrics["phase"] == "separate"]
    assert [r.full for r in again] == [True, True]
