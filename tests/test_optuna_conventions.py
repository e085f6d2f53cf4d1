"""Optuna's conventions in loratune's studies (issue 26): a trial stopped early is PRUNED with
its intermediate values and its value, a full one COMPLETE, the objective is named; loratune's
own readers (records, results.jsonl, resume) read both, and older databases, as before."""

import json

import optuna
import pytest
from conftest import ground_truth_fields

from loratune import api
from loratune.api.context import prepare_job
from loratune.api.record import run_configs
from loratune.api.spec import JobSpec
from loratune.executors.replay import ReplayExecutor, load_grid
from loratune.space import config_key, load_space
from loratune.study import (
    done_keys,
    finish_trial,
    name_objective,
    objective_name,
    open_study,
    records,
    start_trial,
)
from loratune.study.pruner import first_epochs
from loratune.study.rows import export_rows, import_rows

PRUNED, COMPLETE = optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.COMPLETE


@pytest.fixture
def space_file(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(
        'name = "mini"\n[grid]\nrank = [2, 4, 8]\nlearning_rate = [1e-3, 1e-2, 3e-2]\n'
        "[fixed]\nepochs = 2\nbatch_size = 8\n"
    )
    return path


def _grid(path, space):
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


def _autotune(tmp_path, space, resume=False):
    executor = ReplayExecutor(load_grid(tmp_path / "g.jsonl"))
    result = api.autotune(
        "financial",
        prior="none",
        model="tiny-llama",
        space=space,
        explore=5,
        verify=2,
        early_stop=True,
        storage=f"sqlite:///{tmp_path / 'r.db'}",
        study="early",
        executor=executor,
        out=tmp_path / "out",
        resume=resume,
    )
    return result, executor


def _as_older_versions_stored(study, name):
    """A copy of `study` with every PRUNED trial stored as versions before issue 26 stored it:
    COMPLETE with its value and the `stopped_early` attribute."""
    old = optuna.create_study(study_name=name, direction="maximize")
    for k, v in study.user_attrs.items():
        old.set_user_attr(k, v)
    for t in study.get_trials():
        if t.state == PRUNED:
            t.state = COMPLETE  # a copy: get_trials() deep-copies
        old.add_trial(t)
    return old


def _readable(rows):
    """Export rows without what names the study they came from."""
    return [{k: v for k, v in r.items() if k != "study"} for r in rows]


def test_stopped_trials_are_pruned_with_their_curve_and_read_back_as_before(tmp_path, space_file):
    space = load_space(space_file)
    _grid(tmp_path / "g.jsonl", space)
    result, _ = _autotune(tmp_path, space)
    study = open_study(f"sqlite:///{tmp_path / 'r.db'}", "early", create=False)
    assert study.metric_names == ["validation_accuracy"]

    recs = {r.number: r for r in records(study)}
    raw = study.get_trials()
    stopped = [t for t in raw if t.user_attrs.get("stopped_early")]
    full = [t for t in raw if not t.user_attrs.get("stopped_early")]
    assert stopped and full
    for t in stopped:  # Optuna's convention: PRUNED, its curve reported at steps 1..n
        assert t.state == PRUNED
        assert list(t.intermediate_values) == [1]
        assert t.value == t.intermediate_values[1] == recs[t.number].accuracy
        r = recs[t.number]
        assert r.state == "complete" and r.ok and not r.full and r.metrics["stopped_early"]
        assert r.curve == (t.intermediate_values[1],)
    for t in full:
        assert t.state == COMPLETE and list(t.intermediate_values) == [1, 2]
        assert t.value == recs[t.number].accuracy and recs[t.number].full
    assert result.best.full and result.best.accuracy == pytest.approx(0.9)
    assert result.validation.stopped_early == len(stopped)

    # An older database (stopped trials COMPLETE with the attribute) reads back identically.
    old = _as_older_versions_stored(study, "early")
    assert [t.state for t in old.get_trials()] == [COMPLETE] * len(raw)
    assert records(old) == records(study)
    assert export_rows(old) == export_rows(study)

    # Exported and imported into a fresh study: PRUNED again, the same records and rows.
    rows = export_rows(study)
    assert [r["status"] for r in rows] == ["complete"] * len(raw)
    fresh = optuna.create_study(study_name="early", direction="maximize")
    assert import_rows(fresh, space, rows) == len(rows)
    assert [t.state for t in fresh.get_trials()] == [t.state for t in raw]
    assert [t.intermediate_values for t in fresh.get_trials()] == [
        t.intermediate_values for t in raw
    ]
    assert fresh.metric_names == ["validation_accuracy"]
    assert _readable(export_rows(fresh)) == _readable(rows)
    assert [(r.state, r.accuracy, r.curve, r.full) for r in records(fresh)] == [
        (r.state, r.accuracy, r.curve, r.full) for r in records(study)
    ]

    # Resumed: every trial, stopped ones included, is done; nothing is trained again.
    assert done_keys(study) == {t.user_attrs["config_key"] for t in raw}
    again, executor = _autotune(tmp_path, space, resume=True)
    assert executor.epochs == 0
    assert [r.number for r in again.verified] == [r.number for r in result.verified]
    assert study.metric_names == ["validation_accuracy"]  # reopened: unchanged


def _job(tmp_path, data_csv, space_file, study="s"):
    spec = JobSpec.from_options(
        data=data_csv,
        kind="sweep",
        model="tiny-llama",
        space=space_file,
        storage=f"sqlite:///{tmp_path}/t.db",
        study=study,
        device="cpu",
        n_train=16,
        n_val=8,
    )
    return prepare_job(spec)


def test_real_tiny_trials_in_process_stopped_one_pruned_full_one_complete(
    tmp_path, data_csv, space_file
):
    job = _job(tmp_path, data_csv, space_file)
    c1, c2 = load_space(space_file).configs()[:2]
    stop = run_configs(job, [c1], "sweep", keep_going=lambda epoch, acc: False)
    go = run_configs(job, [c2], "sweep")
    (t1, t2) = job.study.get_trials()
    assert t1.state == PRUNED and list(t1.intermediate_values) == [1]
    assert t1.value == t1.intermediate_values[1] == stop[0].accuracy
    assert stop[0].state == "complete" and stop[0].metrics["stopped_early"] and not stop[0].full
    assert t2.state == COMPLETE and list(t2.intermediate_values) == [1, 2]
    assert t2.value == go[0].accuracy and go[0].full
    assert job.study.metric_names == ["validation_accuracy"]
    assert done_keys(job.study) == {config_key(c1), config_key(c2)}


def _rank_space(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[grid]\nrank = [2, 4, 8]\n[fixed]\nepochs = 2\nlearning_rate = 1e-3\n")
    return load_space(path)


def test_finish_trial_adds_missing_steps_and_keeps_a_value_other_than_the_last_step(tmp_path):
    """A Ray worker reports epochs itself (another Trial object on the same storage); the
    driver adds nothing twice. A replayed row's stopped value (exact counts) may differ from
    its last intermediate value: the trial keeps loratune's value."""
    space = _rank_space(tmp_path)
    url = f"sqlite:///{tmp_path / 'f.db'}"
    study = open_study(url, "f")
    a, b, c = space.configs()[:3]

    t = start_trial(study, space, a, {"phase": "sweep"}, url)
    worker = optuna.trial.Trial(optuna.load_study(study_name="f", storage=url), t._trial_id)
    worker.report(0.25, 1)
    finish_trial(study, t, 0.25, {"stopped_early": True}, [0.25])

    t = start_trial(study, space, b, {"phase": "sweep"}, url)
    finish_trial(study, t, 5 / 16, {"stopped_early": True}, [0.3])  # never reported

    t = start_trial(study, space, c, {"phase": "sweep"}, url)
    t.report(0.5, 1)
    finish_trial(study, t, 0.75, {"stopped_early": False}, [0.5, 0.625])

    (ta, tb, tc) = study.get_trials()
    assert (ta.state, ta.value, ta.intermediate_values) == (PRUNED, 0.25, {1: 0.25})
    assert (tb.state, tb.value, tb.intermediate_values) == (PRUNED, 5 / 16, {1: 0.3})
    assert (tc.state, tc.value, tc.intermediate_values) == (COMPLETE, 0.75, {1: 0.5, 2: 0.625})
    assert [(r.state, r.accuracy, r.curve) for r in records(study)] == [
        ("complete", 0.25, (0.25,)),
        ("complete", 5 / 16, (0.3,)),
        ("complete", 0.75, (0.5, 0.625)),
    ]
    assert first_epochs(study) == [0.25, 0.3, 0.5]


def test_an_older_import_with_steps_from_zero_still_gives_first_epochs(tmp_path):
    """Older `loratune import` stored a curve at steps 0..n-1: its first epoch is step 0."""
    space = _rank_space(tmp_path)
    study = optuna.create_study(direction="maximize")
    config = space.configs()[0]
    study.add_trial(
        optuna.trial.create_trial(
            state=COMPLETE,
            value=0.8,
            params={},
            distributions={},
            user_attrs={"config": config.to_dict(), "config_key": config_key(config)},
            intermediate_values={0: 0.6, 1: 0.8},
        )
    )
    assert first_epochs(study) == [0.6]
    assert records(study)[0].curve == (0.6, 0.8)


def test_the_objective_is_named_after_the_metric_once():
    assert objective_name("accuracy") == "validation_accuracy"
    assert objective_name("macro_f1") == "validation_macro_f1"
    assert objective_name("val_loss") == "neg_val_loss"  # stored negated: higher is better
    study = optuna.create_study(direction="maximize")
    name_objective(study, "macro_f1")
    name_objective(study, "accuracy")  # reopened: harmless, the first name stays
    assert study.metric_names == ["validation_macro_f1"]
