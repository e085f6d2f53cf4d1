import json
from pathlib import Path

import pytest

from loratune import api
from loratune.api.context import prepare_job
from loratune.api.record import run_configs
from loratune.api.spec import JobSpec
from loratune.errors import LoratuneError
from loratune.space import load_space
from loratune.study import done_keys, open_study, records, start_trial
from loratune.study.rows import INTERRUPTED, export_rows, import_rows, write_jsonl
from loratune.trainer import TrialFailed

DOC_FIELDS = {
    "timestamp",
    "domain",
    "rank",
    "alpha",
    "weight_decay",
    "learning_rate",
    "accuracy",
    "latency",
    "cost",
    "device",
    "training_time_seconds",
}


@pytest.fixture
def small_space(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(
        "[grid]\nrank = [2, 4]\nlearning_rate = [1e-3, 1e-2]\n[fixed]\nepochs = 2\nbatch_size = 8\n"
    )
    return path


def _sweep(tmp_path, data_csv, small_space, **kw):
    return api.sweep(
        data=data_csv,
        model="tiny-llama",
        space=small_space,
        n_train=24,
        storage=f"sqlite:///{tmp_path}/t.db",
        study="s",
        device="cpu",
        **kw,
    )


def test_sweep_records_and_exports_every_trial(tmp_path, data_csv, small_space):
    recs = _sweep(tmp_path, data_csv, small_space)
    assert len(recs) == 4 and all(r.ok for r in recs)
    assert all(len(r.curve) == 2 for r in recs)
    study = open_study(f"sqlite:///{tmp_path}/t.db", "s", create=False)
    rows = export_rows(study)
    assert len(rows) == 4
    for row in rows:
        assert set(row) >= DOC_FIELDS
        assert row["alpha"] == 2 * row["rank"] and row["device"] == "cpu"
        assert row["provenance"]["packages"]["torch"]
        assert row["seed"] == 0 and row["domain"] == "user-tickets"
    out = tmp_path / "results.jsonl"
    write_jsonl(rows, str(out))
    assert [json.loads(line)["trial"] for line in out.read_text().splitlines()] == [0, 1, 2, 3]


def test_exported_rows_rebuild_the_study_and_resume_skips_them(tmp_path, data_csv, small_space):
    _sweep(tmp_path, data_csv, small_space, n=2)
    rows = export_rows(open_study(f"sqlite:///{tmp_path}/t.db", "s", create=False))
    fresh = open_study(f"sqlite:///{tmp_path}/fresh.db", "s")
    assert import_rows(fresh, load_space(small_space), rows) == 2
    assert import_rows(fresh, load_space(small_space), rows) == 0  # idempotent
    again = export_rows(fresh)
    for old, new in zip(rows, again, strict=True):
        assert {k: v for k, v in new.items() if k != "trial"} == {
            k: v for k, v in old.items() if k != "trial"
        }
    # resuming on the rebuilt study trains only the two configs it lacks
    recs = api.sweep(
        data=data_csv,
        model="tiny-llama",
        space=small_space,
        n_train=24,
        storage=f"sqlite:///{tmp_path}/fresh.db",
        study="s",
        device="cpu",
        resume=True,
    )
    assert len(recs) == 4 and len({r.metrics["config_key"] for r in recs}) == 4


def test_existing_study_needs_resume(tmp_path, data_csv, small_space):
    _sweep(tmp_path, data_csv, small_space, n=1)
    with pytest.raises(LoratuneError, match="--resume"):
        _sweep(tmp_path, data_csv, small_space)


def test_resume_skips_finished_and_reruns_interrupted(tmp_path, data_csv, small_space):
    _sweep(tmp_path, data_csv, small_space, n=2)
    url = f"sqlite:///{tmp_path}/t.db"
    study = open_study(url, "s", create=False)
    space = load_space(small_space)
    finished = done_keys(study)
    left = next(
        c
        for c in space.configs()
        if __import__("loratune.space").space.config_key(c) not in finished
    )
    start_trial(study, space, left, {})  # a trial in flight when the process died
    recs = _sweep(tmp_path, data_csv, small_space, resume=True)
    ok = [r for r in recs if r.ok]
    assert len(ok) == 4  # two old, two new: the finished ones were not run again
    assert len([r for r in recs if r.state == "failed"]) == 1  # the interrupted record stays
    # results.jsonl says why that row failed; importing it imports nothing, so a study
    # rebuilt from the rows trains the config again.
    rows = export_rows(open_study(url, "s", create=False))
    (failed,) = [row for row in rows if row["status"] == "failed"]
    assert failed["error"] == INTERRUPTED
    assert all(row["error"] is None for row in rows if row["status"] == "complete")
    fresh = open_study(f"sqlite:///{tmp_path}/fresh.db", "s")
    assert import_rows(fresh, space, rows) == 4
    assert import_rows(fresh, space, [{**failed, "error": None}]) == 0  # an older export


def test_failed_trial_is_recorded_and_the_sweep_goes_on(tmp_path, data_csv, small_space):
    spec = JobSpec.from_options(
        data=data_csv,
        kind="sweep",
        model="tiny-llama",
        space=small_space,
        storage=f"sqlite:///{tmp_path}/t.db",
        study="f",
        device="cpu",
        n_train=24,
    )
    job = prepare_job(spec)
    real = job.get_executor()

    class Flaky:
        device = "cpu"

        def run(self, config, hooks, save_adapter=None):
            if config.rank == 2 and config.learning_rate == 1e-2:
                raise TrialFailed("loss is nan at epoch 1 step 3")
            return real.run(config, hooks, save_adapter=save_adapter)

    job.executor = Flaky()
    recs = run_configs(job, load_space(small_space).configs(), "sweep")
    assert [r.state for r in recs].count("failed") == 1
    assert [r.state for r in recs].count("complete") == 3
    failed = next(r for r in records(job.study) if r.state == "failed")
    assert "nan" in failed.metrics["error"]
    assert done_keys(job.study) == {r.metrics["config_key"] for r in recs}


def test_sweep_save_best_keeps_the_pick_with_its_card(tmp_path, data_csv, small_space):
    recs = _sweep(tmp_path, data_csv, small_space, save="best", out=tmp_path / "run")
    best = max((r for r in recs if r.full), key=lambda r: (r.accuracy, -r.number))
    folder = tmp_path / "run" / "adapter"
    meta = json.loads((folder / "loratune.json").read_text())
    assert meta["trial"] == best.number and meta["validation_accuracy"] == best.accuracy
    assert (folder / "README.md").is_file() and (folder / "adapter_model.safetensors").is_file()
    assert not (tmp_path / "run" / "adapters").exists()  # the others were not kept


def test_study_names_never_leave_runs():
    from loratune.api.pick import runs_dir

    for name in ("../../etc/x", "/abs/path", "a:b:c", ".."):
        path = runs_dir(name)
        assert path.parent == Path("runs") and ".." not in path.parts
