"""`loratune export`, `import`, `predict`, `validate`: the commands that read or fill a study
that is already recorded; none of them trains."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loratune.cli.app import Seed, SpaceOpt, Storage, StudyOpt, app, console


@app.command()
def export(
    path: Annotated[Path, typer.Argument(help="output file")] = Path("results.jsonl"),
    storage: Storage = None,
    study: Annotated[
        list[str] | None, typer.Option("--study", help="study (repeatable); default all")
    ] = None,
) -> None:
    """Write every recorded trial as one JSON object per line."""
    from loratune.study import list_studies, open_study
    from loratune.study.rows import export_rows, write_jsonl

    names = study or list_studies(storage)
    rows = []
    for name in names:
        rows.extend(export_rows(open_study(storage, name, create=False)))
    write_jsonl(rows, str(path))
    console.print(f"wrote {len(rows)} trials from {len(names)} studies to {path}")


@app.command("import")
def import_results(
    path: Annotated[Path, typer.Argument(help="a results.jsonl written by `loratune export`")],
    storage: Storage = None,
    space: SpaceOpt = "default",
    study: Annotated[
        str | None, typer.Option("--study", help="into this study (default: each row's own)")
    ] = None,
) -> None:
    """Add exported trials to a study (a recorded grid, or another machine's results)."""
    from loratune.space import load_space
    from loratune.study import open_study
    from loratune.study.rows import import_rows, read_jsonl

    rows = read_jsonl(str(path))
    by_study: dict[str, list[dict]] = {}
    for row in rows:
        by_study.setdefault(study or row.get("study") or path.stem, []).append(row)
    sp = load_space(space)
    # A dry run into a throw-away in-memory study first: a bad row is refused before any
    # study is created or touched in the real storage.
    import optuna

    for group in by_study.values():
        import_rows(optuna.create_study(direction="maximize"), sp, group)
    for name, group in by_study.items():
        added = import_rows(open_study(storage, name), sp, group)
        skipped = len(group) - added
        console.print(f"{name}: {added} trials added, {skipped} already there or skipped")


@app.command()
def predict(
    study: StudyOpt = None,
    storage: Storage = None,
    top: Annotated[int, typer.Option(help="rows of the ranked table")] = 20,
    seed: Seed = 0,
) -> None:
    """Fit the predictor on a study and predict every untried config of its space."""
    from loratune.api import predict as run_predict
    from loratune.api.spec import check_seed
    from loratune.cli.render import predictions_table
    from loratune.errors import LoratuneError

    check_seed("--seed", seed)
    if top < 1:
        raise LoratuneError(f"--top must be >= 1 (got {top})")

    preds, front = run_predict(study, storage=storage, seed=seed)
    untried = [p for p in preds if not p.tried]
    console.print(
        predictions_table(untried, f"Untried configs, best predicted first ({len(untried)})", top)
    )
    console.print(
        predictions_table(front, "Pareto front: accuracy vs seconds per epoch", len(front))
    )


@app.command()
def validate(
    study: StudyOpt = None,
    storage: Storage = None,
    grid_study: Annotated[str | None, typer.Option(help="full-grid sweep study")] = None,
) -> None:
    """Statistics of an autotune study: predicted vs actual, regret, speedup."""
    from loratune.api.validate import latest_autotune_study, validate_study
    from loratune.cli.render import print_validation

    name = study or latest_autotune_study(storage)
    print_validation(console, validate_study(name, storage, grid_study=grid_study))
