"""Every failure of the command line takes one form: one line on stderr, exit 2, no traceback
(130 after an interrupt, with how to resume); `--debug` shows the traceback.

Each bad input of BAD runs in-process (`loratune.cli.main`) in a folder whose default storage
`loratune.db` already holds a study with one finished tiny trial; after the refusal the
database is byte-for-byte the same and the folder holds no new file (no study, no runs/).
A few run as a real subprocess too.

    LORATUNE_RELIABILITY_TABLE=docs/reliability.md pytest tests/test_cli_errors.py

writes the table of what was tried and what each gave (docs/reliability.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from loratune.cli import main
from loratune.study import open_study, records

TABLE_ENV = "LORATUNE_RELIABILITY_TABLE"

# A tiny run: two configs, a few examples, tiny-llama on the CPU.
TINY = ["--model", "tiny-llama", "--device", "cpu", "--n-train", "8", "--n-val", "4"]
TINY += ["--n-test", "4"]
SWEEP_BARE = ["sweep", "--domain", "customer_support", *TINY]
AUTOTUNE_BARE = [
    "autotune",
    "--domain",
    "customer_support",
    *TINY,
    "--explore",
    "2",
    "--verify",
    "1",
]
SWEEP = [*SWEEP_BARE, "--space", "{dir}/space.toml"]
AUTOTUNE = [*AUTOTUNE_BARE, "--space", "{dir}/space.toml"]
SPACE = (
    "[grid]\nrank = [2, 4]\nlearning_rate = [1e-3, 3e-3]\n[fixed]\nepochs = 1\nmax_length = 48\n"
)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loratune", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def _write_files(d: Path) -> None:
    """Every bad (and a few good) input file the cases below name."""
    d.mkdir(exist_ok=True)
    (d / "space.toml").write_text(SPACE)
    spaces = {
        "s_string": '[grid]\nrank = ["4"]\nlearning_rate = [1e-3]\n',
        "s_bool": "[grid]\nrank = [4]\nlearning_rate = [true]\n",
        "s_inf": "[grid]\nrank = [4]\nlearning_rate = [inf]\n",
        "s_nan": "[grid]\nrank = [4]\nlearning_rate = [1e-3]\n[fixed]\ndropout = nan\n",
        "s_dup": "[grid]\nrank = [4, 8, 4]\nlearning_rate = [1e-3]\n",
        "s_other": "[grid]\nrank = [4, 16]\nlearning_rate = [1e-3]\n",
        "s_dup_equal": "[grid]\nrank = [4]\nlearning_rate = [1e-3, 0.001]\n",
        "s_fixd": "[grid]\nrank = [4]\nlearning_rate = [1e-3]\n[fixd]\nepochs = 2\n",
        "s_key": "[grid]\nrank = [4]\nlearning_rate = [1e-3]\nlr = [1e-3]\n",
        "s_empty": "[grid]\nrank = []\nlearning_rate = [1e-3]\n",
        "s_scalar": "[grid]\nrank = 4\nlearning_rate = [1e-3]\n",
        "s_float_rank": "[grid]\nrank = [4.5]\nlearning_rate = [1e-3]\n",
        "s_both": "[grid]\nrank = [4]\nlearning_rate = [1e-3]\n[fixed]\nrank = 8\n",
        "s_huge": "[grid]\nrank = [{r}]\nlearning_rate = [{lr}]\n".format(
            r=", ".join(str(i) for i in range(1, 1001)),
            lr=", ".join(f"{i}e-6" for i in range(1, 1001)),
        ),
        "s_malformed": "[grid\nrank = [4]\n",
        "s_rank0": "[grid]\nrank = [0]\nlearning_rate = [1e-3]\n",
        "s_neg_lr": "[grid]\nrank = [4]\nlearning_rate = [-1e-3]\n",
        "s_seed": "[grid]\nrank = [4]\nlearning_rate = [1e-3]\n[fixed]\nseed = 3\n",
        "s_alpha_both": "[grid]\nrank = [4]\nlearning_rate = [1e-3]\n[fixed]\nalpha = 8\n"
        "alpha_ratio = 2\n",
        "s_modules": "[grid]\nrank = [4]\nlearning_rate = [1e-3]\n[fixed]\ntarget_modules = []\n",
        "s_no_grid": "[fixed]\nrank = 4\n",
        "s_no_lr": "[grid]\nrank = [4]\n",
        "s_name": "name = 3\n[grid]\nrank = [4]\nlearning_rate = [1e-3]\n",
    }
    for name, text in spaces.items():
        (d / f"{name}.toml").write_text(text)
    (d / "s_binary.toml").write_bytes(bytes(range(256)))
    (d / "s_latin1.toml").write_bytes("# café\n[grid]\nrank = [4]\n".encode("latin-1"))
    (d / "s_folder.toml").mkdir(exist_ok=True)

    rows = "".join(f"ticket {i} text,label{i % 3}\n" for i in range(40))
    data = {
        "d_empty.csv": "",
        "d_header.csv": "text,label\n",
        "d_columns.csv": "text,label\na,x\nb,y,z\n",
        "d_unknown.csv": "foo,bar\n1,2\n",
        "d_bad.jsonl": '{"text": "a", "label": "x"}\n[1, 2]\n',
        "d_notjson.jsonl": '{"text": "a", "label": "x"}\n{"text": "b", \n',
        "d_empty_label.jsonl": '{"text": "a", "label": ""}\n',
        "d_one_label.csv": "text,label\n" + "".join(f"t{i},same\n" for i in range(200)),
        "d_few.csv": "text,label\na,x\nb,y\n",
        "d_dup_header.csv": "text,text,label\na,b,c\n",
        "d_nul.csv": "text,label\na\0b,x\n",
        "d_kind_extract.jsonl": "".join(
            json.dumps({"prompt": f"p{i}", "completion": f"c{i}"}) + "\n" for i in range(20)
        ),
        "d_array.json": '[{"text": "a", "label": "x"}, 2]',
        "d.txt": "hello",
        "d_train.csv": "text,label\n" + rows,
    }
    for name, text in data.items():
        (d / name).write_text(text)
    (d / "d_latin1.csv").write_bytes("text,label\nok,x\ncaf\xe9,y\n".encode("latin-1"))
    (d / "d_folder").mkdir(exist_ok=True)
    fifo = d / "d_fifo.csv"
    if not fifo.exists() and hasattr(os, "mkfifo"):
        os.mkfifo(fifo)
    (d / "not_a_db.db").write_text("hello, not sqlite")
    (d / "corrupt.db").write_bytes(b"SQLite format 3\0" + bytes(range(256)) * 16)

    good = {
        "status": "complete",
        "config": {"rank": 2, "alpha": 4.0, "learning_rate": 1e-3, "epochs": 1, "max_length": 48},
        "accuracy": 0.5,
        "curve": [0.5],
        "study": "imported",
        "timestamp": "2025-01-01T00:00:00",
    }
    outside = {**good, "config": {**good["config"], "rank": 128, "alpha": 256.0}}
    bad_value = {**good, "config": {**good["config"], "rank": 4, "alpha": 8.0}, "accuracy": "x"}
    (d / "i_outside.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(outside) + "\n")
    (d / "i_value.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(bad_value) + "\n")
    (d / "i_broken.jsonl").write_text(json.dumps(good) + "\n{not json\n")
    (d / "i_fields.jsonl").write_text('{"accuracy": 0.5}\n')


# (id, command line, what the one line must contain). {dir} is the folder of input files.
BAD: list[tuple[str, list[str], str]] = [
    # usage errors
    ("unknown option", ["sweep", "--bogus"], "No such option"),
    ("bad integer", ["autotune", "--explore", "x"], "--explore"),
    ("float for an integer", ["sweep", "--n", "2.5"], "--n"),
    ("unknown command", ["nosuch"], "No such command"),
    ("missing option value", ["export", "--storage"], "requires an argument"),
    ("missing argument", ["import"], "Missing argument"),
    ("flag given a value", ["sweep", "--resume=maybe"], "does not take a value"),
    # storage
    ("unknown URL scheme", ["export", "--storage", "foo://x"], "cannot open storage"),
    ("plain path as storage", ["export", "--storage", "{dir}"], "is not a URL"),
    ("text file as SQLite", ["export", "--storage", "sqlite:///{dir}/not_a_db.db"], "not a"),
    ("corrupted SQLite", ["export", "--storage", "sqlite:///{dir}/corrupt.db"], "not a"),
    ("SQLite in a missing folder", ["export", "--storage", "sqlite:///{dir}/no/x.db"], "storage"),
    (
        "journal in a missing folder",
        ["export", "--storage", "journal://{dir}/no/x.log"],
        "journal",
    ),
    ("export of an unknown study", ["export", "--study", "nosuch"], "no study named"),
    ("predict an unknown study", ["predict", "--study", "nosuch"], "nosuch"),
    ("validate an unknown study", ["validate", "--study", "nosuch"], "nosuch"),
    # options of a run
    ("bad verify rule", [*AUTOTUNE, "--rule", "bogus"], "verify rule"),
    ("NaN price", [*SWEEP, "--price-per-hour", "nan"], "price per hour"),
    (
        "ray: GPUs asked of a local cluster without any",
        [*SWEEP, "--backend", "ray", "--gpus-per-trial", "0.5"],
        "--gpus-per-trial 0.5 but this machine has 0",
    ),
    ("infinite price", [*SWEEP, "--price-per-hour", "inf"], "price per hour"),
    ("negative price", [*AUTOTUNE, "--price-per-hour", "-1"], "price per hour"),
    ("zero validation size", [*AUTOTUNE, "--n-val", "0"], "--n-val"),
    ("negative training size", [*SWEEP, "--n-train", "-5"], "--n-train"),
    ("size not a number", [*SWEEP, "--n-test", "abc"], "--n-test"),
    ("'all' for a domain", [*SWEEP, "--n-train", "all"], "your own data"),
    ("zero configs", [*SWEEP, "--n", "0"], "--n"),
    ("negative seed", [*SWEEP, "--seed", "-1"], "--seed"),
    ("seed too large", [*SWEEP, "--seed", str(2**40)], "--seed"),
    ("negative data seed", [*AUTOTUNE, "--data-seed", "-3"], "--data-seed"),
    ("unknown save rule", [*AUTOTUNE, "--save", "some"], "--save"),
    ("unknown save rule (sweep)", [*SWEEP, "--save", "bogus"], "--save"),
    ("explore below 2", [*AUTOTUNE, "--explore", "1"], "--explore"),
    ("verify below 1", [*AUTOTUNE, "--verify", "0"], "--verify"),
    ("separate of 1", [*AUTOTUNE, "--separate", "1"], "--separate"),
    (
        "separate, metric without hits",
        [*AUTOTUNE, "--separate", "2", "--metric", "macro_f1"],
        "--separate",
    ),
    ("verify larger than the grid", [*AUTOTUNE, "--explore", "2", "--verify", "5"], "grid"),
    ("unknown device", [*SWEEP, "--device", "tpu"], "unknown device"),
    ("CUDA device index", [*SWEEP, "--device", "cuda:99"], "CUDA"),
    ("MPS off a Mac", [*AUTOTUNE, "--device", "mps"], "MPS"),
    ("CPU with an index", [*SWEEP, "--device", "cpu:1"], "unknown device"),
    ("unknown model", [*SWEEP, "--model", "nosuch"], "unknown model"),
    ("unknown domain", ["sweep", "--domain", "nowhere", *TINY], "unknown domain"),
    ("unknown metric", [*SWEEP, "--metric", "bleu"], "unknown metric 'bleu'"),
    ("metric not for the task's kind", [*AUTOTUNE, "--metric", "token_f1"], "does not apply"),
    (
        "resume with another metric",
        [*SWEEP, "--study", "s1", "--resume", "--metric", "val_loss"],
        "metric",
    ),
    ("neither domain nor data", ["sweep", *TINY], "--domain"),
    ("--val-data with a domain", [*SWEEP, "--val-data", "{dir}/d_train.csv"], "--val-data"),
    ("--out is a file", [*AUTOTUNE, "--out", "{dir}/space.toml"], "--out"),
    ("predict --top 0", ["predict", "--study", "s1", "--top", "0"], "--top"),
    ("study exists, no --resume", [*SWEEP, "--study", "s1"], "--resume"),
    ("resume with another seed", [*SWEEP, "--study", "s1", "--resume", "--seed", "1"], "seed"),
    ("resume on other data", [*SWEEP, "--study", "s1", "--resume", "--data-seed", "2"], "data"),
    ("autotune on a sweep's study", [*AUTOTUNE, "--study", "s1", "--resume"], "loratune sweep"),
    (
        "resume on another space",
        [*SWEEP_BARE, "--space", "{dir}/s_other.toml", "--study", "s1", "--resume"],
        "another space",
    ),
    # space files
    ("space: a string value", [*SWEEP_BARE, "--space", "{dir}/s_string.toml"], "grid.rank"),
    ("space: a boolean value", [*SWEEP_BARE, "--space", "{dir}/s_bool.toml"], "grid.learning_rate"),
    ("space: infinity", [*SWEEP_BARE, "--space", "{dir}/s_inf.toml"], "finite"),
    ("space: NaN", [*AUTOTUNE_BARE, "--space", "{dir}/s_nan.toml"], "fixed.dropout"),
    ("space: duplicate value", [*SWEEP_BARE, "--space", "{dir}/s_dup.toml"], "twice"),
    ("space: equal values", [*SWEEP_BARE, "--space", "{dir}/s_dup_equal.toml"], "twice"),
    ("space: table [fixd]", [*SWEEP_BARE, "--space", "{dir}/s_fixd.toml"], "'fixd'"),
    ("space: unknown key", [*SWEEP_BARE, "--space", "{dir}/s_key.toml"], "grid.lr"),
    ("space: empty list", [*SWEEP_BARE, "--space", "{dir}/s_empty.toml"], "empty list"),
    ("space: value not a list", [*SWEEP_BARE, "--space", "{dir}/s_scalar.toml"], "must be a list"),
    ("space: fractional rank", [*SWEEP_BARE, "--space", "{dir}/s_float_rank.toml"], "integer"),
    ("space: key in grid and fixed", [*SWEEP_BARE, "--space", "{dir}/s_both.toml"], "both"),
    ("space: a million configs", [*AUTOTUNE_BARE, "--space", "{dir}/s_huge.toml"], "configs"),
    ("space: malformed TOML", [*SWEEP_BARE, "--space", "{dir}/s_malformed.toml"], "malformed"),
    ("space: rank 0", [*SWEEP_BARE, "--space", "{dir}/s_rank0.toml"], "rank"),
    (
        "space: negative learning rate",
        [*SWEEP_BARE, "--space", "{dir}/s_neg_lr.toml"],
        "learning_rate",
    ),
    ("space: a seed in the space", [*SWEEP_BARE, "--space", "{dir}/s_seed.toml"], "--seed"),
    ("space: alpha and alpha_ratio", [*SWEEP_BARE, "--space", "{dir}/s_alpha_both.toml"], "alpha"),
    (
        "space: no target modules",
        [*SWEEP_BARE, "--space", "{dir}/s_modules.toml"],
        "target_modules",
    ),
    ("space: no [grid]", [*SWEEP_BARE, "--space", "{dir}/s_no_grid.toml"], "[grid]"),
    ("space: no learning rate", [*SWEEP_BARE, "--space", "{dir}/s_no_lr.toml"], "learning_rate"),
    ("space: name not a string", [*SWEEP_BARE, "--space", "{dir}/s_name.toml"], "name"),
    ("space: a binary file", [*SWEEP_BARE, "--space", "{dir}/s_binary.toml"], "binary"),
    ("space: not UTF-8", [*SWEEP_BARE, "--space", "{dir}/s_latin1.toml"], "s_latin1.toml:1"),
    ("space: a folder", [*SWEEP_BARE, "--space", "{dir}/s_folder.toml"], "folder"),
    ("space: missing file", [*SWEEP_BARE, "--space", "{dir}/nowhere.toml"], "not found"),
    # data files
    ("data: empty file", ["sweep", "--data", "{dir}/d_empty.csv", *TINY], "empty"),
    ("data: header only", ["sweep", "--data", "{dir}/d_header.csv", *TINY], "no rows"),
    ("data: wrong column count", ["sweep", "--data", "{dir}/d_columns.csv", *TINY], "csv:3"),
    ("data: unknown columns", ["sweep", "--data", "{dir}/d_unknown.csv", *TINY], "columns"),
    ("data: not UTF-8", ["sweep", "--data", "{dir}/d_latin1.csv", *TINY], "d_latin1.csv:3"),
    ("data: JSONL line not an object", ["sweep", "--data", "{dir}/d_bad.jsonl", *TINY], ":2"),
    ("data: broken JSON line", ["sweep", "--data", "{dir}/d_notjson.jsonl", *TINY], ":2"),
    ("data: empty label", ["sweep", "--data", "{dir}/d_empty_label.jsonl", *TINY], ":1"),
    ("data: one label", ["sweep", "--data", "{dir}/d_one_label.csv", *TINY], "2 distinct"),
    ("data: too few rows", ["sweep", "--data", "{dir}/d_few.csv", *TINY], "distinct rows"),
    ("data: duplicate column", ["sweep", "--data", "{dir}/d_dup_header.csv", *TINY], "twice"),
    ("data: NUL byte in CSV", ["sweep", "--data", "{dir}/d_nul.csv", *TINY], "d_nul.csv:2"),
    (
        "data: .json array of non-objects",
        ["sweep", "--data", "{dir}/d_array.json", *TINY],
        "element",
    ),
    ("data: unknown suffix", ["sweep", "--data", "{dir}/d.txt", *TINY], ".jsonl or .csv"),
    ("data: folder without train", ["sweep", "--data", "{dir}/d_folder", *TINY], "train"),
    ("data: a FIFO", ["sweep", "--data", "{dir}/d_fifo.csv", *TINY], "regular file"),
    ("data: path through a file", ["sweep", "--data", "{dir}/space.toml/x.csv", *TINY], "x.csv"),
    ("data: missing file", ["sweep", "--data", "{dir}/nowhere.csv", *TINY], "not found"),
    (
        "data: mixed kinds across splits",
        ["sweep", "--data", "{dir}/d_train.csv", "--val-data", "{dir}/d_kind_extract.jsonl"] + TINY,
        "classification",
    ),
    (
        "data: validation file a folder",
        ["sweep", "--data", "{dir}/d_train.csv", "--val-data", "{dir}/d_folder", *TINY],
        "folder",
    ),
    # import and export
    (
        "import: config outside the space",
        ["import", "{dir}/i_outside.jsonl", "--space", "{dir}/space.toml"],
        "not in space",
    ),
    (
        "import: a bad value",
        ["import", "{dir}/i_value.jsonl", "--space", "{dir}/space.toml"],
        "row 2",
    ),
    ("import: broken JSON", ["import", "{dir}/i_broken.jsonl"], "i_broken.jsonl:2"),
    ("import: not an exported trial", ["import", "{dir}/i_fields.jsonl"], "not an exported"),
    ("import: missing file", ["import", "{dir}/nowhere.jsonl"], "cannot read"),
    (
        "import: bad space",
        ["import", "{dir}/i_value.jsonl", "--space", "{dir}/s_dup.toml"],
        "twice",
    ),
    ("export: target in a missing folder", ["export", "{dir}/no/such/out.jsonl"], "cannot write"),
    ("export: target is a folder", ["export", "{dir}/d_folder"], "cannot write"),
    # using an adapter
    ("deploy: missing adapter", ["deploy", "--adapter", "{dir}/nowhere"], "nowhere"),
    ("try: missing adapter", ["try", "--adapter", "{dir}/nowhere", "hello"], "nowhere"),
]

# Cases that do not run on every machine.
SKIP = {
    "data: a FIFO": not hasattr(os, "mkfifo"),
    "ray: GPUs asked of a local cluster without any": torch.cuda.is_available(),
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose default storage holds study s1 with one finished tiny trial."""
    d = tmp_path_factory.mktemp("cli")
    _write_files(d / "in")
    cwd = Path.cwd()
    os.chdir(d)
    try:
        args = [a.format(dir=d / "in") for a in SWEEP] + ["--study", "s1", "--n", "1"]
        try:
            main(args)
        except SystemExit as exc:
            assert exc.code in (0, None)
    finally:
        os.chdir(cwd)
    assert [r.state for r in records(open_study(f"sqlite:///{d}/loratune.db", "s1"))] == [
        "complete"
    ]
    return d


