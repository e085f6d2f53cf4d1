"""Record full grids for real: every config of a space, trained on SmolLM2-135M.

Runs for hours on a CPU, so it is built to be stopped: trials go to an Optuna SQLite study
as they finish, `--resume` is always on, and after every trial the study is exported to
`benchmarks/grids/<model>/<domain>.jsonl` (the file committed to the repository). Where the
SQLite file is missing (a fresh clone), the committed rows are imported first.

Every row is a ground-truth row (protocol 2): validation accuracy is its value, and the test
split is scored too, to judge. A grid is recorded on one machine at one commit: the code must
be a clean checkout, and a resumed recording refuses to continue rows of another commit, CPU
or thread count. `--threads` pins torch's threads (1 leaves the other core to other work).

    nohup python benchmarks/record_grids.py --domain customer_support > grid.log 2>&1 &
    python benchmarks/record_grids.py --data ../shared/datasets/banking77 --n-test all
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from loratune.api import sweep
from loratune.api.context import SilentProgress
from loratune.provenance import provenance
from loratune.space import load_space
from loratune.study import TrialRecord, open_study
from loratune.study.rows import export_rows, import_rows, read_jsonl, write_jsonl
from loratune.tasks import N_TEST, N_VAL

HERE = Path(__file__).resolve().parent


class ExportEachTrial(SilentProgress):
    """Rewrites the grid's JSONL after every trial, so a stop loses at most the trial in flight."""

    def __init__(self, storage: str, study: str, out: Path) -> None:
        self.storage, self.study, self.out = storage, study, out

    def trial_started(self, index: int, total: int, config: object) -> None:
        print(f"[{index + 1}/{total}] {config}", flush=True)

    def trial_finished(self, record: TrialRecord) -> None:
        print(
            f"    -> {record.state} accuracy={record.accuracy} "
            f"latency={record.metrics.get('latency')}",
            flush=True,
        )
        rows = export_rows(open_study(self.storage, self.study, create=False))
        self.out.parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(rows, str(self.out))


def size(value: str) -> int | None:
    return None if value == "all" else int(value)


def check_same_machine(rows: list[dict], here: dict) -> None:
    """A grid is one machine at one commit: refuse to continue rows recorded elsewhere."""
    for row in rows:
        prov = row.get("provenance") or {}
        for key in ("git_commit", "cpu", "cpu_threads"):
            if prov.get(key) != here.get(key):
                raise SystemExit(
                    f"the recorded rows have {key}={prov.get(key)!r}, this process "
                    f"{here.get(key)!r}: resume at that commit on the same machine and threads "
                    "(or record into a new --dir)"
                )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domain")
    ap.add_argument("--data", help="user data file instead of a generated domain")
    ap.add_argument("--name", help="grid file name (default: the domain or data file stem)")
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--space", default="default")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=None, help="a Sobol subset instead of the full grid")
    ap.add_argument(
        "--design-seed", type=int, default=0, help="seed of the Sobol subset (same for all seeds)"
    )
    ap.add_argument(
        "--dir",
        type=Path,
        default=HERE / "grids",
        help="where <model>/<name>.jsonl goes; a grid re-recorded under a new trainer can grow "
        "in a folder of its own while the race keeps using the complete one",
    )
    ap.add_argument("--storage", help="Optuna storage [default: sqlite:///<dir>/grids.db]")
    ap.add_argument("--data-seed", type=int, default=0)
    ap.add_argument("--n-val", default=str(N_VAL))
    ap.add_argument("--n-test", default=str(N_TEST))
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    ap.add_argument(
        "--allow-dirty", action="store_true", help="record from uncommitted code (not for grids)"
    )
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    here = provenance()
    if not args.allow_dirty and (not here["git_commit"] or "+dirty" in str(here["git_commit"])):
        raise SystemExit(f"refusing to record from a dirty checkout ({here['git_commit']})")
    storage = args.storage or f"sqlite:///{args.dir.resolve() / 'grids.db'}"
    name = args.name or args.domain or f"user-{Path(args.data).stem}"
    if args.seed:
        name += f"-seed{args.seed}"
    if args.data_seed:
        name += f"-data{args.data_seed}"
    study = f"sweep:{name}:{args.model}:{args.space}"
    out = args.dir / args.model / f"{name}.jsonl"
    args.dir.mkdir(parents=True, exist_ok=True)
    if out.exists():
        # A fresh clone has the committed JSONL but not the SQLite study: resume from the file.
        rows = read_jsonl(str(out))
        check_same_machine(rows, here)
        added = import_rows(open_study(storage, study), load_space(args.space), rows)
        if added:
            print(f"imported {added} recorded trials from {out}", flush=True)
    sweep(
        args.domain,
        data=args.data,
        model=args.model,
        space=args.space,
        n=args.n,
        storage=storage,
        study=study,
        resume=True,
        seed=args.seed,
        data_seed=args.data_seed,
        n_val=size(args.n_val),
        n_test=size(args.n_test),
        design_seed=args.design_seed,
        evaluate_test=True,
        progress=ExportEachTrial(storage, study, out),
    )
    print(f"grid complete: {out}")


if __name__ == "__main__":
    main()
