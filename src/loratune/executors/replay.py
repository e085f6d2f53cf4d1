"""Answer trials from a recorded real grid on a simulated clock.

A recorded grid is the results.jsonl export of a full sweep recorded with test scores
(`benchmarks/record_grids.py`). Replaying it, a whole tuning run takes seconds and is
deterministic, so strategies are compared on real measurements without training anything.

Replay charges what the real trainer spends, from the split timings each row records:
set-up, the training of each epoch run, and each validation evaluation run (the check subset
after an early epoch, the whole split after the last). A stopped trial's value is its check
accuracy at the epoch it stopped, as in the real trainer, and it has no test score.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loratune.errors import LoratuneError
from loratune.executors.local import TrialHooks
from loratune.space import Config, config_key
from loratune.trainer import TrialFailed, TrialResult
from loratune.trainer.loop import Evaluation

# Fields a protocol-2 row must have to be replayed honestly.
REQUIRED = ("setup_seconds", "epoch_seconds", "check_seconds", "val_correct", "val_total")


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
        if row.get("status") == "complete":
            missing = [f for f in REQUIRED if row.get(f) is None]
            if missing:
                raise LoratuneError(
                    f"{p}:{n}: recorded under the old protocol (no {', '.join(missing)}); "
                    "replay needs rows with split timings"
                )
        rows[key] = row
    if not rows:
        raise LoratuneError(f"{p}: no rows")
    return rows


def charged_seconds(row: dict[str, Any], epochs: int) -> float:
    """What the real trainer spends running `epochs` epochs of this row's trial."""
    return (
        float(row["setup_seconds"])
        + sum(float(s) for s in row["epoch_seconds"][:epochs])
        + sum(float(s) for s in row["check_seconds"][:epochs])
    )


class ReplayExecutor:
    """Replays recorded trials and keeps a simulated clock of the compute they cost."""

    device = "replay"

    def __init__(self, grid: dict[str, dict[str, Any]]) -> None:
        self.grid = grid
        self.clock = 0.0  # simulated seconds spent so far
        self.epochs = 0  # training epochs charged so far

    def _row(self, config: Config) -> dict[str, Any]:
        row = self.grid.get(config_key(config))
        if row is None:
            raise LoratuneError(f"config not in the recorded grid: {config.describe()}")
        return row

    def run(
        self, config: Config, hooks: TrialHooks, save_adapter: Path | None = None
    ) -> TrialResult:
        row = self._row(config)
        if row.get("status") != "complete":
            self.clock += float(row.get("charged_seconds") or row.get("wall_seconds") or 0.0)
            raise TrialFailed(row.get("error") or "failed when recorded")
        curve = [float(a) for a in row["curve"]]
        total = len(curve)
        epochs = total
        for e, acc in enumerate(curve):
            if hooks.on_epoch is not None and not hooks.on_epoch(e, acc) and e < total - 1:
                epochs = e + 1
                break
        result = replayed_result(row, epochs)
        self.clock += result.charged_seconds
        self.epochs += epochs
        return result

    def test(self, config: Config, adapter: Path) -> Evaluation:
        """The recorded test score of the config (a replay has no adapter to load)."""
        row = self._row(config)
        if row.get("test_correct") is None:
            raise LoratuneError(f"the recorded grid has no test score for {config.describe()}")
        return Evaluation(
            int(row["test_correct"]), int(row["test_total"]), 0.0, str(row.get("test_hits") or "")
        )


def replayed_result(row: dict[str, Any], epochs: int) -> TrialResult:
    """What the real trainer would have returned for a recorded row run for `epochs` epochs."""
    curve = [float(a) for a in row["curve"]]
    stopped = epochs < len(curve)
    charged = charged_seconds(row, epochs)
    check_total = int(row["check_total"])
    if stopped:
        correct = round(curve[epochs - 1] * check_total)
        val_correct, val_total = correct, check_total
        hits = str(row.get("val_hits") or "")[:check_total]
    else:
        val_correct, val_total = int(row["val_correct"]), int(row["val_total"])
        hits = str(row.get("val_hits") or "")
    train = [float(s) for s in row["epoch_seconds"][:epochs]]
    evals = [float(s) for s in row["check_seconds"][:epochs]]
    price = float(row.get("cost") or 0.0) / max(float(row.get("charged_seconds") or 1.0), 1e-9)
    return TrialResult(
        accuracy=val_correct / val_total,
        val_correct=val_correct,
        val_total=val_total,
        curve=curve[:epochs],
        check_total=check_total,
        train_loss=list(row.get("train_loss") or [])[:epochs],
        latency=sum(train) / epochs,
        training_time_seconds=sum(train),
        eval_seconds=sum(evals),
        wall_seconds=charged,
        charged_seconds=charged,
        cpu_seconds=0.0,
        cost=price * charged,
        device=f"replay:{row.get('device')}",
        tokens_per_second=float(row.get("tokens_per_second") or 0.0),
        peak_memory_mb=float(row.get("peak_memory_mb") or 0.0),
        trainable_params=int(row.get("trainable_params") or 0),
        epochs_run=epochs,
        setup_seconds=float(row["setup_seconds"]),
        epoch_seconds=train,
        check_seconds=evals,
        stopped_early=stopped,
        seed=int(row["config"].get("seed", 0)),
        val_hits=hits,
    )
