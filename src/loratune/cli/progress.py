"""A rich progress display over trials and steps."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from loratune.space import Config
from loratune.study import TrialRecord


class RichProgress:
    """Two bars: trials of the current phase, and optimiser steps of the current trial."""

    def __init__(self, console: Console, label: str = "trials") -> None:
        self.console = console
        self.label = label
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.trials = self.bar.add_task(label, total=None)
        self.steps = self.bar.add_task("steps", total=None, visible=False)

    def __enter__(self) -> RichProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def phase(self, label: str) -> None:
        self.label = label

    def trial_started(self, index: int, total: int, config: Config) -> None:
        self.bar.update(
            self.trials,
            total=total,
            completed=index,
            description=f"{self.label} [{config.describe()}]",
        )
        self.bar.update(self.steps, total=None, completed=0, visible=True, description="steps")

    def step(self, epoch: int, step: int, steps: int, loss: float) -> None:
        self.bar.update(
            self.steps,
            total=steps,
            completed=step + 1,
            description=f"epoch {epoch + 1} loss {loss:.3f}",
        )

    def trial_finished(self, record: TrialRecord) -> None:
        self.bar.advance(self.trials)
        if record.ok:
            m = record.metrics
            self.console.print(
                f"  {record.config.describe()}: accuracy {record.accuracy:.3f}, "
                f"{m.get('latency', 0):.1f} s/epoch, curve "
                + " ".join(f"{v:.2f}" for v in record.curve)
            )
        else:
            reason = record.metrics.get("error") or "interrupted"
            self.console.print(f"  {record.config.describe()}: [red]failed[/red] ({reason})")