@pytest.fixture(scope="module")
def table():
    """Rows of docs/reliability.md, written at the end when LORATUNE_RELIABILITY_TABLE is set."""
    rows: dict[str, tuple[str, int, str]] = {}
    yield rows
    target = os.environ.get(TABLE_ENV)
    if target and rows:
        _write_table(Path(target), rows)


def _snapshot(d: Path) -> tuple[str, list[str]]:
    db = d / "loratune.db"
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    files = sorted(str(p.relative_to(d)) for p in d.rglob("*") if "__pycache__" not in p.parts)
    return digest, files


def run_in_process(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    code: int | str | None = 0
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code
    return (0 if code is None else int(code)), capsys.readouterr().err


@pytest.mark.parametrize("what, args, message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_exit_2_and_the_study_unchanged(
    workdir, table, capsys, monkeypatch, what, args, message
):
    if SKIP.get(what):
        pytest.skip("not possible on this platform")
    monkeypatch.chdir(workdir)
    monkeypatch.delenv("LORATUNE_DEVICE", raising=False)
    args = [a.format(dir=workdir / "in") for a in args]
    before = _snapshot(workdir)
    start = time.perf_counter()
    code, err = run_in_process(args, capsys)
    seconds = time.perf_counter() - start
    line = err.strip()
    table[what] = (_shown(args, workdir), code, _shown([line], workdir).removeprefix("loratune "))
    assert code == 2, (what, err)
    assert line.count("\n") == 0 and "Traceback" not in line, err
    assert message in line, line
    assert _snapshot(workdir) == before, "the refused command changed the storage or folder"
    assert seconds < 10, f"refused only after {seconds:.1f}s: training or a model load ran"


def test_env_device_is_checked_before_the_study(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("LORATUNE_DEVICE", "tpu")
    before = _snapshot(workdir)
    args = [a.format(dir=workdir / "in") for a in SWEEP if a not in ("--device", "cpu")]
    code, err = run_in_process(args, capsys)
    assert code == 2 and "unknown device 'tpu'" in err and err.strip().count("\n") == 0
    assert _snapshot(workdir) == before


SUBPROCESS = ["unknown option", "unknown device", "space: table [fixd]", "data: not UTF-8"]


@pytest.mark.parametrize("what", SUBPROCESS)
def test_a_real_process_gives_the_same_line(workdir, what):
    args = next(a for w, a, _ in BAD if w == what)
    args = [a.format(dir=workdir / "in") for a in args]
    before = _snapshot(workdir)
    res = run(*args, cwd=workdir)
    message = next(m for w, _, m in BAD if w == what)
    assert res.returncode == 2, res.stderr
    err = res.stderr.strip()
    assert err.count("\n") == 0 and "Traceback" not in err and message in err, err
    assert _snapshot(workdir) == before


def test_good_inputs_of_the_same_kinds_are_accepted(workdir, tmp_path):
    """The parsers accept what is valid: quoted newlines, a BOM, a long field, a JSON array."""
    from loratune.tasks import get_task

    long = "x" * 200_000
    lines = ["text,label"] + [f'"ticket {i}\nsecond line",l{i % 2}' for i in range(30)]
    lines.append(f'"{long}",l0')
    (tmp_path / "a.csv").write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    task = get_task(data=tmp_path / "a.csv", n_train=10, n_val=5, n_test=5)
    assert task.labels == ("l0", "l1")
    everything = task.train + task.validation + task.test
    assert all("\nsecond line" in e.prompt for e in everything if long not in e.prompt)
    rows = [{"text": f"t {i}\u2028more", "label": i % 2} for i in range(30)]
    (tmp_path / "b.json").write_text(json.dumps(rows, ensure_ascii=False))
    task = get_task(data=tmp_path / "b.json", n_train=10, n_val=5, n_test=5)
    assert task.labels == ("0", "1") and all("\u2028more" in e.prompt for e in task.train)


def test_debug_shows_the_traceback(tmp_path):
    res = run("export", "--storage", "foo://x", "--debug", cwd=tmp_path)
    assert res.returncode != 0 and "Traceback" in res.stderr


def test_ctrl_c_gives_130_and_a_resumable_study(tmp_path):
    (tmp_path / "space.toml").write_text(
        # Long enough that the sweep is still running when the first trial is seen recorded,
        # even on a loaded machine where the polling below is slow (3 trials left, 12 epochs
        # each: at 6 epochs a busy machine saw the whole sweep end first).
        "[grid]\nrank = [2, 4]\nlearning_rate = [1e-3, 3e-3]\n"
        "[fixed]\nepochs = 12\nmax_length = 48\n"
    )
    url = f"sqlite:///{tmp_path}/c.db"
    args = [
        "sweep",
        "--domain",
        "customer_support",
        "--model",
        "tiny-llama",
        "--space",
        str(tmp_path / "space.toml"),
        "--storage",
        url,
        "--study",
        "c",
        "--n-val",
        "16",
        "--n-test",
        "16",
        "--device",
        "cpu",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "loratune", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # A suite started in the background (`nohup pytest &`) inherits SIGINT ignored, and
        # Python keeps an ignored SIGINT ignored: the child must start as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # Interrupt right after the first trial's result line, not after polling the study: on a
    # loaded machine the polling saw the first trial only as the sweep was ending.
    seen: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [seen.put(x) for x in proc.stdout], daemon=True).start()
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if ": accuracy " in seen.get(timeout=max(0.1, deadline - time.time())):
                break
        except queue.Empty:
            break
    assert proc.poll() is None, "the sweep ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    err = proc.stderr.read()
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    done = [r for r in records(open_study(url, "c", create=False)) if r.state == "complete"]
    assert done
    res = run(*args, "--resume")
    assert res.returncode == 0, res.stderr
    final = records(open_study(url, "c", create=False))
    complete = [r for r in final if r.state == "complete"]
    assert len(complete) == 4
    assert len({r.metrics["config_key"] for r in complete}) == 4  # none trained twice


def test_import_is_all_or_nothing_and_export_refuses_unwritable(tmp_path):
    from loratune.space import Config

    space = tmp_path / "space.toml"
    space.write_text("[grid]\nrank = [2, 4]\nlearning_rate = [1e-3]\n")
    good = {
        "status": "complete",
        "config": Config(rank=2, alpha=4.0, learning_rate=1e-3).to_dict(),
        "accuracy": 0.5,
        "curve": [0.5],
        "timestamp": "2025-01-01T00:00:00",
    }
    bad = {**good, "config": Config(rank=4, alpha=8.0, learning_rate=1e-3).to_dict()}
    bad["accuracy"] = "not a number"
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    url = f"sqlite:///{tmp_path}/i.db"
    res = run("import", str(path), "--storage", url, "--space", str(space), "--study", "i")
    assert res.returncode == 2 and "row 2" in res.stderr and "nothing was imported" in res.stderr
    assert not (tmp_path / "i.db").exists() or "i" not in _study_names(url)
    path.write_text(json.dumps(good) + "\n")
    res = run("import", str(path), "--storage", url, "--space", str(space), "--study", "i")
    assert res.returncode == 0, res.stderr
    assert [r.state for r in records(open_study(url, "i"))] == ["complete"]
    res = run("export", str(tmp_path / "no" / "such" / "dir.jsonl"), "--storage", url)
    assert res.returncode == 2 and "cannot write" in res.stderr
    assert res.stderr.strip().count("\n") == 0


def _study_names(url: str) -> list[str]:
    from loratune.study import list_studies

    return list_studies(url)


def _shown(args: list[str], workdir: Path) -> str:
    """The command as the table shows it: input files by their name in the test folder."""
    text = " ".join(args).replace(str(workdir / "in") + "/", "").replace(str(workdir), ".")
    text = text.replace("sqlite:////", "sqlite:///")
    return "loratune " + text.replace(" ".join(TINY), "TINY")


def _write_table(target: Path, rows: dict[str, tuple[str, int, str]]) -> None:
    order = [w for w, _, _ in BAD if w in rows]
    lines = [
        "| # | input | command | exit | stderr (the one line) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for i, what in enumerate(order, 1):
        command, code, line = rows[what]
        cells = [str(i), what, f"`{command}`", str(code), line]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    text = target.read_text() if target.exists() else ""
    begin, end = "<!-- table: begin -->", "<!-- table: end -->"
    table = begin + "\n" + "\n".join(lines) + "\n" + end
    if begin in text and end in text:
        text = text[: text.index(begin)] + table + text[text.index(end) + len(end) :]
    else:
        text = text + ("\n" if text else "") + table + "\n"
    target.write_text(text)
