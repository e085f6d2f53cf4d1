"""The strategy race on small fake grids: no training, every trial replayed in milliseconds."""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest

from loratune.api.autotune import DEFAULT_EARLY_STOP
from loratune.errors import LoratuneError
from loratune.executors.replay import ReplayExecutor
from loratune.predictor import ForestSurrogate, Predictor
from loratune.space import config_key, load_space
from loratune.strategies.race import (
    Autotune,
    AutotuneTransfer,
    EarlyStop,
    Exhaustive,
    Hyperband,
    OptunaSearch,
    RandomSearch,
    Strategy,
    SuccessiveHalving,
    quick_fit,
    run_strategy,
    space_from_grid,
)
from loratune.strategies.race.multifidelity import hyperband_brackets
from loratune.strategies.race.run import keyed_grid

ROOT = Path(__file__).resolve().parents[1]
SPACE_TOML = (
    'name = "mini"\n[grid]\nrank = [4, 8, 16]\nlearning_rate = [1e-4, 1e-3, 1e-2]\n'
    "weight_decay = [0.0, 0.1]\n[fixed]\nalpha_ratio = 2\nepochs = 3\n"
)


def fake_rows(domain: str = "support", seed: int = 0, shift: float = 0.0) -> list[dict[str, Any]]:
    """A 3 x 3 x 2 grid: a smooth surface in log learning rate and rank, a little noise, and
    learning rate 1e-2 diverging (accuracy near chance), as real LoRA grids do."""
    rng = np.random.default_rng(seed)
    rows = []
    for rank, lr, wd in itertools.product((4, 8, 16), (1e-4, 1e-3, 1e-2), (0.0, 0.1)):
        if lr >= 1e-2:
            acc = 0.25 + shift
        else:
            acc = 0.8 + shift - 0.1 * (math.log10(lr) + 3.3) ** 2 + 0.02 * math.log2(rank / 4)
        acc = float(np.clip(acc - 0.05 * wd + rng.normal(0, 0.005), 0, 1))
        curve = [float(np.clip(acc * f + rng.normal(0, 0.01), 0, 1)) for f in (0.7, 0.9, 1.0)]
        latency = 2.0 + 0.05 * rank
        rows.append(
            {
                "status": "complete",
                "domain": domain,
                "model": "fake",
                "study": f"sweep:{domain}:fake:mini",
                "config": {
                    "rank": rank,
                    "alpha": 2.0 * rank,
                    "learning_rate": lr,
                    "weight_decay": wd,
                    "epochs": 3,
                },
                "accuracy": acc,
                "curve": curve,
                "latency": latency,
                "wall_seconds": 3 * latency + 1.0,
                "cost": 0.0,
                "provenance": {"git_commit": "abc1234"},
            }
        )
    return rows


@pytest.fixture
def rows() -> list[dict[str, Any]]:
    return fake_rows()


@pytest.fixture
def fast_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cheap stand-in for the predictor's model selection (cross-validating a GP takes
    seconds); the strategies' logic around it is what these tests check."""

    def fit(cls: type[Predictor], x: Any, targets: Any, seed: int = 0) -> Predictor:
        return cls(
            {
                k: ForestSurrogate(seed=seed, n_trees=10).fit(x, np.asarray(y))
                for k, y in targets.items()
            },
            {},
        )

    monkeypatch.setattr(Predictor, "fit", classmethod(fit))


def _strategies(rows: list[dict[str, Any]]) -> dict[str, Callable[[], Strategy]]:
    other = fake_rows("legal", seed=1, shift=-0.1)
    return {
        "exhaustive": Exhaustive,
        "random": lambda: RandomSearch(5),
        "autotune": lambda: Autotune(4, 2),
        "autotune-es": lambda: Autotune(4, 2, early_stop=EarlyStop()),
        "transfer": lambda: AutotuneTransfer(
            {"fake/legal": other, "fake/support": rows}, "support", 3, 2
        ),
        "tpe": lambda: OptunaSearch("tpe", 8),
        "gp": lambda: OptunaSearch("gp", 11),
        "hyperband": Hyperband,
        "asha": SuccessiveHalving,
    }


def test_space_is_inferred_from_the_grid(rows):
    space = space_from_grid(rows)
    assert len(space) == 18
    assert space.grid["learning_rate"] == (1e-4, 1e-3, 1e-2)
    assert space.fixed["alpha_ratio"] == 2.0
    with pytest.raises(LoratuneError, match="cross product"):
        space_from_grid(rows[:-1])


def test_exhaustive_finds_the_best_with_the_whole_compute(rows):
    result = run_strategy(Exhaustive(), rows, seed=0)
    assert result.regret == 0 and result.success
    assert result.best_accuracy == max(r["accuracy"] for r in rows)
    assert result.compute_fraction == pytest.approx(1.0)
    assert result.epoch_fraction == pytest.approx(1.0)
    assert result.trials == result.full_trials == 18


