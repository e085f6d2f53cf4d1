"""The strategy race on small fake grids: no training, every trial replayed in milliseconds."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from benchmark_loader import load_benchmark
from conftest import ground_truth_fields

from loratune.api.autotune import DEFAULT_EARLY_STOP
from loratune.errors import LoratuneError
from loratune.executors.replay import ReplayExecutor, replayed_result
from loratune.predictor import ForestSurrogate, Predictor
from loratune.race import (
    Autotune,
    AutotuneTransfer,
    CurveStop,
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
from loratune.race.run import keyed_grid
from loratune.space import config_key, load_space
from loratune.strategies.base import Observation
from loratune.strategies.multifidelity import hyperband_brackets

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
                # Validation a little noisier than test, as a smaller split is.
                **ground_truth_fields(
                    float(np.clip(acc + rng.normal(0, 0.01), 0, 1)), curve, latency, test_acc=acc
                ),
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

    def fit(
        cls: type[Predictor], x: Any, targets: Any, seed: int = 0, time_extra: Any = ()
    ) -> Predictor:
        return cls(
            {
                k: ForestSurrogate(seed=seed, n_trees=10).fit(x, np.asarray(y))
                for k, y in targets.items()
            },
            {},
        )

    monkeypatch.setattr(Predictor, "fit", classmethod(fit))


def _strategies(
    rows: list[dict[str, Any]], other: list[dict[str, Any]] | None = None
) -> dict[str, Callable[[], Strategy]]:
    other = other or fake_rows("legal", seed=1, shift=-0.1)
    return {
        "exhaustive": Exhaustive,
        "random": lambda: RandomSearch(5),
        "autotune": lambda: Autotune(4, 2),
        "autotune-es": lambda: Autotune(4, 2, early_stop=EarlyStop(n_val=50)),
        "autotune-curve": lambda: Autotune(4, 2, early_stop=CurveStop(n_val=50)),
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
    """Exhaustive search trains everything, picks by validation, and is judged on test: its
    regret is the gap between the test accuracy of its validation pick and the grid's best."""
    result = run_strategy(Exhaustive(), rows, seed=0)
    top = max(enumerate(rows), key=lambda p: (p[1]["val_correct"], -p[0]))[1]
    assert result.best_config.to_dict()["rank"] == top["config"]["rank"]
    assert result.best_accuracy == pytest.approx(top["test_accuracy"])
    best = max(r["test_accuracy"] for r in rows)
    assert result.regret == pytest.approx(best - top["test_accuracy"])
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


