"""Answer trials from a recorded real grid on a simulated clock.

A recorded grid is the results.jsonl export of a full sweep. Replaying it, a whole tuning run
takes seconds and is deterministic, so strategies are compared on real measurements without
training anything. Early stopping works: the recorded learning curve is fed to `on_epoch`
one epoch at a time, and a trial stopped after epoch e is charged for e epochs only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loratune.errors import LoratuneError
from loratune.executors.local import TrialHooks
from loratune.space import Config, config_key
from loratune.trainer import TrialFailed, TrialResult


def load_grid(path: str | Path) -> dict[str, dict[str, Any]]:
    """Rows of a recorded grid by config key; failed rows are kept (they replay as failures)."""
    p = Path(path)
    if not p.is_file():
        raise LoratuneError(f"recorded grid not found: {p}")
    rows: dict[str, dict[str, Any]] = {}
    for n, line in enumerate(p.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            key = config_key(Config.from_dict(row["config"]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise LoratuneError(f"{p}:{n}: not a loratune grid row ({exc})") from exc
        rows[key] = row
    if not rows:
        raise LoratuneError(f"{p}: no rows")
    return rows


class ReplayExecutor:
    """Replays recorded trials and keeps a simulated clock of the compute they cost."""

    device = "replay"

    def __init__(self, grid: dict[str, dict[str, Any]]) -> None:
        self.grid = grid
        self.clock = 0.0  # simulated seconds spent so far
        self.epochs = 0  # training epochs charged so far

    def run(self, config: Config, hooks: TrialHooks) -> TrialResult:
        row = self.grid.get(config_key(config))
        if row is None:
            raise LoratuneError(f"config not in the recorded grid: {config.describe()}")
        if row.get("status") != "complete":
            self.clock += float(row.get("wall_seconds") or 0.0)
            raise TrialFailed(row.get("error") or "failed when recorded")
        curve = list(row["curve"])
        epochs_total = len(curve)
        epochs = epochs_total
        for e, acc in enumerate(curve):
            if hooks.on_epoch is not None and not hooks.on_epoch(e, acc) and e < epochs_total - 1:
                epochs = e + 1
                break
        share = epochs / epochs_total
        wall = float(row["wall_seconds"]) * share
        self.clock += wall
        self.epochs += epochs
        stopped = epochs < epochs_total
        return TrialResult(
            # A stopped trial never reached its test evaluation: its last validation score stands.
            accuracy=curve[epochs - 1] if stopped else float(row["accuracy"]),
            curve=curve[:epochs],
            train_loss=list(row.get("train_loss") or [])[:epochs],
            latency=float(row["latency"]),
            training_time_seconds=float(row["latency"]) * epochs,
            eval_seconds=float(row.get("eval_seconds") or 0.0) * share,
            wall_seconds=wall,
            cost=float(row.get("cost") or 0.0) * share,
            device=f"replay:{row.get('device')}",
            tokens_per_second=float(row.get("tokens_per_second") or 0.0),
            peak_memory_mb=float(row.get("peak_memory_mb") or 0.0),
            trainable_params=int(row.get("trainable_params") or 0),
            epochs_run=epochs,
            stopped_early=stopped,
        )
