"""The autotune loop end to end: real (tiny) trials, and replays of a recorded grid."""

import json

import numpy as np
import optuna
import pytest
from conftest import ground_truth_fields

from loratune import api
from loratune.executors.replay import ReplayExecutor, load_grid
from loratune.space import load_space


@pytest.fixture
def space_file(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(
        'name = "mini"\n[grid]\nrank = [2, 4, 8]\nlearning_rate = [1e-3, 1e-2, 3e-2]\n'
        "[fixed]\nepochs = 2\nbatch_size = 8\n"
    )
    return path


def test_autotune_end_to_end_with_tiny_llama(tmp_path, space_file, data_csv):
    url = f"sqlite:///{tmp_path}/a.db"
    result = api.autotune(
        prior="none",
        data=data_csv,
        model="tiny-llama",
        space=space_file,
        explore=4,
        verify=2,
        storage=url,
        study="a",
        device="cpu",
        n_train=24,
        out=tmp_path / "report",
    )
    assert len(result.explored) == 4 and len(result.verified) == 2
    assert {r.metrics["phase"] for r in result.verified} == {"verify"}
    assert all(r.metrics["predicted_accuracy"] is not None for r in result.verified)
    assert len(result.predictions) == 9
    trials = [*result.explored, *result.verified]
    assert result.best.accuracy == max(r.accuracy for r in trials if r.full)
    v = result.validation  # early stopping is on by default: a verified trial may have stopped
    assert v.verified + v.verified_stopped_early == 2
    assert v.speedup.source == "predicted"
    assert (v.speedup.factor or 0) > 1
    assert (tmp_path / "report" / "report.html").exists()
    # resume replays the same decisions and trains nothing new
    again = api.autotune(
        prior="none",
        data=data_csv,
        model="tiny-llama",
        space=space_file,
        explore=4,
        verify=2,
        storage=url,
        study="a",
        device="cpu",
        n_train=24,
        resume=True,
        report=False,
    )
    assert [r.number for r in again.verified] == [r.number for r in result.verified]


def test_autotune_tunes_batch_size_and_modules_end_to_end(tmp_path, data_csv):
    """A space whose grid varies batch size and the adapted modules: the predictor, the
    report and the grid-time estimate run on its wider features (`Space.features`)."""
    space_file = tmp_path / "wide.toml"
    space_file.write_text(
        'name = "wide"\n[grid]\nrank = [2, 4]\nbatch_size = [4, 8]\n'
        'target_modules = [["q_proj", "v_proj"], ["q_proj", "k_proj", "v_proj", "o_proj"]]\n'
        "[fixed]\nepochs = 2\nlearning_rate = 1e-2\n"
    )
    assert len(load_space(space_file).features()) == 6 + 1 + 4
    result = api.autotune(
        prior="none",
        data=data_csv,
        model="tiny-llama",
        space=space_file,
        explore=4,
        verify=2,
        storage=f"sqlite:///{tmp_path}/w.db",
        study="w",
        device="cpu",
        n_train=24,
        out=tmp_path / "report",
    )
    assert len(result.predictions) == 8
    # Configs that differ only in batch size or modules are predicted apart.
    assert len({round(p.latency, 9) for p in result.predictions}) > 2
    assert (result.validation.speedup.factor or 0) > 1
    md = (tmp_path / "report" / "report.md").read_text()
    # The tables name what tells two configs apart: batch size and modules, not the
    # fixed 2 epochs.
    assert "| wd | other |" in md and "modules=q_proj+k_proj+v_proj+o_proj" in md
    assert "batch=4" in md and "epochs=2" not in md.split("## Top")[1]


def _fake_grid(path, space):
    """A recorded grid whose accuracy peaks at rank 8, lr 1e-2: a shape the predictor can learn."""
    import math

    rows = []
    for c in space.configs():
        acc = (
            0.9 - 0.08 * (math.log2(c.rank) - 3) ** 2 - 0.1 * (math.log10(c.learning_rate) + 2) ** 2
        )
        rows.append(
            {
                "status": "complete",
                "config": c.to_dict(),
                **ground_truth_fields(acc, [acc - 0.2, acc - 0.05], 1.0 + c.rank / 8),
                "cost": 0.0,
            }
        )
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return rows


def test_replay_autotune_finds_the_best_and_charges_the_clock(tmp_path, space_file):
    space = load_space(space_file)
    rows = _fake_grid(tmp_path / "g.jsonl", space)
    executor = ReplayExecutor(load_grid(tmp_path / "g.jsonl"))
    result = api.autotune(
        "financial",
        prior="none",
        model="tiny-llama",
        space=space,
        explore=4,
        verify=2,
        storage=optuna.storages.InMemoryStorage(),
        study="r",
        executor=executor,
        report=False,
    )
    best = max(r["accuracy"] for r in rows)
    assert result.best.accuracy == pytest.approx(best)
    spent = sum(r.metrics["charged_seconds"] for r in [*result.explored, *result.verified])
    assert executor.clock == pytest.approx(spent)
    assert executor.clock < sum(r["charged_seconds"] for r in rows)


def test_replay_early_stop_charges_only_epochs_run(tmp_path, space_file):
    from loratune.executors import TrialHooks

    space = load_space(space_file)
    _fake_grid(tmp_path / "g.jsonl", space)
    executor = ReplayExecutor(load_grid(tmp_path / "g.jsonl"))
    c = space.configs()[0]
    r = executor.run(c, TrialHooks(on_epoch=lambda e, acc: False))
    assert r.epochs_run == 1 and r.stopped_early and executor.epochs == 1
    # Set-up, one epoch of training and one check evaluation: what the real trainer spends.
    assert executor.clock == pytest.approx(1.0 + (1.0 + c.rank / 8) + 0.25)
    assert r.test_accuracy is None and r.val_total == 50


def _two_level_grid(path, space):
    """Configs at lr 1e-2 learn (0.9); the rest do not (0.2), and show it after epoch 1."""
    rows = []
    for c in space.configs():
        acc = 0.9 if c.learning_rate == 1e-2 else 0.2
        rows.append(
            {
                "status": "complete",
                "config": c.to_dict(),
                **ground_truth_fields(acc, [acc - 0.05, acc], 1.0),
                "cost": 0.5,
            }
        )
    path.write_text("\n".join(json.dumps(r) for r in rows))


def test_autotune_early_stop_stops_weak_trials_and_never_picks_them(tmp_path, space_file):
    space = load_space(space_file)
    _two_level_grid(tmp_path / "g.jsonl", space)

    def run(early_stop, name, resume=False):
        executor = ReplayExecutor(load_grid(tmp_path / "g.jsonl"))
        result = api.autotune(
            "financial",
            prior="none",
            model="tiny-llama",
            space=space,
            explore=5,
            verify=2,
            early_stop=early_stop,
            storage=f"sqlite:///{tmp_path / 'r.db'}",
            study=name,
            executor=executor,
            out=tmp_path / name,
            resume=resume,
        )
        return result, executor

    plain, plain_exec = run(False, "plain")
    early, early_exec = run(True, "early")
    trials = early.explored + early.verified
    stopped = [r for r in trials if r.metrics.get("stopped_early")]
    # The Sobol plan is the same; the trials judged clearly worse ran one epoch of two.
    assert [r.config for r in early.explored] == [r.config for r in plain.explored]
    assert stopped and all(r.metrics["epochs_run"] == 1 and len(r.curve) == 1 for r in stopped)
    assert early_exec.epochs == plain_exec.epochs - len(stopped)
    assert early.best.accuracy == pytest.approx(0.9) and early.best.full
    assert early.validation.stopped_early == len(stopped)
    html = (early.report_dir / "report.html").read_text()
    assert f"{len(stopped)} stopped early after epoch 1" in html
    # Resumed, the gate is primed from the recorded curves: same decisions, nothing retrained.
    again, again_exec = run(True, "early", resume=True)
    assert again_exec.epochs == 0
    assert [r.number for r in again.verified] == [r.number for r in early.verified]


def test_epoch_gate_judges_epoch_one_against_the_best_so_far():
    from loratune.strategies.autotune import EarlyStop

    gate = EarlyStop(n_val=32).first_epoch_gate([0.8])
    assert gate.keep_going(0, 0.75)  # within chance of the best
    assert not gate.keep_going(0, 0.2)  # clearly worse: stop
    assert gate.keep_going(1, 0.0)  # later epochs are never judged
    assert gate.seen == [0.8, 0.75, 0.2]
    assert EarlyStop().first_epoch_gate([]).keep_going(0, 0.0)  # nothing to compare with


def test_predictor_counts_a_stopped_trial_at_its_full_cost():
    from loratune.space import Config
    from loratune.strategies.autotune import _training_data
    from loratune.study import TrialRecord

    def rec(n, epochs_run):
        c = Config(rank=4 * (n + 1), alpha=8.0, learning_rate=1e-3, epochs=3)
        metrics = {"cost": 1.0, "latency": 2.0, "epochs_run": epochs_run}
        return TrialRecord(n, c, "complete", 0.5, (0.5,) * epochs_run, metrics, {})

    _, targets = _training_data([rec(0, 1), rec(1, 3)])
    assert list(targets["cost"]) == [3.0, 1.0]


def test_optuna_params_of_a_module_list_round_trip(tmp_path):
    """Optuna's categorical choices are scalars: a list of modules travels as one string, and
    the Optuna samplers of the race read it back as the same config."""
    from loratune.space import Space
    from loratune.strategies.samplers import OptunaSearch
    from loratune.study import config_of, distributions, params_of

    space = Space(
        "mods",
        {"rank": (4, 8), "target_modules": (("q_proj", "v_proj"), ("q_proj", "k_proj"))},
        {"learning_rate": 1e-3},
    )
    dists = distributions(space)
    for c in space.configs():
        params = params_of(space, c)
        assert params["target_modules"] in dists["target_modules"].choices
        assert config_of(space, params) == c
    tpe = OptunaSearch("tpe", n=4)
    tpe.reset(space, 0)
    asked: list = []
    for _ in range(3):
        asked.append(tpe.ask([], pending=asked))
    assert len(set(asked)) == 3 and all(a in space.configs() for a in asked)


def test_a_prediction_is_never_surer_than_the_validation_measurement():
    """Explored configs that all scored alike make the surrogate constant and its calibrated
    std 0; the std is floored at the binomial SE of the validation split."""
    import math

    from loratune.space import Space
    from loratune.strategies.autotune import fit_predictor, measurement_se, predict_grid
    from loratune.study import TrialRecord

    space = Space("s", {"rank": (4, 8, 16, 32), "learning_rate": (1e-4, 1e-3, 1e-2)}, {})
    configs = space.configs()
    metrics = {"cost": 0.0, "latency": 1.0, "epochs_run": 3, "val_total": 256}
    trials = [
        TrialRecord(i, c, "complete", 0.25, (0.25,) * 3, dict(metrics), {})
        for i, c in enumerate(configs[:6])
    ]
    preds = predict_grid(fit_predictor(trials), space, trials)
    floor = math.sqrt(0.25 * 0.75 / 256)
    assert all(p.accuracy == pytest.approx(0.25) for p in preds)
    assert all(p.accuracy_std == pytest.approx(floor) for p in preds)
    se = measurement_se(np.array([0.0, 0.5, 1.0]), 100)
    edge = math.sqrt(0.005 * 0.995 / 100)  # half an example from 0 and from 1
    assert list(se) == pytest.approx([edge, 0.05, edge])
    assert measurement_se(np.array([0.5]), 0)[0] == 0.0


@pytest.mark.parametrize(
    "ranks, expected",
    [((4, 8), "train all 2 with `loratune sweep`"), ((4, 8, 16, 32), "fits), or train all 12")],
)
def test_a_budget_larger_than_the_grid_says_what_fits(ranks, expected):
    """Refused before any trial, with numbers that fit (or `sweep`, where none do)."""
    import re

    from loratune.errors import LoratuneError
    from loratune.space import Space

    lrs = (1e-3,) if len(ranks) == 2 else (1e-4, 1e-3, 1e-2)
    space = Space("small", {"rank": ranks, "learning_rate": lrs}, {})
    with pytest.raises(LoratuneError, match=re.escape(expected)) as err:
        api.autotune("customer_support", model="tiny-llama", space=space, explore=12, verify=5)
    fits = re.search(r"--explore (\d+) --verify (\d+) fits", str(err.value))
    if fits:
        explore, verify = int(fits[1]), int(fits[2])
        assert explore >= 2 and verify >= 1 and explore + verify <= len(space.configs())


def test_autotune_warm_start_by_default_names_its_prior_and_stop(tmp_path, space_file, data_csv):
    """--prior auto (the default): the shipped prior's portfolio first, then the model; the
    result and the report say where it started from and why it stopped."""
    result = api.autotune(
        data=data_csv,
        model="tiny-llama",
        space=space_file,
        explore=4,
        verify=2,
        storage=f"sqlite:///{tmp_path}/w.db",
        study="w",
        device="cpu",
        n_train=24,
        out=tmp_path / "report",
    )
    assert "shipped prior of tiny-llama" not in result.prior  # it ships one for smollm2 only
    assert "smollm2-135m" in result.prior and "applied to tiny-llama" in result.prior
    assert result.stop_reason.startswith(("evidence", "ceiling", "every config"))
    n = len(result.explored)
    assert 1 <= n <= 6 and {r.metrics["phase"] for r in result.explored} <= {"prior", "search"}
    assert result.search_seconds > 0
    report = (result.report_dir / "report.md").read_text()
    assert "Prior" in report and "stopped" in report.lower()


def test_prior_none_is_the_cold_start(tmp_path, space_file, data_csv):
    """--prior none runs exactly the cold-start Autotune: the same configs in the same order
    as the strategy replayed on its own."""
    from loratune.space import config_key, load_space
    from loratune.strategies.search import Autotune

    common = dict(
        data=data_csv,
        model="tiny-llama",
        space=space_file,
        explore=3,
        verify=1,
        device="cpu",
        n_train=24,
        report=False,
        save="none",
        early_stop=False,
    )
    result = api.autotune(prior="none", storage=f"sqlite:///{tmp_path}/n.db", study="n", **common)
    strategy = Autotune(3, 1)
    strategy.reset(load_space(space_file), 0)
    planned = [config_key(c) for c in strategy._plan]
    assert [r.metrics["config_key"] for r in result.explored] == planned
    assert result.prior.startswith("none") and result.stop_reason == ""
    assert len(result.predictions) == 9
