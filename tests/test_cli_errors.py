"""Every failure of the command line takes one form: one line on stderr, exit 2, no traceback
(130 after an interrupt, with how to resume); `--debug` shows the traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loratune.study import open_study, records


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loratune", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "not_a_db.db").write_text("hello, not sqlite")
    (tmp / "space.toml").write_text("[grid]\nrank = [2]\nlearning_rate = [1e-3]\n")
    return {"dir": tmp, "not_a_db": tmp / "not_a_db.db", "space": tmp / "space.toml"}


BAD = [
    ("unknown option", ["sweep", "--bogus"], "No such option"),
    ("bad integer", ["autotune", "--explore", "x"], "--explore"),
    ("unknown command", ["nosuch"], "No such command"),
    ("missing option value", ["export", "--storage"], "requires an argument"),
    ("unknown URL scheme", ["export", "--storage", "foo://x"], "cannot open storage"),
    ("plain path as storage", ["export", "--storage", "{dir}"], "is not a URL"),
    ("text file as SQLite", ["export", "--storage", "sqlite:///{not_a_db}"], "not a readable"),
    ("bad verify rule", ["autotune", "--domain", "legal", "--rule", "bogus"], "verify rule"),
    ("NaN price", ["sweep", "--domain", "legal", "--price-per-hour", "nan"], "price per hour"),
    ("zero validation size", ["autotune", "--domain", "legal", "--n-val", "0"], "--n-val"),
    ("'all' for a domain", ["sweep", "--domain", "legal", "--n-train", "all"], "your own data"),
    ("negative seed", ["sweep", "--domain", "legal", "--seed", "-1"], "--seed"),
    ("unknown save rule", ["autotune", "--domain", "legal", "--save", "some"], "--save"),
    ("unknown domain", ["sweep", "--domain", "nowhere"], "unknown domain"),
    ("data folder without train", ["sweep", "--data", "{dir}"], "train.jsonl"),
]


@pytest.mark.parametrize("what, args, message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_and_exit_2(files, what, args, message, tmp_path):
    args = [a.format(**files) for a in args]
    if args[0] in ("sweep", "autotune") and "--storage" not in args:
        args += ["--storage", f"sqlite:///{tmp_path}/s.db", "--model", "tiny-llama"]
    res = run(*args, cwd=tmp_path)
    assert res.returncode == 2, (what, res.stderr)
    err = res.stderr.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert message in err, err
    # Refused before any study was written.
    assert not list(tmp_path.glob("runs/*"))


def test_debug_shows_the_traceback(tmp_path):
    res = run("export", "--storage", "foo://x", "--debug", cwd=tmp_path)
    assert res.returncode != 0 and "Traceback" in res.stderr


def test_ctrl_c_gives_130_and_a_resumable_study(tmp_path):
    (tmp_path / "space.toml").write_text(
        "[grid]\nrank = [2, 4, 8, 16]\nlearning_rate = [1e-3, 3e-3]\n"
        "[fixed]\nepochs = 6\nmax_length = 48\n"
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
    )
    deadline = time.time() + 90
    while time.time() < deadline:  # wait until at least one trial is recorded
        time.sleep(0.5)
        try:
            if any(r.state == "complete" for r in records(open_study(url, "c", create=False))):
                break
        except Exception:
            continue
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    done = [r for r in records(open_study(url, "c", create=False)) if r.state == "complete"]
    assert done
    res = run(*args, "--resume")
    assert res.returncode == 0, res.stderr
    final = records(open_study(url, "c", create=False))
    complete = [r for r in final if r.state == "complete"]
    assert len(complete) == 8
    assert len({r.metrics["config_key"] for r in complete}) == 8  # none trained twice


def test_import_is_all_or_nothing_and_export_refuses_unwritable(tmp_path):
    import json

    from loratune.space import Config

    space = tmp_path / "space.toml"
    space.write_text("[grid]\nrank = [2, 4]\nlearning_rate = [1e-3]\n")
    good = {
        "status": "complete",
        "config": Config(rank=2, alpha=4.0, learning_rate=1e-3).to_dict(),
        "accuracy": 0.5,
        "curve": [0.5],
    }
    bad = {**good, "config": Config(rank=4, alpha=8.0, learning_rate=1e-3).to_dict()}
    bad["accuracy"] = "not a number"
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    url = f"sqlite:///{tmp_path}/i.db"
    res = run("import", str(path), "--storage", url, "--space", str(space), "--study", "i")
    assert res.returncode == 2 and "row 2" in res.stderr and "nothing was imported" in res.stderr
    assert not [r for r in records(open_study(url, "i")) if r.state == "complete"]
    res = run("export", str(tmp_path / "no" / "such" / "dir.jsonl"), "--storage", url)
    assert res.returncode == 2 and "cannot write" in res.stderr
    assert res.stderr.strip().count("\n") == 0
