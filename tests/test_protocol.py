"""Protocol 2, end to end with tiny-llama: validation decides, the test split only reports,
seeds mean what they say, replay charges what the real trainer spends, margins are exact."""

from __future__ import annotations

import dataclasses
import importlib
from fractions import Fraction
from pathlib import Path

import optuna
import pytest
import torch
from safetensors.torch import load_file

from loratune import api
from loratune.executors.replay import ReplayExecutor, charged_seconds
from loratune.race.run import within
from loratune.space import Config, config_key
from loratune.strategies.autotune import EarlyStop
from loratune.study import open_study
from loratune.study.rows import export_rows
from loratune.trainer import run_trial

LABELS = ("billing", "account", "delivery")
CUES = ("pay", "login", "ship")


def _write(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("text,label\n" + "".join(f"{x},{y}\n" for x, y in rows))
    return path


@pytest.fixture
def splits(tmp_path: Path) -> dict[str, Path]:
    """Train/validation/test files; `test_scrambled` has the same texts with every label
    replaced by one (so its score differs from the true one unless by a freak)."""
    rows = [(f"ticket {i} says {CUES[i % 3]} issue {i * 7}", LABELS[i % 3]) for i in range(120)]
    train, val, test = rows[:48], rows[48:80], rows[80:]
    scrambled = [(x, LABELS[0]) for x, _ in test]
    return {
        "train": _write(tmp_path / "train.csv", train),
        "val": _write(tmp_path / "val.csv", val),
        "test": _write(tmp_path / "test.csv", test),
        "test_scrambled": _write(tmp_path / "scrambled.csv", scrambled),
    }


@pytest.fixture
def space_file(tmp_path: Path) -> Path:
    path = tmp_path / "mini.toml"
    path.write_text(
        'name = "mini"\n[grid]\nrank = [2, 4]\nlearning_rate = [1e-3, 1e-2, 5e-2]\n'
        "[fixed]\nepochs = 2\nbatch_size = 8\nmax_length = 48\n"
    )
    return path


def _autotune(tmp_path: Path, splits, space_file, test_key: str, **kw):
    return api.autotune(
        prior="none",
        data=splits["train"],
        val_data=splits["val"],
        test_data=splits[test_key],
        model="tiny-llama",
        space=space_file,
        explore=3,
        verify=2,
        storage=optuna.storages.InMemoryStorage(),
        study="p",
        device="cpu",
        n_train=None,
        n_val=None,
        n_test=None,
        out=tmp_path / test_key,
        report=False,
        **kw,
    )


def test_scrambled_test_labels_change_nothing_but_the_test_score(tmp_path, splits, space_file):
    true = _autotune(tmp_path, splits, space_file, "test")
    scrambled = _autotune(tmp_path, splits, space_file, "test_scrambled")
    assert config_key(true.best.config) == config_key(scrambled.best.config)
    assert [p.accuracy for p in true.predictions] == [p.accuracy for p in scrambled.predictions]
    for a, b in zip(
        true.explored + true.verified, scrambled.explored + scrambled.verified, strict=True
    ):
        assert config_key(a.config) == config_key(b.config)
        assert (a.accuracy, a.curve, a.full) == (b.accuracy, b.curve, b.full)
        assert a.test_accuracy is None and b.test_accuracy is None  # no trial reads test
    # The pick alone was scored on test, once: with scrambled labels it scores differently.
    assert true.validation.pick.test_total == 40
    # Whether the pick is told apart from the runner-up reads validation hits only.
    assert true.validation.pick_vs_runner_up == scrambled.validation.pick_vs_runner_up
    runner = true.validation.pick_vs_runner_up
    assert runner is None or runner.difference.examples == 32
    assert true.validation.pick.test_correct != scrambled.validation.pick.test_correct
    assert (true.adapter_dir / "adapter_model.safetensors").is_file()
    assert "validation" in (true.adapter_dir / "README.md").read_text().lower()


def test_training_seed_changes_the_adapter_and_repeats_exactly(tiny_base, toy_task, tmp_path):
    cfg = Config(rank=4, alpha=8, learning_rate=1e-2, epochs=1, batch_size=8, max_length=48)

    def adapter(seed: int, name: str) -> dict[str, torch.Tensor]:
        run_trial(
            tiny_base, toy_task, dataclasses.replace(cfg, seed=seed), save_adapter=tmp_path / name
        )
        return load_file(str(tmp_path / name / "adapter_model.safetensors"))

    a, again, b = adapter(0, "a"), adapter(0, "again"), adapter(1, "b")
    assert a.keys() == again.keys() == b.keys()
    assert all(torch.equal(a[k], again[k]) for k in a)
    assert not all(torch.equal(a[k], b[k]) for k in a)


def test_seed_and_data_seed_are_recorded_apart(tmp_path, splits, space_file):
    url = f"sqlite:///{tmp_path}/s.db"
    recs = api.sweep(
        data=splits["train"],
        model="tiny-llama",
        space=space_file,
        n=2,
        storage=url,
        seed=3,
        data_seed=5,
        n_train=24,
        n_val=16,
        n_test=16,
        device="cpu",
    )
    assert all(r.config.seed == 3 and r.metrics["seed"] == 3 for r in recs)
    assert all(r.metrics["data_seed"] == 5 for r in recs)
    row = export_rows(open_study(url, recs[0].attrs.get("study") or _name(url), create=False))[0]
    assert row["config"]["seed"] == 3 and row["data_seed"] == 5 and row["data_sha256"]


def _name(url: str) -> str:
    return optuna.get_all_study_summaries(storage=url)[0].study_name


def test_replay_charges_and_decides_what_the_real_run_did(
    tmp_path, splits, space_file, monkeypatch
):
    """A real autotune with early stopping, and its replay on the ground-truth grid of the same
    configs: the same configs, the same stops, the same values; the replay charges the
    recorded set-up, epochs run and evaluations run, and a really stopped trial never ran
    its test evaluation."""
    search_mod = importlib.import_module("loratune.api.search")

    # A gate that stops anything below the best epoch-1 score, so some trial stops.
    monkeypatch.setattr(search_mod, "EarlyStop", lambda n_val: EarlyStop(n_val=n_val, z=1e-6))
    url = f"sqlite:///{tmp_path}/g.db"
    common = dict(
        data=splits["train"],
        val_data=splits["val"],
        test_data=splits["test"],
        model="tiny-llama",
        space=space_file,
        device="cpu",
        n_train=None,
        n_val=None,
        n_test=None,
    )
    api.sweep(storage=url, study="grid", evaluate_test=True, **common)
    grid = {
        config_key(Config.from_dict(r["config"])): r for r in export_rows(open_study(url, "grid"))
    }
    real = api.autotune(
        prior="none",
        storage=optuna.storages.InMemoryStorage(),
        study="real",
        explore=3,
        verify=2,
        out=tmp_path / "real",
        report=False,
        **common,
    )
    replay_exec = ReplayExecutor(grid)
    replay = api.autotune(
        prior="none",
        storage=optuna.storages.InMemoryStorage(),
        study="replay",
        explore=3,
        verify=2,
        executor=replay_exec,
        out=tmp_path / "replay",
        report=False,
        **common,
    )
    real_trials, replay_trials = real.explored + real.verified, replay.explored + replay.verified
    assert any(not r.full for r in real_trials), "the test needs a stopped trial"
    charged = 0.0
    for a, b in zip(real_trials, replay_trials, strict=True):
        assert config_key(a.config) == config_key(b.config)
        assert a.full == b.full and a.curve == b.curve and a.accuracy == b.accuracy
        m = a.metrics
        own = m["setup_seconds"] + sum(m["epoch_seconds"]) + sum(m["check_seconds"])
        assert m["charged_seconds"] == pytest.approx(own)
        if not a.full:  # stopped: no test evaluation ran, so wall time is what was charged
            assert m["test_seconds"] == 0.0 and a.test_accuracy is None
        row = grid[config_key(b.config)]
        assert b.metrics["charged_seconds"] == pytest.approx(charged_seconds(row, len(b.curve)))
        charged += b.metrics["charged_seconds"]
    assert replay_exec.clock == pytest.approx(charged)
    assert config_key(real.best.config) == config_key(replay.best.config)
    assert real.validation.pick.test_correct == replay.validation.pick.test_correct


def test_margin_is_exact_at_the_boundary():
    best = Fraction(975, 1000)
    assert within(Fraction(965, 1000), best, 0.01)  # exactly 1.0 point below: inside
    assert not within(Fraction(964, 1000), best, 0.01)
    # float32 storage made 0.975 - 0.965 come out as 0.0100000xx: exact counts do not.
    assert within(Fraction(193, 200), Fraction(195, 200), 0.01)
