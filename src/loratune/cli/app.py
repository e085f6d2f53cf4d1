"""Typer commands. Each one turns options into an API call and prints what comes back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from loratune.cli.backend_opts import (
    AddressOpt,
    BackendOpt,
    CpusOpt,
    GpusOpt,
    TimeoutOpt,
    WorkersOpt,
    backend_options,
)

if TYPE_CHECKING:
    from loratune.api.spec import JobSpec, TaskSpec

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
Model = Annotated[
    str, typer.Option(help="smollm2-135m, gemma3-270m, tiny-llama, a hub id or a folder")
]
SpaceOpt = Annotated[str, typer.Option("--space", help="space TOML file, or a bundled name")]
Storage = Annotated[
    str | None, typer.Option(help="Optuna storage URL [default: sqlite:///loratune.db]")
]
StudyOpt = Annotated[
    str | None, typer.Option("--study", help="study name (default from domain/model/space)")
]
Seed = Annotated[
    int, typer.Option(help="training seed: adapter initialisation, dropout, batch order; design")
]
DataSeed = Annotated[
    int, typer.Option(help="data seed: draws a domain's examples, or splits your file")
]
ValData = Annotated[
    Path | None, typer.Option(help="your validation file (default: drawn from --data)")
]
TestData = Annotated[Path | None, typer.Option(help="your test file (default: drawn from --data)")]
Device = Annotated[str | None, typer.Option(help="cuda, mps or cpu [default: best available]")]
Price = Annotated[float, typer.Option(help="device price per hour, for cost")]
NTrain = Annotated[
    str, typer.Option(help="training examples (the document's 100), or 'all' of your data")
]
NVal = Annotated[str, typer.Option(help="validation examples (decide the pick), or 'all'")]
NTest = Annotated[str, typer.Option(help="test examples (read once, to report), or 'all'")]
MetricOpt = Annotated[
    str | None,
    typer.Option(
        help="what validation decides by: accuracy (default), macro_f1 (classification), "
        "exact_match or token_f1 (extraction), val_loss, or any registered metric"
    ),
]


def _scored(metric: str, score: float | None) -> str:
    """'validation macro-F1 0.812': a recorded score named and shown as the metric's value."""
    from loratune.tasks import get_metric

    m = get_metric(metric)
    value = m.value_of(score)
    return f"{m.title} {'-' if value is None else f'{value:.3f}'}"


def _size(name: str, value: str) -> int | None:
    """A split size from the command line: a positive integer, or 'all' (None)."""
    from loratune.errors import LoratuneError

    if value.strip().lower() == "all":
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise LoratuneError(f"{name} must be a positive integer or 'all' (got {value!r})")
    return n


def _task(
    domain: str | None,
    data: Path | None,
    val_data: Path | None,
    test_data: Path | None,
    data_seed: int,
    sizes: tuple[str, str, str],
) -> TaskSpec:
    """The task options of a command; split sizes come as typed: '100' or 'all'."""
    from loratune.api.spec import TaskSpec

    names = ("--n-train", "--n-val", "--n-test")
    n_train, n_val, n_test = (_size(n, v) for n, v in zip(names, sizes, strict=True))
    return TaskSpec(domain, data, val_data, test_data, n_train, n_val, n_test, data_seed)


def _job(kind: str, task: TaskSpec, backend: dict[str, Any], **fields: Any) -> JobSpec:
    """The one JobSpec of a command, checked before anything runs: a refused command creates
    no study. The storage is not opened here: opening a new SQLite or journal file creates
    it, and the API opens it only after every other check."""
    from loratune.api.spec import JobSpec
    from loratune.executors.options import BackendOptions

    options = BackendOptions(**backend)
    return JobSpec(task=task, kind=kind, backend=options, **fields)  # type: ignore[arg-type]


