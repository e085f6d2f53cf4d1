"""Bad input: one clear line on stderr, exit status 2, and the recorded study left intact."""

import subprocess
import sys
from pathlib import Path

import pytest

from loratune.api.validate import find_grid_study
from loratune.study import open_study, records, study_space


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loratune", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def _tiny_sweep(tmp, url: str) -> list[str]:
    """The one sweep the recorded study holds; the refusal test repeats it exactly."""
    return [
        "--data",
        str(tmp / "data.csv"),
        "--model",
        "tiny-llama",
        "--space",
        str(tmp / "space.toml"),
        "--storage",
        url,
        "--study",
        "keep",
        "--n-train",
        "20",
    ]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, make_data_csv):
    """A study with two finished trials, which no failing command may disturb."""
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "space.toml").write_text(
        "[grid]\nrank = [2, 4]\nlearning_rate = [1e-3]\n[fixed]\nepochs = 1\n"
    )
    make_data_csv(tmp / "data.csv", n=60, labels=("a", "b"))
    url = f"sqlite:///{tmp}/keep.db"
    res = run("sweep", *_tiny_sweep(tmp, url), "--device", "cpu")
    assert res.returncode == 0, res.stderr
    return tmp, url


def _bad(tmp, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


CASES = {
    "unknown domain": lambda t: ["--domain", "astrology"],
    "unknown model": lambda t: ["--domain", "financial", "--model", "gpt-17"],
    "malformed toml": lambda t: ["--domain", "financial", "--space", _bad(t, "m.toml", "[grid\n")],
    "rank 0": lambda t: [
        "--domain",
        "financial",
        "--space",
        _bad(t, "r.toml", "[grid]\nrank=[0]\nlearning_rate=[1e-3]"),
    ],
    "negative lr": lambda t: [
        "--domain",
        "financial",
        "--space",
        _bad(t, "l.toml", "[grid]\nrank=[4]\nlearning_rate=[-1]"),
    ],
    "empty data": lambda t: ["--data", _bad(t, "e.csv", "")],
    "malformed jsonl": lambda t: [
        "--data",
        _bad(t, "b.jsonl", '{"text": "a", "label": "x"}\n{oops\n'),
    ],
    "short csv row": lambda t: ["--data", _bad(t, "s.csv", "text,label\nhello,a\nbroken\n")],
    "missing data": lambda t: ["--data", str(t / "nope.csv")],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_exit_2_and_study_intact(recorded, case):
    tmp, url = recorded
    res = run("sweep", *CASES[case](tmp), "--storage", url, "--study", "keep", "--resume")
    assert res.returncode == 2, (case, res.stdout, res.stderr)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr
    assert len([r for r in records(open_study(url, "keep", create=False)) if r.ok]) == 2


def test_bad_row_error_names_file_and_line(recorded):
    tmp, url = recorded
    res = run(
        "sweep",
        "--data",
        _bad(tmp, "b2.jsonl", '{"text": "a", "label": "x"}\n{oops\n'),
        "--storage",
        url,
    )
    assert "b2.jsonl:2" in res.stderr


def test_existing_study_without_resume_is_refused(recorded):
    tmp, url = recorded
    res = run("sweep", *_tiny_sweep(tmp, url))
    assert res.returncode == 2 and "--resume" in res.stderr


def test_export_writes_document_fields(recorded):
    import json

    tmp, url = recorded
    out = tmp / "results.jsonl"
    res = run("export", str(out), "--storage", url)
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2 and rows[0]["rank"] == 2 and rows[0]["alpha"] == 4


def test_domains_lists_twelve():
    res = run("domains")
    assert res.returncode == 0
    assert len(res.stdout.strip().splitlines()) == 12


# A recorded 60-config grid (protocol 1, archived): import reads any exported rows.
GRID = (
    Path(__file__).resolve().parents[1]
    / "benchmarks/grids/archive/protocol-1/customer_support.jsonl"
)


def test_import_recorded_grid_makes_a_complete_grid_study(tmp_path):
    url = f"sqlite:///{tmp_path}/grid.db"
    first = run("import", str(GRID), "--storage", url)
    assert first.returncode == 0, first.stderr
    assert "60 trials added" in first.stdout
    again = run("import", str(GRID), "--storage", url)
    assert "0 trials added" in again.stdout  # idempotent
    name = find_grid_study(url, "customer_support", "smollm2-135m", "default")
    assert name == "sweep:customer_support:smollm2-135m:default"
    study = open_study(url, name, create=False)
    space = study_space(study)
    assert space is not None and len(space) == 60
    recs = records(study)
    assert len(recs) == 60 and all(r.ok and len(r.curve) == 3 for r in recs)


def test_import_broken_line_names_file_and_line(tmp_path):
    good = GRID.read_text().splitlines()[0]
    bad = tmp_path / "results.jsonl"
    bad.write_text(good + "\n{not json\n")
    out = run("import", str(bad), "--storage", f"sqlite:///{tmp_path}/x.db")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "results.jsonl:2" in out.stderr


def test_cli_autotune_defaults_are_the_api_defaults():
    # The CLI spells its defaults out (so --help shows them without importing the trainer);
    # they must stay those of the JobSpec loratune.autotune builds, which the race measured.
    import dataclasses
    import inspect

    from loratune.api.spec import Budget, JobSpec, TaskSpec
    from loratune.cli.app import autotune as cli_autotune

    cli = inspect.signature(cli_autotune).parameters
    spec = JobSpec(TaskSpec("customer_support"), device="cpu")
    api = {
        **{f.name: f.default for f in dataclasses.fields(Budget)},
        **{f.name: getattr(spec, f.name) for f in dataclasses.fields(JobSpec)},
        **{f.name: getattr(spec.task, f.name) for f in dataclasses.fields(TaskSpec)},
        "save": spec.keep,
    }
    names = ("explore", "verify", "rule", "early_stop", "strategy", "seed", "data_seed", "model")
    names += ("prior", "ceiling")
    for name in (*names, "save"):
        assert cli[name].default == api[name], name
    for name in ("n_train", "n_val", "n_test"):  # sizes are text on the command line ('all')
        assert int(cli[name].default) == api[name], name
