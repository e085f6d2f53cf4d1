"""Which machine measured a trial's seconds, and the speedup when the grid's were measured on
another machine than this run's: a ratio never mixes machines.

A machine is what a trial's provenance names: the CPU, the GPU and the threads it trained with.
A replayed trial's seconds are the recorded row's, not this machine's, and a trial without
provenance names none: neither tells machines apart, so they are left out of the comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from statistics import median

from loratune import stats
from loratune.results import AcrossMachines, GridSummary, Speedup, Spent
from loratune.study import TrialRecord

Machine = tuple[str | None, str | None, int | None]  # cpu, gpu, threads


def machine_of(r: TrialRecord) -> Machine | None:
    """The machine that measured the trial's seconds, or None where it is not known."""
    if str(r.metrics.get("device") or "").startswith("replay"):
        return None
    prov = r.attrs.get("provenance") or {}
    if not isinstance(prov, dict):
        return None
    cpu, gpu, threads = prov.get("cpu"), prov.get("gpu"), prov.get("cpu_threads")
    if cpu is None and gpu is None:
        return None
    return (
        None if cpu is None else str(cpu),
        None if gpu is None else str(gpu),
        None if threads is None else int(threads),
    )


def describe(machines: set[Machine]) -> str:
    """'AMD EPYC, 1 thread'; several machines joined by ' and '."""
    out = []
    for cpu, gpu, threads in sorted(machines, key=str):
        parts = [cpu or "an unnamed CPU"]
        if threads is not None:
            parts.append(f"{threads} thread{'' if threads == 1 else 's'}")
        if gpu:
            parts.append(f"GPU {gpu}")
        out.append(", ".join(parts))
    return " and ".join(out)


def _epochs(r: TrialRecord) -> int:
    run = r.metrics.get("epochs_run")
    return int(run) if run is not None else len(r.curve)


def across_machines(
    grid: GridSummary,
    grid_recs: Sequence[TrialRecord],
    run: Sequence[TrialRecord],
    spent: Spent,
    charged: Callable[[TrialRecord], float],
) -> Speedup | None:
    """The speedup against a complete grid whose rows (its finished trials) name another
    machine than this run's trials (finished or failed: what it spent): in trials, epochs and
    calibrated seconds, never the ratio of the two machines' seconds. None where they name
    one machine, or where either side names none (the measured ratio stands)."""
    grid_ok = [r for r in grid_recs if r.ok]
    ran = [r for r in run if r.ok or r.state == "failed"]
    on_grid = {m for m in map(machine_of, grid_ok) if m is not None}
    on_run = {m for m in map(machine_of, ran) if m is not None}
    if not on_grid or not on_run or len(on_grid | on_run) == 1:
        return None
    # Same-machine calibration: this run's seconds against the grid row's, config by config,
    # on the configs both trained to the end (a trial stopped early spent less).
    rows = {r.metrics.get("config_key"): r for r in grid_ok if r.full}
    ratios = []
    for r in ran:
        row = rows.get(r.metrics.get("config_key"))
        if row is None or not r.full or machine_of(r) is None or not charged(row) > 0:
            continue
        ratios.append(charged(r) / charged(row))
    scale = float(median(ratios)) if ratios else None
    cal = grid.seconds * scale if scale is not None else None
    across = AcrossMachines(
        grid_machine=describe(on_grid),
        run_machine=describe(on_run),
        trials=len(ran),
        grid_trials=len(grid_ok),
        epochs=sum(_epochs(r) for r in ran),
        grid_epochs=sum(_epochs(r) for r in grid_ok),
        calibration=scale,
        calibrated_on=len(ratios),
        calibrated_grid_seconds=cal,
    )
    return Speedup(
        grid_seconds=grid.seconds,  # on the grid's machine
        source="calibrated" if cal is not None else "other machine",
        factor=stats.speedup(cal, spent.seconds) if cal is not None and spent.seconds else None,
        cost_saved=1.0 - spent.seconds / cal if cal else None,
        grid_cost=grid.cost,
        across=across,
    )


__all__ = ["across_machines", "describe", "machine_of"]