def test_random_search_uses_exactly_n_distinct_trials(rows):
    result = run_strategy(RandomSearch(5), rows, seed=1)
    assert result.trials == result.full_trials == 5
    assert len({s.config for s in result.trace}) == 5
    assert result.compute_fraction < 0.5


def test_hyperband_brackets_follow_li_et_al():
    # R = 3 epochs, eta = 3: 3 configs at 1 epoch then the best at 3; then 2 configs at 3.
    assert [[(r.size, r.epochs) for r in b] for b in hyperband_brackets(3, 3)] == [
        [(3, 1), (1, 3)],
        [(2, 3)],
    ]


def test_hyperband_charges_fewer_epochs_than_exhaustive(rows):
    hb = run_strategy(Hyperband(), rows, seed=0)
    grid = run_strategy(Exhaustive(), rows, seed=0)
    assert hb.epochs < grid.epochs
    assert any(not s.full for s in hb.trace), "some configs must stop after epoch 1"
    # a promoted config is trained again, to its full epochs
    assert hb.trials > len({s.config for s in hb.trace})
    budgeted = run_strategy(Hyperband(budget_epochs=24), rows, seed=0)
    assert budgeted.epochs <= 24 and budgeted.full_trials >= 1


def test_asha_stops_weak_configs_after_epoch_one(rows):
    result = run_strategy(SuccessiveHalving(), rows, seed=0)
    stopped = [s for s in result.trace if not s.full]
    assert stopped and result.epochs == 3 * 18 - 2 * len(stopped)
    assert run_strategy(SuccessiveHalving(budget_epochs=20), rows, seed=0).epochs <= 20


def test_early_stop_rule_is_a_two_proportion_test():
    rule = EarlyStop(n_val=32, z=2.0)
    assert rule.should_stop(0.2, 0.6)  # 40 points below on 32 examples: not chance
    assert not rule.should_stop(0.5, 0.6)  # 10 points: could be chance at n = 32
    assert not rule.should_stop(0.7, 0.6)
    assert EarlyStop(n_val=2000).should_stop(0.5, 0.6)  # with many examples it is not chance


def test_autotune_early_stop_saves_epochs_on_diverging_configs(rows, fast_fit):
    plain = run_strategy(Autotune(6, 3), rows, seed=0)
    early = run_strategy(Autotune(6, 3, early_stop=EarlyStop()), rows, seed=0)
    assert [s.config for s in early.trace][:6] == [s.config for s in plain.trace][:6]
    assert early.epochs < plain.epochs
    assert early.regret == pytest.approx(plain.regret, abs=0.02)


@pytest.mark.parametrize(
    "name",
    [
        "exhaustive",
        "random",
        "autotune",
        "autotune-es",
        "transfer",
        "tpe",
        "gp",
        "hyperband",
        "asha",
    ],
)
def test_every_strategy_is_deterministic_given_its_seed(rows, fast_fit, name):
    make = _strategies(rows)[name]
    first = run_strategy(make(), rows, seed=7)
    again = run_strategy(make(), rows, seed=7)
    assert first.trace == again.trace
    assert first.to_dict() == again.to_dict()
    strategy = make()  # one instance reused: reset() must forget the last run
    run_strategy(strategy, rows, seed=3)
    assert run_strategy(strategy, rows, seed=7).trace == first.trace


def test_random_strategies_depend_on_the_seed(rows):
    traces = {
        tuple(s.config for s in run_strategy(RandomSearch(5), rows, seed=s).trace) for s in range(4)
    }
    assert len(traces) > 1


@pytest.mark.parametrize("early_stop", [False, True])
def test_autotune_replays_loratune_autotune_decisions(rows, tmp_path, early_stop):
    """The race's autotune asks for exactly the configs `loratune.autotune` trains, in order,
    and stops the same trials early (real predictor: three explored trials keep its fit to one
    GP per target)."""
    from loratune import api

    space_file = tmp_path / "mini.toml"
    space_file.write_text(SPACE_TOML)
    result = api.autotune(
        "financial",
        model="smollm2-135m",
        space=space_file,
        explore=3,
        verify=2,
        storage=optuna.storages.InMemoryStorage(),
        study="replay",
        seed=5,
        early_stop=early_stop,
        executor=ReplayExecutor(keyed_grid(rows)),
        report=False,
    )
    strategy = Autotune(3, 2, early_stop=EarlyStop() if early_stop else None)
    race = run_strategy(strategy, rows, seed=5, space=load_space(space_file))
    api_trials = result.explored + result.verified
    assert [s.config for s in race.trace] == [config_key(r.config) for r in api_trials]
    assert [s.full for s in race.trace] == [r.full for r in api_trials]
    assert race.best_accuracy == pytest.approx(result.best.accuracy)


