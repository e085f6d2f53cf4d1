"""provenance.git_commit: '+dirty' for edited code or settings, not for regenerated figures."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from loratune.provenance import GENERATED, git_commit

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    files = {
        "src/code.py": "x = 1\n",
        "benchmarks/RESULTS.md": "# old\n",
        "benchmarks/results.json": "{}\n",
        "benchmarks/holdout.toml": 'tuning = ["a"]\n',
        "benchmarks/grids/m/a.jsonl": "{}\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    return tmp_path


def test_regenerated_figures_do_not_make_the_checkout_dirty(repo):
    clean = git_commit(GENERATED, cwd=repo / "src")
    assert clean is not None and len(clean) == 40
    (repo / "benchmarks" / "RESULTS.md").write_text("# new\n")
    (repo / "benchmarks" / "results.json").write_text('{"new": 1}\n')
    assert git_commit(GENERATED, cwd=repo / "src") == clean
    assert git_commit(cwd=repo / "src") == clean + "+dirty"  # strict: a recording's check


@pytest.mark.parametrize(
    "name", ["src/code.py", "benchmarks/holdout.toml", "benchmarks/grids/m/a.jsonl"]
)
def test_code_settings_and_grids_still_count(repo, name):
    clean = git_commit(GENERATED, cwd=repo)
    (repo / name).write_text("edited\n")
    assert git_commit(GENERATED, cwd=repo) == clean + "+dirty"
