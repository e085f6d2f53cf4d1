"""The autotune loop end to end: real (tiny) trials, and replays of a recorded grid."""

import json

import optuna
import pytest

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


@pytest.fixture
def data_csv(tmp_path):
    rows = ["text,label"] + [
        f"ticket {i} says {['pay', 'login', 'ship'][i % 3]} issue {i * 7},"
        f"{['billing', 'account', 'delivery'][i % 3]}"
        for i in range(90)
    ]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_autotune_end_to_end_with_tiny_llama(tmp_path, space_file, data_csv):
    url = f"sqlite:///{tmp_path}/a.db"
    result = api.autotune(
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
    assert result.best.accuracy == max(r.accuracy for r in result.explored + result.verified)
    v = result.validation
    assert v["verified"] == 2 and v["speedup"]["source"] == "predicted"
    assert v["speedup"]["factor"] > 1
    assert (tmp_path / "report" / "report.html").exists()
    # resume replays the same decisions and trains nothing new
    again = api.autotune(
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
                "accuracy": acc,
                "curve": [acc - 0.2, acc - 0.05],
                "latency": 1.0 + c.rank / 8,
                "wall_seconds": 3.0 + c.rank / 4,
                "cost": 0.0,
                "eval_seconds": 0.5,
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
    spent = sum(r.metrics["wall_seconds"] for r in result.explored + result.verified)
    assert executor.clock == pytest.approx(spent)
    assert executor.clock < sum(r["wall_seconds"] for r in rows)


def test_replay_early_stop_charges_only_epochs_run(tmp_path, space_file):
    from loratune.executors import TrialHooks

    space = load_space(space_file)
    _fake_grid(tmp_path / "g.jsonl", space)
    executor = ReplayExecutor(load_grid(tmp_path / "g.jsonl"))
    c = space.configs()[0]
    r = executor.run(c, TrialHooks(on_epoch=lambda e, acc: False))
    assert r.epochs_run == 1 and r.stopped_early and executor.epochs == 1
    assert executor.clock == pytest.approx((3.0 + c.rank / 4) / 2)
