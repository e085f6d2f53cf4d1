"""`loratune prior build` and `loratune prior show`: prior files from recorded grids and
finished studies (`loratune.prior`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loratune.cli.app import Storage, app, console

prior_app = typer.Typer(help="Build or show a prior: what earlier grids say about configs.")
app.add_typer(prior_app, name="prior")


@prior_app.command("build")
def build(
    grids: Annotated[
        list[Path] | None, typer.Argument(help="recorded grids or results.jsonl files")
    ] = None,
    out: Annotated[Path, typer.Option(help="the prior file to write")] = Path("prior.json"),
    storage: Storage = None,
    study: Annotated[
        list[str] | None, typer.Option("--study", help="a finished study to add (repeatable)")
    ] = None,
) -> None:
    """Write a prior file from grids and studies; it names each source and its commit."""
    from loratune.prior import build_prior, save_prior, source_from_records, source_from_rows
    from loratune.provenance import git_commit
    from loratune.study import open_study, records
    from loratune.study.rows import read_jsonl

    sources = [source_from_rows(read_jsonl(str(g)), str(g)) for g in grids or []]
    for name in study or []:
        parts = name.split(":")
        if len(parts) != 4:
            raise typer.BadParameter(f"{name}: expected kind:domain:model:space")
        found = source_from_records(
            records(open_study(storage, name, create=False)), name, parts[2], parts[1], parts[3]
        )
        if found is not None:
            sources.append(found)
    if not sources:
        raise typer.BadParameter("give at least one grid file or --study with 2+ full trials")
    command = "loratune prior build " + " ".join(str(g) for g in grids or [])
    prior = build_prior(sources, {"command": command, "loratune_commit": git_commit() or ""})
    save_prior(prior, out)
    console.print(f"prior: {out}: {prior.describe()}")
    for s in prior.sources:
        console.print(f"  {s.label}: {s.origin} (space {s.space}, recorded at {s.commit[:12]})")


@prior_app.command("show")
def show(path: Annotated[Path, typer.Argument(help="a prior file")]) -> None:
    """The sources of a prior file and the configs its sources agree on."""
    import numpy as np

    from loratune.prior import load_prior, portfolio
    from loratune.space import load_space

    prior = load_prior(path)
    console.print(prior.describe())
    configs = load_space("default").configs()
    shortfall = prior.shortfall(configs)
    console.print("warm start on the default space (predicted points below each source's best):")
    for i in portfolio(shortfall, 5):
        console.print(f"  {configs[i].describe()}: {np.round(shortfall[:, i], 1).tolist()}")
