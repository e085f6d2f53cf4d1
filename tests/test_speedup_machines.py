"""The speedup against a grid recorded on another machine: no seconds ratio across machines.

A grid study and an autotune study are both imported from rows (as `loratune import` does for
the demo), so each trial carries the provenance its row names; validation then says whether
the two were measured on one machine.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from conftest import ground_truth_fields
from rich.console import Console

from loratune.api.machines import across_machines, machine_of
from loratune.api.validate import charged, validate_study
from loratune.cli.render import print_validation
from loratune.report.content import build
from loratune.report.data import gather
from loratune.report.render import to_markdown
from loratune.results import AutotuneResult, GridSummary, Prediction, Speedup, Spent, Validation
from loratune.space import Space, config_key
from loratune.study import TrialRecord, open_study, records
from loratune.study.rows import import_rows

SPACE = Space("mini", {"rank": (2, 4, 8), "learning_rate": (1e-3, 1e-2)}, {"epochs": 2})
GRID = "sweep:toy:tiny-llama:mini"
RUN = "autotune:toy:tiny-llama:mini"


def provenance(cpu: str, threads: int, gpu: str | None = None) -> dict[str, object]:
    return {"git_commit": "abc123", "cpu": cpu, "cpu_threads": threads, "gpu": gpu}


def row(i: int, seconds: float, prov: dict[str, object], phase: str, stop: bool = False) -> dict:
    c = SPACE.configs()[i]
    acc = 0.5 + 0.05 * i
    fields = ground_truth_fields(acc, [acc - 0.1, acc], 1.0)
    if stop:  # stopped after its first epoch: scored on the check subset, no test
        fields.update(curve=fields["curve"][:1], stopped_early=True, epochs_run=1)
    return {
        "status": "complete",
        "config": c.to_dict(),
        "domain": "toy",
        "model": "tiny-llama",
        **fields,
        "charged_seconds": seconds,
        "phase": phase,
        "cost": 0.0,
        "provenance": prov,
    }


GRID_SECONDS = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]  # 210 s, on the grid's machine
# This run: configs 0, 2 and 5 trained to the end, at 2x, 3x and 10x the grid's seconds on
# its own machine (median 3), and config 1 stopped after one epoch.
RUN_SECONDS = {0: 20.0, 2: 90.0, 5: 600.0, 1: 7.0}


def studies(tmp_path: Path, run_prov: dict[str, object]) -> str:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    grid_prov = provenance("AMD EPYC", 1)
    grid_rows = [row(i, s, grid_prov, "sweep") for i, s in enumerate(GRID_SECONDS)]
    assert import_rows(open_study(url, GRID), SPACE, grid_rows) == 6
    run_rows = [
        row(i, s, run_prov, "explore" if i < 2 else "verify", stop=i == 1)
        for i, s in RUN_SECONDS.items()
    ]
    assert import_rows(open_study(url, RUN), SPACE, run_rows) == 4
    return url


def cli_text(v: Validation) -> str:
    out = io.StringIO()
    print_validation(Console(file=out, width=400, color_system=None), v)
    return out.getvalue()


def report_text(url: str, v: Validation) -> str:
    recs = [r for r in records(open_study(url, RUN, create=False)) if r.ok]
    best = max((r for r in recs if r.full), key=lambda r: r.accuracy or 0.0)
    tried = {config_key(r.config) for r in recs}
    predictions = tuple(
        Prediction(c, 0.6, 0.05, 1.0, 0.1, 0.0, config_key(c) in tried) for c in SPACE.configs()
    )
    result = AutotuneResult(RUN, best, predictions, tuple(recs), (), v)
    return to_markdown(build(gather(result, SPACE)))


def test_grid_of_another_machine_gives_trials_epochs_and_a_calibrated_ratio(tmp_path) -> None:
    url = studies(tmp_path, provenance("Intel Xeon", 4))
    v = validate_study(RUN, url, grid_study=GRID)
    s, a = v.speedup, v.speedup.across
    assert a is not None and s.source == "calibrated"
    assert (a.trials, a.grid_trials, a.epochs, a.grid_epochs) == (4, 6, 7, 12)
    assert a.trials_factor == pytest.approx(1.5) and a.epochs_factor == pytest.approx(12 / 7)
    # Median of 20/10, 90/30, 600/60 on the three configs trained to the end here.
    assert a.calibrated_on == 3 and a.calibration == pytest.approx(3.0)
    assert a.calibrated_grid_seconds == pytest.approx(630.0)
    spent = sum(RUN_SECONDS.values())
    assert v.spent.seconds == pytest.approx(spent)
    assert s.grid_seconds == pytest.approx(210.0)  # still the grid's own, as recorded
    assert s.factor == pytest.approx(630.0 / spent)  # one machine's seconds over another's: no
    assert s.cost_saved == pytest.approx(1 - spent / 630.0)

    machines = (
        "the grid was recorded on AMD EPYC, 1 thread; this run on Intel Xeon, 4 threads: "
        "no seconds ratio across machines"
    )
    cli = cli_text(v)
    assert machines in cli
    assert (
        "speedup 1.5x in trials (4 of the grid's 6 configs trained), "
        "1.7x in epochs (7 epochs vs the exhaustive grid's 12)"
    ) in cli
    assert (
        f"calibrated speedup {630.0 / spent:.1f}x against the exhaustive grid (its 210 s scaled "
        "by 3.00, the median of this run's seconds / the grid's on the 3 configs both trained, "
        f"to 630 s on this machine, vs {spent:.0f} s spent)"
    ) in cli
    assert "measured" not in cli and f"210 s vs {spent:.0f} s" not in cli

    md = report_text(url, v)
    assert "The grid was recorded on AMD EPYC, 1 thread; this run on Intel Xeon, 4 threads" in md
    assert "no seconds ratio across machines" in md
    assert "**1.5× in trials** (4 of the grid's 6 configs trained)" in md
    assert "**1.7× in epochs** (7 epochs vs the exhaustive grid's 12)" in md
    assert f"Calibrated speedup **{630.0 / spent:.1f}×**" in md
    assert "over the 3 configs both trained to the end" in md
    assert "**1.7× fewer epochs** than the full grid" in md  # the verdict
    assert "measured" not in md


def test_grid_of_another_machine_without_shared_configs_gives_no_seconds_ratio(
    tmp_path,
) -> None:
    url = studies(tmp_path, provenance("AMD EPYC", 16))  # the same CPU, more threads
    v = validate_study(RUN, url, grid_study=GRID)
    a = v.speedup.across
    assert a is not None and a.run_machine == "AMD EPYC, 16 threads"
    # As if no config this run trained were in the grid (another training seed, say).
    lone = dataclasses.replace(a, calibration=None, calibrated_on=0, calibrated_grid_seconds=None)
    v = dataclasses.replace(
        v,
        speedup=Speedup(210.0, "other machine", None, None, 0.0, across=lone),
    )
    cli = cli_text(v)
    assert "this run on AMD EPYC, 16 threads: no seconds ratio across machines" in cli
    assert "speedup 1.5x in trials" in cli
    assert "no calibrated seconds ratio" in cli
    assert "against the exhaustive grid" not in cli
    md = report_text(url, v)
    assert "cannot be calibrated to this machine: no seconds ratio is given" in md
    assert "less compute" not in md


def test_grid_of_the_same_machine_keeps_the_measured_seconds_ratio(tmp_path) -> None:
    url = studies(tmp_path, provenance("AMD EPYC", 1))
    v = validate_study(RUN, url, grid_study=GRID)
    s = v.speedup
    spent = sum(RUN_SECONDS.values())
    assert s.across is None and s.source == "measured"
    assert s.grid_seconds == pytest.approx(210.0)
    assert s.factor == pytest.approx(210.0 / spent)
    cli = cli_text(v)
    assert (
        f"speedup {210.0 / spent:.1f}x against the exhaustive grid "
        f"(measured: 210 s vs {spent:.0f} s spent)"
    ) in cli
    assert "across machines" not in cli and "in trials" not in cli
    md = report_text(url, v)
    assert "less compute** than the full grid (grid compute measured)" in md
    assert "across machines" not in md


def rec(metrics: dict, prov: object, i: int = 0) -> TrialRecord:
    c = SPACE.configs()[i]
    metrics = {"config_key": config_key(c), **metrics}
    return TrialRecord(i, c, "complete", 0.5, (0.4, 0.5), metrics, {"provenance": prov})


def test_no_config_in_common_gives_no_calibration() -> None:
    """Trials of another training seed (the noise-aware step's) are not the grid's configs."""
    grid_prov, run_prov = provenance("AMD EPYC", 1), provenance("AMD EPYC", 1, gpu="NVIDIA H100")
    grid = [rec({"charged_seconds": 10.0}, grid_prov, i) for i in range(6)]
    run = [
        rec(
            {"charged_seconds": 5.0, "config_key": f"{config_key(SPACE.configs()[i])};seed=1"},
            run_prov,
            i,
        )
        for i in range(2)
    ]
    summary = GridSummary(GRID, 6, True, 0.5, 0.5, 60.0, 0.0)
    s = across_machines(summary, grid, run, Spent(10.0, 0.0, 2), charged)
    assert s is not None and s.across is not None
    assert s.source == "other machine" and s.factor is None and s.cost_saved is None
    assert s.across.run_machine == "AMD EPYC, 1 thread, GPU NVIDIA H100"
    assert s.across.calibrated_on == 0 and s.across.epochs_factor == pytest.approx(3.0)
    # One machine on both sides, or none named on one: the measured ratio stands.
    assert across_machines(summary, grid, grid[:2], Spent(20.0, 0.0, 2), charged) is None
    unnamed = [rec({"charged_seconds": 5.0}, None, i) for i in range(2)]
    assert across_machines(summary, grid, unnamed, Spent(10.0, 0.0, 2), charged) is None


def test_replayed_trials_and_missing_provenance_name_no_machine() -> None:
    assert machine_of(rec({"device": "cpu"}, provenance("AMD EPYC", 1))) == ("AMD EPYC", None, 1)
    # A replayed trial's seconds are the recorded row's, not this machine's.
    assert machine_of(rec({"device": "replay:cpu"}, provenance("Intel Xeon", 4))) is None
    assert machine_of(rec({"device": "cpu"}, None)) is None