@app.command()
def domains() -> None:
    """List the twelve built-in domains."""
    from loratune.tasks.domains import DOMAINS

    for name, spec in DOMAINS.items():
        typer.echo(f"{name:18s} {spec.kind:15s} {spec.description}")  # one line each, unwrapped


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
    data_seed: DataSeed = 0,
    device: Device = None,
    price_per_hour: Price = 0.0,
    n_train: NTrain = "100",
    n_val: NVal = "256",
    n_test: NTest = "800",
    val_data: ValData = None,
    test_data: TestData = None,
    with_test: Annotated[
        bool,
        typer.Option(help="score every config on the test split too (a ground-truth grid)"),
    ] = False,
    save: Annotated[
        str, typer.Option(help="adapters to keep: none, best, verified (= best) or all")
    ] = "none",
    out: Annotated[
        Path | None, typer.Option(help="folder for kept adapters [default: runs/<study>]")
    ] = None,
    backend: BackendOpt = "inprocess",
    address: AddressOpt = None,
    workers: WorkersOpt = 1,
    gpus_per_trial: GpusOpt = 0.0,
    cpus_per_trial: CpusOpt = 1.0,
    trial_timeout: TimeoutOpt = None,
    metric: MetricOpt = None,
) -> None:
    """Train configs of a space for real and record every trial."""
    from loratune.api import sweep as run_sweep
    from loratune.api.spec import SweepPlan
    from loratune.cli.progress import RichProgress

    spec = _job(
        "sweep",
        _task(domain, data, val_data, test_data, data_seed, (n_train, n_val, n_test)),
        backend_options(backend, address, workers, gpus_per_trial, cpus_per_trial, trial_timeout),
        model=model,
        space=space,
        plan=SweepPlan(n=n, evaluate_test=with_test),
        storage=storage,
        study=study,
        resume=resume,
        seed=seed,
        device=device,
        price_per_hour=price_per_hour,
        save=save,
        out=out,
        metric=metric,
    )
    with RichProgress(console, "sweep") as progress:
        recs = run_sweep(spec, progress=progress)
    ok = [r for r in recs if r.ok]
    console.print(f"{len(ok)} finished trials, {len(recs) - len(ok)} failed or interrupted")
    if ok:
        best = max(ok, key=lambda r: r.accuracy or 0.0)
        console.print(
            f"best by validation: {best.config.describe()} "
            f"validation {_scored(best.metric, best.accuracy)}"
        )