def test_quick_fit_keeps_the_predictor_and_its_model_choice(rows):
    x = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.5], [4.0, 0.2]])
    targets = {"accuracy": np.array([0.5, 0.6, 0.7, 0.65, 0.6]), "latency": np.arange(5.0)}
    predictor = quick_fit(x, targets, seed=0)
    assert set(predictor.cv_scores["accuracy"]) == {"gp", "forest", "boosting"}
    assert predictor.chosen["latency"] == "forest"
    a = run_strategy(Autotune(4, 2, fit=quick_fit), rows, seed=2)
    b = run_strategy(Autotune(4, 2, fit=quick_fit), rows, seed=2)
    assert a.trace == b.trace and a.trials == 6


def test_transfer_uses_other_domains_and_leaves_the_target_out(rows, fast_fit):
    sources = {
        "fake/support": rows,  # the target itself
        "other-model/support": fake_rows("support", seed=3),  # the target domain on another model
        "fake/legal": fake_rows("legal", seed=1, shift=-0.1),
    }
    strategy = AutotuneTransfer(sources, "support", explore=3, verify=2)
    assert set(strategy.sources) == {"fake/legal"}
    assert all(len(v) == 18 for v in strategy.sources.values())
    result = run_strategy(strategy, rows, seed=0)
    assert result.trials == 5 and result.full_trials == 5
    with pytest.raises(LoratuneError, match="another domain"):
        AutotuneTransfer({"fake/support": rows}, "support")


def test_optuna_search_never_trains_a_config_twice(rows):
    result = run_strategy(OptunaSearch("tpe", 18), rows, seed=0)
    assert result.trials == 18 == len({s.config for s in result.trace})
    assert result.regret == 0


def test_run_strategy_refuses_a_grid_missing_configs(rows, tmp_path):
    space_file = tmp_path / "mini.toml"
    space_file.write_text(SPACE_TOML)
    with pytest.raises(LoratuneError, match="lacks 1 configs"):
        run_strategy(Exhaustive(), rows[:-1], seed=0, space=load_space(space_file))


ALL_NAMES = [
    "exhaustive",
    "random",
    "document-recipe",
    "loratune-default",
    "optuna-tpe",
    "optuna-gp",
    "hyperband",
    "asha",
    # The default's early stopping switched: whichever way the default is set.
    "autotune-no-early-stop" if DEFAULT_EARLY_STOP else "autotune-early-stop",
    "autotune-transfer",
]


def _load_bench(monkeypatch: pytest.MonkeyPatch) -> Any:
    spec = importlib.util.spec_from_file_location("race_bench", ROOT / "benchmarks" / "race.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "race_bench", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _write_grid(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_bench_writes_results_with_the_required_keys(tmp_path, fast_fit, monkeypatch):
    grids = tmp_path / "grids"
    _write_grid(grids / "fake" / "support.jsonl", fake_rows("support"))
    _write_grid(grids / "fake" / "legal.jsonl", fake_rows("legal", seed=1, shift=-0.1))
    _write_grid(grids / "fake" / "growing.jsonl", fake_rows("growing", seed=2)[:7])
    space_file = tmp_path / "mini.toml"
    space_file.write_text(SPACE_TOML)
    out = tmp_path / "out"
    bench = _load_bench(monkeypatch)
    names = [n for n in ALL_NAMES if n != "optuna-gp"]  # GP: seconds per proposal; tested above
    bench.main(
        ["--grids-dir", str(grids), "--space", str(space_file), "--seeds", "2", "--jobs", "1"]
        + ["--out", str(out), "--faithful", "--strategies", *names]  # faithful: fast_fit applies
    )
    data = json.loads((out / "results.json").read_text())
    strategies = data["strategies"]
    assert set(strategies) == set(names)
    for name, s in strategies.items():
        assert {"success_rate", "compute_fraction", "mean_regret", "epoch_fraction"} <= set(s)
        assert s["runs"] == 4  # 2 grids x 2 seeds
        assert ("wilcoxon_vs_default" in s) == (name != "loratune-default")
    assert strategies["exhaustive"]["compute_fraction"] == pytest.approx(1.0)
    assert strategies["exhaustive"]["mean_regret"] == 0
    assert [g["label"] for g in data["grids"]] == ["fake/legal", "fake/support"]
    assert data["skipped"][0]["label"] == "fake/growing"
    md = (out / "RESULTS.md").read_text()
    assert "incomplete: 7 of 18 configs" in md and "abc1234" in md
    assert (out / "regret_vs_compute.png").stat().st_size > 0
