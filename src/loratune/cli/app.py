"""Typer commands. Each one turns options into an API call and prints what comes back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Find the best LoRA configuration without training the whole grid.",
)
console = Console()

Domain = Annotated[str | None, typer.Option("--domain", "-d", help="one of `loratune domains`")]
Data = Annotated[
    Path | None, typer.Option(help="your own JSONL/CSV (prompt/completion or text/label)")
]
Model = Annotated[str, typer.Option(help="smollm2-135m, tiny-llama, a hub id or a folder")]
SpaceOpt = Annotated[str, typer.Option("--space", help="space TOML file, or a bundled name")]
Storage = Annotated[
    str | None, typer.Option(help="Optuna storage URL [default: sqlite:///loratune.db]")
]
StudyOpt = Annotated[
    str | None, typer.Option("--study", help="study name (default from domain/model/space)")
]
Seed = Annotated[int, typer.Option(help="seed of data, design and training")]
Device = Annotated[str | None, typer.Option(help="cuda, mps or cpu [default: best available]")]
Price = Annotated[float, typer.Option(help="device price per hour, for cost")]
NTrain = Annotated[int, typer.Option(help="training examples (the document's 100)")]


@app.command()
def domains() -> None:
    """List the twelve built-in domains."""
    from loratune.tasks.domains import DOMAINS

    for name, spec in DOMAINS.items():
        console.print(f"{name:18s} {spec.kind:15s} {spec.description}")


@app.command()
def sweep(
    domain: Domain = None,
    data: Data = None,
    model: Model = "smollm2-135m",
    space: SpaceOpt = "default",
    n: Annotated[int | None, typer.Option("--n", help="configs to run (default: all)")] = None,
    storage: Storage = None,
    study: StudyOpt = None,
    resume: Annotated[bool, typer.Option(help="continue an interrupted sweep")] = False,
    seed: Seed = 0,
    device: Device = None,
    price_per_hour: Price = 0.0,
    n_train: NTrain = 100,
) -> None:
    """Train configs of a space for real and record every trial."""
    from loratune.api import sweep as run_sweep
    from loratune.cli.progress import RichProgress

    with RichProgress(console, "sweep") as progress:
        recs = run_sweep(
            domain,
            data=data,
            model=model,
            space=space,
            n=n,
            storage=storage,
            study=study,
            resume=resume,
            seed=seed,
            device=device,
            price_per_hour=price_per_hour,
            n_train=n_train,
            progress=progress,
        )
    ok = [r for r in recs if r.ok]
    console.print(f"{len(ok)} finished trials, {len(recs) - len(ok)} failed or interrupted")
    if ok:
        best = max(ok, key=lambda r: r.accuracy or 0.0)
        console.print(f"best: {best.config.describe()} accuracy {best.accuracy:.3f}")


@app.command()
def export(
    path: Annotated[Path, typer.Argument(help="output file")] = Path("results.jsonl"),
    storage: Storage = None,
    study: Annotated[
        list[str] | None, typer.Option("--study", help="study (repeatable); default all")
    ] = None,
) -> None:
    """Write every recorded trial as one JSON object per line."""
    from loratune.study import export_rows, list_studies, open_study, write_jsonl

    names = study or list_studies(storage)
    rows = []
    for name in names:
        rows.extend(export_rows(open_study(storage, name, create=False)))
    write_jsonl(rows, str(path))
    console.print(f"wrote {len(rows)} trials from {len(names)} studies to {path}")


if __name__ == "__main__":  # pragma: no cover
    app()