def test_asha_keeps_a_trial_only_within_the_top_third_at_epoch_one(rows):
    """Optuna's SuccessiveHalvingPruner rule, checked from outside: with one worker each trial
    competes with the epoch-1 values of the trials before it, itself included."""
    grid = keyed_grid(rows)
    seen: list[float] = []
    for step in run_strategy(SuccessiveHalving(), rows, seed=0).trace:
        value = float(grid[step.config]["curve"][0])
        competing = sorted([*seen, value], reverse=True)
        assert step.full == (value >= competing[max(len(competing) // 3 - 1, 0)])
        seen.append(value)


def _asha_on(rows: list[dict[str, Any]]) -> tuple[SuccessiveHalving, list[Any]]:
    strategy = SuccessiveHalving()
    space = space_from_grid(rows)
    strategy.reset(space, seed=0)
    return strategy, space.configs()


def test_asha_counts_a_running_trials_rung_value(rows):
    """As published (and as Optuna's pruner does), a value counts at its rung as soon as it is
    reported, before its trial finishes: with fewer than eta values a trial must be the best."""
    strategy, configs = _asha_on(rows)
    assert strategy.on_epoch(configs[0], 0, 0.9)  # still running: not in the history
    assert not strategy.on_epoch(configs[1], 0, 0.5)
    assert strategy.on_epoch(configs[2], 0, 0.95)


def test_asha_counts_finished_trials_it_did_not_run(rows):
    """Trials of another process on a shared study appear only in the history: each is
    replayed into the pruner's study, every rung it reached included."""
    strategy, configs = _asha_on(rows)
    grid = keyed_grid(rows)
    done = sorted(configs, key=lambda c: -grid[config_key(c)]["curve"][0])[:2]
    strategy.tell([Observation(c, replayed_result(grid[config_key(c)], 3)) for c in done])
    best = grid[config_key(done[0])]["curve"][0]
    new, newer = [c for c in configs if c not in done][:2]
    assert not strategy.on_epoch(new, 0, best - 0.01)
    assert strategy.on_epoch(new, 1, 0.0)  # epoch 2 is no rung
    assert strategy.on_epoch(newer, 0, best)


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
        "autotune-curve",
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
    """One strategy, two recorders: `loratune.autotune` (the study, whose pruner stops trials)
    and the race (memory, the strategy's own rule) train the same configs in the same order
    and stop the same trials (real predictor: three explored trials keep its fit small)."""
    from loratune import api

    space_file = tmp_path / "mini.toml"
    space_file.write_text(SPACE_TOML)
    result = api.autotune(
        "financial",
        prior="none",
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
    assert config_key(race.best_config) == config_key(result.best.config)
    assert race.best_accuracy == pytest.approx(result.validation.pick.test_accuracy)


def test_quick_fit_keeps_the_predictor_and_its_model_choice(rows):
    x = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.5], [4.0, 0.2]])
    targets = {"accuracy": np.array([0.5, 0.6, 0.7, 0.65, 0.6]), "latency": np.arange(5.0)}
    predictor = quick_fit(x, targets, seed=0)
    assert set(predictor.cv_scores["accuracy"]) == {"gp", "forest", "boosting"}
    assert predictor.chosen["latency"] == "robust-linear"  # the product's time model
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


def test_success_at_the_noise_margin_is_exact_at_the_boundary(rows):
    seed = next(s for s in range(20) if run_strategy(RandomSearch(3), rows, seed=s).regret > 0)
    plain = run_strategy(RandomSearch(3), rows, seed=seed)
    assert plain.success_noise is None  # no noise margin given
    regret = round(plain.regret, 6)  # a multiple of 1/400: test counts of 400
    at = run_strategy(RandomSearch(3), rows, seed=seed, noise_within=regret)
    below = run_strategy(RandomSearch(3), rows, seed=seed, noise_within=regret - 0.0025)
    assert at.success_noise is True and below.success_noise is False
    assert at.success == below.success == plain.success  # the 1-point success is unchanged


def test_run_strategy_refuses_a_grid_missing_configs(rows, tmp_path):
    space_file = tmp_path / "mini.toml"
    space_file.write_text(SPACE_TOML)
    with pytest.raises(LoratuneError, match="lacks 1 configs"):
        run_strategy(Exhaustive(), rows[:-1], seed=0, space=load_space(space_file))


# ------------------------------------------------------------------- validation decides


def _scramble_tests(rows: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """The same rows with every test field drawn at random: a strategy that reads none of
    them asks for the same configs and picks the same one."""
    rng = np.random.default_rng(seed)
    out = []
    for r in rows:
        n = r["test_total"]
        correct = int(rng.integers(0, n + 1))
        hits = "".join(rng.choice(["0", "1"], n))
        out.append({**r, "test_correct": correct, "test_accuracy": correct / n, "test_hits": hits})
    return out


@pytest.mark.parametrize(
    "name",
    ["exhaustive", "random", "autotune", "autotune-es", "autotune-curve", "transfer", "tpe"]
    + ["gp", "hyperband", "asha"],
)
def test_no_strategy_reads_a_test_field(rows, fast_fit, name):
    """Test labels scrambled: the same configs asked, stopped and charged, the same
    predictions, the same pick; only the judge's number may change."""
    other = fake_rows("legal", seed=1, shift=-0.1)
    scrambled_rows, scrambled_other = _scramble_tests(rows, 1), _scramble_tests(other, 2)
    a = _strategies(rows, other)[name]()
    b = _strategies(scrambled_rows, scrambled_other)[name]()
    true = run_strategy(a, rows, seed=4)
    fake = run_strategy(b, scrambled_rows, seed=4)
    assert [(s.config, s.full, s.seconds, s.epochs) for s in true.trace] == [
        (s.config, s.full, s.seconds, s.epochs) for s in fake.trace
    ]
    assert config_key(true.best_config) == config_key(fake.best_config)
    assert true.compute_fraction == fake.compute_fraction
    if isinstance(a, Autotune):
        assert a.predictions is not None and b.predictions is not None
        assert [(config_key(p.config), p.accuracy, p.accuracy_std) for p in a.predictions] == [
            (config_key(p.config), p.accuracy, p.accuracy_std) for p in b.predictions
        ]
    if name == "exhaustive":  # the judge reads the test fields: scrambling them shows
        assert (fake.regret, fake.best_accuracy) != (true.regret, true.best_accuracy)


# ------------------------------------------------------------------ the curve stopping rule


def _is_slow(config: dict[str, Any]) -> bool:
    return config["rank"] == 16 and config["learning_rate"] == 1e-3 and config["weight_decay"] == 0


def _slow_starter_rows() -> list[dict[str, Any]]:
    """fake_rows with one of the best configs starting slowly (epoch-1 check accuracy 0.3,
    then 0.76 and its full accuracy), as a high learning rate does."""
    rows = fake_rows()
    for r in rows:
        if _is_slow(r["config"]):
            acc = r["test_accuracy"]
            r.update(ground_truth_fields(r["accuracy"], [0.3, 0.76, acc], 2.8, test_acc=acc))
    return rows


def test_curve_stop_rule_reads_the_slope():
    rule = CurveStop(n_val=50, z=2.0, at=2)
    assert rule.keep_going([0.3], [0.7], epochs=3)  # epoch 1: never judged
    assert rule.projected([0.3, 0.76], 3) == pytest.approx(1.0)
    assert rule.keep_going([0.3, 0.76], [0.8], epochs=3)  # still climbing fast: goes on
    assert not rule.keep_going([0.2, 0.22], [0.8], epochs=3)  # flat and far below: stops
    assert rule.keep_going([0.2, 0.22], [], epochs=3)  # nothing to compare with yet
    assert rule.keep_going([0.2, 0.22], [0.8], epochs=2)  # the last epoch is never cut
    with pytest.raises(LoratuneError):
        CurveStop(at=0)


def test_curve_stop_stops_at_epoch_two_and_replay_charges_what_ran(fast_fit):
    from loratune.executors.replay import charged_seconds

    rows = _slow_starter_rows()
    grid = keyed_grid(rows)
    every = len(rows)  # explore the whole grid, in Sobol order: every trial is judged
    curve = run_strategy(Autotune(every, 1, early_stop=CurveStop(n_val=50)), rows, seed=0)
    first = run_strategy(Autotune(every, 1, early_stop=EarlyStop(n_val=50)), rows, seed=0)
    for result, stop_epochs in ((curve, 2), (first, 1)):
        stopped = [s for s in result.trace if not s.full]
        assert stopped, "the diverging configs must be stopped"
        epochs = {s.config: 3 if s.full else stop_epochs for s in result.trace}
        assert result.epochs == sum(epochs.values())
        assert result.seconds == pytest.approx(
            sum(charged_seconds(grid[k], e) for k, e in epochs.items())
        )
    slow = next(k for k, r in grid.items() if _is_slow(r["config"]))
    assert slow in {s.config for s in first.trace if not s.full}, "epoch 1 cuts the slow starter"
    assert slow in {s.config for s in curve.trace if s.full}, "the curve rule lets it finish"
    # It costs an epoch per stopped trial more than the epoch-1 rule.
    assert curve.epochs > first.epochs


def test_false_stops_count_stopped_configs_near_the_best(tmp_path, fast_fit):
    from loratune.race.checks import false_stops
    from loratune.race.grids import read_grid

    path = tmp_path / "fake" / "support.jsonl"
    _write_grid(path, _slow_starter_rows())
    space = space_from_grid(_slow_starter_rows())
    grid = read_grid(path, space)
    runs = {
        (grid.label, seed): run_strategy(
            Autotune(18, 1, early_stop=EarlyStop(n_val=50)), grid.rows, seed=seed, space=space
        )
        for seed in range(2)
    }
    stats = false_stops(runs, grid)
    stopped = [s.config for r in runs.values() for s in r.trace if not s.full]
    assert stats["runs"] == 2 and stats["stops"] == len(stopped)
    best = max(r["test_correct"] for r in grid.rows.values())
    near = [k for k in stopped if best - grid.rows[k]["test_correct"] <= 8]  # 2 pt of 400
    assert stats["false_stops"] == len(near) >= 2  # the slow starter, once per seed
    assert stats["configs_falsely_stopped"] == len(set(near))


# ------------------------------------------------------------------------------ statistics


def test_reached_counts_runs_that_trained_a_config_near_the_best(tmp_path, rows):
    from loratune.race.checks import near_best, reached
    from loratune.race.grids import read_grid

    path = tmp_path / "fake" / "support.jsonl"
    _write_grid(path, rows)
    grid = read_grid(path, space_from_grid(rows))
    best = max(r["test_correct"] for r in grid.rows.values())
    near = near_best(grid)  # within 1 point: 4 of 400 test examples
    assert near == {k for k, r in grid.rows.items() if best - r["test_correct"] <= 4}
    runs = {(grid.label, s): run_strategy(RandomSearch(2), grid.rows, seed=s) for s in range(8)}
    hit = [any(st.full and st.config in near for st in r.trace) for r in runs.values()]
    assert 0 < sum(hit) < 8, "the draws must include both kinds of run"
    assert reached(runs, [grid]) == pytest.approx(sum(hit) / 8)
    for r, h in zip(runs.values(), hit, strict=True):
        assert h or not r.success  # success needs a near-best config trained
    every = {(grid.label, 0): run_strategy(Exhaustive(), grid.rows, seed=0)}
    assert reached(every, [grid]) == 1.0


def test_holm_adjusts_a_hand_example():
    from loratune.race.compare import holm

    # Sorted: 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04, raised to 0.06 (monotone).
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": None, "e": 0.5})
    assert adjusted["a"] == pytest.approx(0.04)  # 4 tests: 0.01 x 4
    assert adjusted["c"] == pytest.approx(0.09)  # 0.03 x 3
    assert adjusted["b"] == pytest.approx(0.09)  # 0.04 x 2 = 0.08, raised to 0.09
    assert adjusted["e"] == pytest.approx(0.5)  # 0.5 x 1, above 0.09
    assert adjusted["d"] is None
    assert holm({"x": 0.3, "y": 0.4}) == {"x": pytest.approx(0.6), "y": pytest.approx(0.6)}
    assert holm({"x": 0.9, "y": 0.8}) == {"x": 1.0, "y": 1.0}


def test_regret_vs_exhaustive_is_a_paired_difference(rows):
    from loratune.race.compare import mean_ci, regret_vs

    exhaustive = {("g", s): run_strategy(Exhaustive(), rows, seed=s) for s in range(3)}
    assert regret_vs(exhaustive, exhaustive) == {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    rand = {("g", s): run_strategy(RandomSearch(3), rows, seed=s) for s in range(3)}
    d = [rand[k].regret - exhaustive[k].regret for k in exhaustive]
    r = regret_vs(exhaustive, rand)
    assert r["mean"] == pytest.approx(np.mean(d))
    assert r["ci_low"] <= r["mean"] <= r["ci_high"]
    ci = mean_ci([0.0, 0.01, 0.02, 0.0, 0.03, 0.01])
    assert 0 <= ci["ci_low"] < ci["mean"] < ci["ci_high"] <= 0.03


def test_intervals_resample_grids_with_seeds_nested():
    """A strategy deterministic per grid: its 20 seeds per grid are copies. Resampling runs
    as independent draws gives an interval far too narrow; over grids it spans the grids."""
    from loratune.race.compare import mean_ci, nested_ci

    per_grid = {"a": 0.0, "b": 0.02, "c": 0.0, "d": 0.05}
    values = {(g, s): v for g, v in per_grid.items() for s in range(20)}
    nested = nested_ci(values)
    naive = mean_ci(list(values.values()))
    assert nested["mean"] == pytest.approx(naive["mean"]) == pytest.approx(0.0175)
    assert nested["grids"] == 4
    assert nested["ci_high"] - nested["ci_low"] > 3 * (naive["ci_high"] - naive["ci_low"])
    assert nested["ci_low"] >= 0.0 and nested["ci_high"] <= 0.05
    # The upper end reaches three grids' worst draws: (0.05 x 3 + 0.02) / 4 or beyond.
    assert nested["ci_high"] >= 0.0375
    # One grid: the seeds are resampled, as before.
    one = nested_ci({("g", s): v for s, v in enumerate([0.0, 0.01, 0.02, 0.0, 0.03, 0.01])})
    assert 0 <= one["ci_low"] < one["mean"] < one["ci_high"] <= 0.03
    assert nested_ci({("g", s): 0.01 for s in range(5)}) == {
        "mean": 0.01,
        "ci_low": 0.01,
        "ci_high": 0.01,
    }


def test_random_pick_curve_is_exact_on_a_hand_example():
    from fractions import Fraction as F

    from loratune.race.compare import random_pick_curve

    # Validation 3 > 2 = 2 > failed; test 0.5, 0.9, 0.8, 0 -> best 0.9, within 0.1: 0.9, 0.8.
    c = random_pick_curve([F(3), F(2), F(2), None], [F(1, 2), F(9, 10), F(4, 5), F(0)], F(1, 10))
    # One draw: each config with 1/4; the failed one picks nothing (regret 0.9).
    assert c["success"][1] == pytest.approx(0.5)
    assert c["regret"][1] == pytest.approx((0.4 + 0 + 0.1 + 0.9) / 4)
    # All four: config 0 has the best validation: regret 0.4, never a success.
    assert c["success"][4] == 0 and c["regret"][4] == pytest.approx(0.4)
    # Two of four (6 pairs): config 0 is picked whenever drawn (3 pairs); the pair of the tied
    # configs picks either (success); pairs of one tied config and the failed one: success.
    assert c["success"][2] == pytest.approx(3 / 6)


# ----------------------------------------------------------------------------- the bench


def _load_bench(monkeypatch: pytest.MonkeyPatch) -> Any:
    return load_benchmark("race")


def _write_grid(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


HOLDOUT = 'tuning = ["support"]\nheld_out = ["legal"]\n'
NAMES = [
    "exhaustive",
    "random",
    "loratune-default",
    "autotune-cold",
    "autotune-curve-stop",
    "optuna-tpe",
    "hyperband",
    "asha",
    "autotune-no-early-stop" if DEFAULT_EARLY_STOP else "autotune-early-stop",
    "autotune-transfer",
]


def _bench_args(tmp_path: Path, grids: Path, recording: Path) -> list[str]:
    space_file = tmp_path / "mini.toml"
    space_file.write_text(SPACE_TOML)
    holdout = tmp_path / "holdout.toml"
    holdout.write_text(HOLDOUT)
    return ["--grids-dir", str(grids), "--space", str(space_file), "--holdout", str(holdout)] + [
        "--recording-dir",
        str(recording),
        "--out",
        str(tmp_path / "out"),
        "--jobs",
        "1",
    ]


def test_bench_writes_results_with_the_required_keys(tmp_path, fast_fit, monkeypatch):
    grids, recording = tmp_path / "grids", tmp_path / "recording"
    _write_grid(grids / "fake" / "support.jsonl", fake_rows("support"))
    _write_grid(grids / "fake" / "legal.jsonl", fake_rows("legal", seed=1, shift=-0.1))
    _write_grid(grids / "fake" / "growing.jsonl", fake_rows("growing", seed=2)[:7])
    _write_grid(recording / "fake" / "banking.jsonl", fake_rows("banking", seed=3)[:5])
    bench = _load_bench(monkeypatch)
    bench.main(
        _bench_args(tmp_path, grids, recording)
        + ["--seeds", "2", "--faithful", "--strategies", *NAMES]  # faithful: fast_fit applies
    )
    out = tmp_path / "out"
    data = json.loads((out / "results.json").read_text())
    assert data["selection"] == "validation" and data["judge"] == "test"
    strategies = data["strategies"]
    assert set(strategies) == set(NAMES)
    for name, s in strategies.items():
        assert {"success_rate", "compute_fraction", "mean_regret", "epoch_fraction"} <= set(s)
        assert s["reached_near_best"] >= s["success_rate"]
        assert set(s["regret_vs_exhaustive"]) == {"mean", "ci_low", "ci_high"}
        assert s["regret_vs_exhaustive"]["ci_low"] <= s["regret_vs_exhaustive"]["ci_high"]
        assert s["runs"] == 4  # 2 grids x 2 seeds
        assert ("wilcoxon_vs_default" in s) == (name != "loratune-default")
        if name != "loratune-default":
            assert "p_holm" in s["wilcoxon_vs_default"]
    exhaustive = strategies["exhaustive"]
    assert exhaustive["regret_vs_exhaustive"] == {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    assert exhaustive["compute_fraction"] == pytest.approx(1.0)
    # The held-out grid is reported apart, with the same keys.
    assert data["groups"]["tuning"]["grids"] == ["fake/support"]
    assert data["groups"]["held_out"]["grids"] == ["fake/legal"]
    held = data["groups"]["held_out"]["strategies"]
    assert held["exhaustive"]["runs"] == 2 and "regret_vs_exhaustive" in held["random"]
    assert set(data["groups"]["held_out"]["goal"]) >= {"no_worse_than_exhaustive", "beats"}
    assert {g["label"]: g["group"] for g in data["grids"]} == {
        "fake/legal": "held_out",
        "fake/support": "tuning",
    }
    per = data["per_grid"]["fake/support"]
    assert set(per["predictor"]) >= {"spearman", "mae", "coverage", "time_mae_seconds"}
    assert per["predictor"]["seeds"] == 2
    assert per["predictor_no_early_stop"]["seeds"] == 2  # its fit holds no stopped trial
    assert {"loratune-default", "autotune-curve-stop"} <= set(per["early_stopping"])
    assert data["skipped"][0]["label"] == "fake/growing"
    assert data["recordings"][0]["rows"] == 5
    md = (out / "RESULTS.md").read_text()
    assert "incomplete: 7 of 18 configs" in md and "abc1234" in md
    assert "Held-out grids" in md and "regret − exhaustive's" in md and "5 (5) of 18" in md
    assert "90% coverage, no early stop" in md
    assert (out / "regret_vs_compute.png").stat().st_size > 0


def test_bench_numbers_do_not_depend_on_the_order_runs_finish(tmp_path, fast_fit, monkeypatch):
    """Parallel jobs finish in any order; the bootstrap resamples the runs' regrets in the
    order they are stored, so they must be stored in task order, or --jobs 2 writes other
    intervals than --jobs 1 (it did: last digits moved). Here the runs come back reversed, as
    a pool might return them."""
    from loratune.race import bench as race_bench

    grids, recording = tmp_path / "grids", tmp_path / "recording"
    _write_grid(grids / "fake" / "support.jsonl", fake_rows("support"))
    bench = _load_bench(monkeypatch)
    names = ["exhaustive", "random", "loratune-default"]
    in_order, real_race = race_bench._map, race_bench.race
    stored: dict[str, dict[str, list]] = {}
    for name, order in (("in-order", in_order), ("reversed", lambda t, j: in_order(t[::-1], j))):

        def spy(*a, _name=name, **k):
            out = real_race(*a, **k)
            stored[_name] = {s: list(runs) for s, runs in out.runs.items()}
            return out

        monkeypatch.setattr(race_bench, "_map", order)
        monkeypatch.setattr(race_bench, "race", spy)
        (tmp_path / name).mkdir()
        bench.main(
            _bench_args(tmp_path / name, grids, recording)
            + ["--seeds", "3", "--faithful", "--strategies", *names]
        )
    assert stored["in-order"]["random"] == [("fake/support", s) for s in range(3)]
    assert stored["in-order"] == stored["reversed"]


def test_bench_without_a_complete_grid_says_so(tmp_path, monkeypatch, capsys):
    grids, recording = tmp_path / "grids", tmp_path / "recording"
    old = [{k: v for k, v in r.items() if k != "setup_seconds"} for r in fake_rows()]
    _write_grid(grids / "fake" / "old.jsonl", old)  # protocol 1: no split timings
    _write_grid(recording / "fake" / "support.jsonl", fake_rows()[:3])
    _write_grid(recording / "fake" / "support-seed1.jsonl", fake_rows()[:1])
    out = tmp_path / "out"
    out.mkdir()
    (out / "regret_vs_compute.png").write_bytes(b"stale")
    _load_bench(monkeypatch).main(_bench_args(tmp_path, grids, recording))
    printed = capsys.readouterr().out
    assert "No complete protocol-2 grid yet" in printed
    assert "fake/support: 3 of 18 complete rows" in printed
    data = json.loads((out / "results.json").read_text())
    assert data["strategies"] == {} and data["selection"] == "validation"
    assert "old protocol" in data["skipped"][0]["reason"]
    md = (out / "RESULTS.md").read_text()
    assert "nothing was raced" in md and "| 3 (3) of 18 |" in md and "noise subset" in md
    assert not (out / "regret_vs_compute.png").exists(), "a stale plot outlived its numbers"


def test_holdout_file_is_fixed_and_names_the_planned_grids():
    from loratune.race.grids import Holdout, load_holdout

    holdout = load_holdout(ROOT / "benchmarks" / "holdout.toml")
    # docs/protocol.md, "The next round": all four protocol-2 grids tune; the drawn pair is held out
    assert set(holdout.tuning) == {"customer_support", "insurance", "banking77", "financial"}
    assert set(holdout.held_out) == {"code_review", "legal"}
    assert holdout.group("banking77") == "tuning" and holdout.group("medical") == "unassigned"
    with pytest.raises(LoratuneError, match="both"):
        Holdout(("a",), ("a",))


def test_bench_scores_success_at_the_noise_margin_of_customer_support(tmp_path, monkeypatch):
    grids, recording = tmp_path / "grids", tmp_path / "recording"
    model = grids / "smollm2-135m"
    _write_grid(model / "customer_support.jsonl", fake_rows("customer_support"))
    again = fake_rows("customer_support")  # training seed 1: +-2 points on alternate configs
    for i, row in enumerate(again):
        row["test_correct"] += 8 if i % 2 else -8
    _write_grid(recording / "smollm2-135m" / "customer_support-seed1.jsonl", again)
    _load_bench(monkeypatch).main(
        _bench_args(tmp_path, grids, recording) + ["--seeds", "2", "--strategies", "random"]
    )
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    margin = data["settings"]["noise_margin"]
    sd = data["noise"]["smollm2-135m/customer_support"]["training"]["test"]["residual_sd"]
    assert sd <= margin < sd + 0.005 and margin >= 0.015
    for s in data["strategies"].values():
        assert s["success_rate_noise_margin"] >= s["success_rate"]  # a wider margin: never fewer
        assert len(s["success_noise_margin_ci95"]) == 2
    md = (tmp_path / "out" / "RESULTS.md").read_text()
    assert "success at the noise margin" in md and f"noise margin {100 * margin:g} pt" in md
