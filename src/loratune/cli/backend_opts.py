"""The CLI's backend options (`--backend ray --address auto --workers N ...`), shared by
`sweep` and `autotune`. `backend_options` turns them into `BackendOptions`' fields."""

from __future__ import annotations

from typing import Annotated, Any

import typer

BackendOpt = Annotated[
    str, typer.Option("--backend", help="where trials run: inprocess (default) or ray")
]
AddressOpt = Annotated[
    str | None,
    typer.Option(help="Ray cluster: auto (the running one) or ray://HOST:10001 [default: local]"),
]
WorkersOpt = Annotated[int, typer.Option(help="trials run at once (Ray actors)")]
GpusOpt = Annotated[float, typer.Option(help="GPUs per trial (0.25: four trials share a GPU)")]
CpusOpt = Annotated[float, typer.Option(help="CPUs per trial (each actor's torch threads)")]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--trial-timeout",
        help="seconds a trial may run before it is failed as hung and retried once "
        "[default: 4x this run's slowest measured pace, at least 60 s]",
    ),
]


def backend_options(
    backend: str,
    address: str | None,
    workers: int,
    gpus_per_trial: float,
    cpus_per_trial: float,
    trial_timeout: float | None = None,
) -> dict[str, Any]:
    return {
        "trial_timeout": trial_timeout,
        "kind": backend,
        "address": address,
        "workers": workers,
        "gpus_per_trial": gpus_per_trial,
        "cpus_per_trial": cpus_per_trial,
    }
