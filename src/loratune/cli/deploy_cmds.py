"""`loratune deploy`, `loratune try`, `loratune evaluate`: thin shells over loratune.deploy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loratune.cli.app import Device, app, console

AdapterOpt = Annotated[
    Path, typer.Option("--adapter", help="a saved adapter folder (adapter files + loratune.json)")
]


@app.command()
def deploy(
    adapter: AdapterOpt,
    # A plain string, checked by export_adapter: a bad value is then one line and exit 2
    # like every other bad input, not click's multi-line usage message.
    fmt: Annotated[str, typer.Option("--format", help="peft, merged or gguf")] = "peft",
    out: Annotated[
        Path | None, typer.Option("--out", help="folder to write [default: ADAPTER-FORMAT]")
    ] = None,
    force: Annotated[bool, typer.Option(help="write into a non-empty --out folder")] = False,
) -> None:
    """Write a saved adapter as a PEFT folder, a merged model, or a llama.cpp GGUF adapter."""
    from loratune.deploy import export_adapter

    dest = export_adapter(adapter, fmt, out or Path(f"{adapter.name}-{fmt}"), force=force)
    console.print(f"wrote {fmt} to {dest}")
    for p in sorted(dest.iterdir()):
        typer.echo(f"  {p.name}")
    if fmt == "gguf":
        typer.echo(f"try it: cd {dest} && ollama create NAME -f Modelfile && ollama run NAME")


@app.command("try")
def try_cmd(
    text: Annotated[str, typer.Argument(help="the input text, as a task example's input")],
    adapter: AdapterOpt,
    compare: Annotated[bool, typer.Option(help="also show the base model's answer")] = False,
    device: Device = None,
) -> None:
    """Answer one text with a saved adapter, in its task's prompt format."""
    from loratune.deploy import try_adapter

    res = try_adapter(adapter, text, compare=compare, device=device)
    typer.echo(f"adapter: {res.answer}")
    if res.base_answer is not None:
        typer.echo(f"base:    {res.base_answer}")


@app.command()
def evaluate(
    adapter: AdapterOpt,
    data: Annotated[Path, typer.Option("--data", help="JSONL/CSV shaped like the task")],
    device: Device = None,
) -> None:
    """Accuracy of a saved adapter on a data file, scored as its trial was, with a 95% CI."""
    from loratune.deploy import evaluate_adapter

    ev = evaluate_adapter(adapter, data, device=device)
    typer.echo(
        f"accuracy {ev.accuracy:.3f} ({ev.correct}/{ev.n}), "
        f"95% Wilson interval {ev.low:.3f}-{ev.high:.3f}"
    )