@app.command()
def autotune(
    domain: Domain = None,
    data: Data = None,
    model: Model = "smollm2-135m",
    space: SpaceOpt = "default",
    explore: Annotated[
        int, typer.Option(help="cold start: configs explored by a Sobol design; warm: a ceiling")
    ] = 12,
    verify: Annotated[
        int, typer.Option(help="cold start: top predicted configs trained; warm: a ceiling")
    ] = 5,
    prior: Annotated[
        str,
        typer.Option(
            help="auto (the shipped prior of the model + finished studies of the storage), "
            "none (cold start), or a prior file from `loratune prior build`"
        ),
    ] = "auto",
    ceiling: Annotated[
        int, typer.Option(help="warm start: at most this many trials (and explore + verify)")
    ] = 6,
    rule: Annotated[
        str, typer.Option(help="top-k (predicted mean) or ei (expected improvement)")
    ] = "top-k",
    early_stop: Annotated[
        bool,
        typer.Option(
            help="stop a trial after epoch 1 when its validation accuracy is clearly below "
            "the best epoch-1 accuracy so far (two-proportion z >= 2)"
        ),
    ] = True,
    separate: Annotated[
        int,
        typer.Option(
            help="0: off; K >= 2: when the pick is within validation noise of the runner-up, "
            "train the top K again with the next training seed and keep the adapter, of the 2K, "
            "with the best validation accuracy"
        ),
    ] = 0,
    storage: Storage = None,
    study: StudyOpt = None,
    grid_study: Annotated[
        str | None, typer.Option(help="full-grid sweep study to validate against")
    ] = None,
    resume: Annotated[bool, typer.Option(help="continue an interrupted autotune")] = False,
    seed: Seed = 0,
    data_seed: DataSeed = 0,
    device: Device = None,
    price_per_hour: Price = 0.0,
    n_train: NTrain = "100",
    n_val: NVal = "256",
    n_test: NTest = "800",
    val_data: ValData = None,
    test_data: TestData = None,
    save: Annotated[
        str, typer.Option(help="adapters to keep: best, verified, all or none")
    ] = "best",
    out: Annotated[Path | None, typer.Option(help="report folder [default: runs/<study>]")] = None,
    strategy: Annotated[
        str,
        typer.Option(
            help="tuning strategy of the registry (`--strategy list` names them); the default "
            "is loratune's own: explore, predict, verify"
        ),
    ] = "loratune-default",
    backend: BackendOpt = "inprocess",
    address: AddressOpt = None,
    workers: WorkersOpt = 1,
    gpus_per_trial: GpusOpt = 0.0,
    cpus_per_trial: CpusOpt = 1.0,
    trial_timeout: TimeoutOpt = None,
    metric: MetricOpt = None,
) -> None:
    """Explore a few configs, predict the whole grid, verify the top few, and report."""
    from loratune.api import autotune as run_autotune
    from loratune.api.spec import Budget
    from loratune.cli.progress import RichProgress
    from loratune.cli.render import predictions_table, print_validation

    if strategy == "list":
        _list_strategies()
        return
    spec = _job(
        "autotune",
        _task(domain, data, val_data, test_data, data_seed, (n_train, n_val, n_test)),
        backend_options(backend, address, workers, gpus_per_trial, cpus_per_trial, trial_timeout),
        model=model,
        space=space,
        budget=Budget(explore, verify, rule, early_stop, strategy, separate, prior, ceiling),  # type: ignore[arg-type]
        storage=storage,
        study=study,
        grid_study=grid_study,
        resume=resume,
        seed=seed,
        device=device,
        price_per_hour=price_per_hour,
        save=save,
        out=out,
        metric=metric,
    )
    with RichProgress(console, "explore") as progress:
        result = run_autotune(spec, progress=progress)
    if result.prior:
        console.print(f"[bold]prior:[/bold] {result.prior}")
    if result.stop_reason:
        console.print(f"[bold]stopped:[/bold] {result.stop_reason}")
    console.print(f"search wall time: {result.search_seconds:.0f} s on this machine")
    if result.predictions:
        console.print(predictions_table(result.predictions, "Predicted grid (top 10)", limit=10))
    print_validation(console, result.validation)
    if result.separation is not None:
        console.print(result.separation.line())
    b = result.best
    test = result.validation.pick.test_accuracy
    m = result.validation.metric
    console.print(
        f"[bold]best config:[/bold] {b.config.describe()} "
        f"validation {_scored(m, b.accuracy)}, test {_scored(m, test)} "
        f"({result.validation.pick.phase}, strategy {result.strategy})"
    )
    if result.adapter_dir is not None:
        folder = result.adapter_dir
        console.print(f"adapter: {folder} (model card: {folder / 'README.md'})")
        console.print(
            f"deploy it: loratune deploy --adapter {folder} --format gguf --out "
            f"{folder.parent / 'deploy'}   (or --format peft | merged)"
        )
    console.print(f"report: {result.report_dir / 'report.html' if result.report_dir else '-'}")


def _list_strategies() -> None:
    """The registry's strategies, one a line, as the race describes them for the default
    budget (`--explore` and `--verify` change the numbers)."""
    from loratune.api.spec import DEFAULT_EARLY_STOP, DEFAULT_EXPLORE, DEFAULT_VERIFY
    from loratune.space import load_space
    from loratune.strategies import registry
    from loratune.tasks import N_CHECK

    setting = registry.Setting(
        load_space("default"), DEFAULT_EXPLORE, DEFAULT_VERIFY, DEFAULT_EARLY_STOP, N_CHECK
    )
    for name, entry in registry.entries(setting).items():
        typer.echo(f"{name:24s} {entry.rule}")


if __name__ == "__main__":  # pragma: no cover
    app()

# export, import, predict, validate, deploy, try, evaluate: registered on `app` by their own
# modules (cli/study_cmds.py, cli/deploy_cmds.py), which the package `loratune.cli` imports.
