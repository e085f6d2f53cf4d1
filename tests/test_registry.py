"""One registry of strategies: a strategy registered once (here, in the test, no other file
changed) is raced by the roster and run for real by `loratune autotune --strategy NAME`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from loratune.cli import main
from loratune.race.grids import Grid
from loratune.race.roster import Defaults, roster
from loratune.space import load_space
from loratune.strategies import registry
from loratune.strategies.base import Answer, Observation, Strategy
from loratune.study import open_study, records

NAME = "reverse-grid"


class ReverseGrid(Strategy):
    """The grid from its last config backwards, `n` trials."""

    name = NAME

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def budget(self) -> int | None:
        return self.n

    def _next(self, history: Sequence[Observation]) -> Answer:
        if len(history) >= self.n:
            return None
        return next(reversed(list(self._untried(history))), None)


@pytest.fixture
def reverse_grid() -> Iterator[None]:
    @registry.register(NAME)
    def _(s: registry.Setting) -> registry.Entry:
        n = s.explore + s.verify
        return registry.Entry(lambda: ReverseGrid(n), "the grid backwards", f"{n} trials", True)

    yield
    registry.unregister(NAME)


@pytest.fixture
def files(tmp_path: Path, make_data_csv) -> Path:
    (tmp_path / "space.toml").write_text(
        "[grid]\nrank = [2, 4]\nlearning_rate = [1e-3, 3e-3]\n[fixed]\nepochs = 1\n"
    )
    make_data_csv(tmp_path / "data.csv", n=60, labels=("a", "b"))
    return tmp_path


def _autotune(d: Path, strategy: str) -> list[str]:
    return [
        "autotune",
        *("--data", str(d / "data.csv"), "--space", str(d / "space.toml")),
        *("--model", "tiny-llama", "--device", "cpu", "--n-train", "20"),
        *("--explore", "2", "--verify", "1", "--save", "none"),
        *("--storage", f"sqlite:///{d}/s.db", "--study", strategy, "--out", str(d / strategy)),
        *("--strategy", strategy),
    ]


def test_the_roster_races_a_registered_strategy(reverse_grid: None) -> None:
    space = load_space("default")
    grid = Grid(Path("g.jsonl"), "m/g", "g", "m", "g", {}, 0, 0, 0, (), "", 32)
    entries = roster(space, grid, [grid], Defaults(12, 5, True))
    assert list(entries)[-1] == NAME and entries[NAME].budget == "17 trials"
    assert isinstance(entries[NAME].make(), ReverseGrid)


def test_the_cli_lists_and_refuses_by_the_registry(
    reverse_grid: None, files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["autotune", "--strategy", "list"])
    listed = capsys.readouterr().out
    assert NAME in listed and "optuna-gp" in listed and "loratune-default" in listed
    with pytest.raises(SystemExit) as exc:
        main(_autotune(files, "nosuch"))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "unknown strategy 'nosuch'" in err and NAME in err and len(err.splitlines()) == 1
    assert not (files / "s.db").exists()  # refused before any study was created


@pytest.mark.parametrize("strategy", [NAME, "optuna-gp"])
def test_the_cli_runs_a_registered_strategy(
    reverse_grid: None, files: Path, strategy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(_autotune(files, strategy))
    trials = records(open_study(f"sqlite:///{files}/s.db", strategy, create=False))
    assert len(trials) == 3 and all(r.ok for r in trials)
    assert {r.metrics["phase"] for r in trials} == {"search"}
    if strategy == NAME:  # it really chose: the grid's last three configs, last first
        configs = load_space(files / "space.toml").configs()
        assert [r.config.describe() for r in trials] == [c.describe() for c in configs[::-1][:3]]
    out = capsys.readouterr().out
    assert f"strategy {strategy}" in out
    assert (files / strategy / "report.html").is_file()
