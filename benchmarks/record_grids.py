"""Record full grids for real: every config of a space, trained on SmolLM2-135M.

Runs for hours on a CPU, so it is built to be stopped: trials go to an Optuna SQLite study
as they finish, `--resume` is always on, and after every trial the study is exported to
`benchmarks/grids/<model>/<domain>.jsonl` (the file committed to the repository). Where the
SQLite file is missing (a fresh clone), the committed rows are imported first.

    nohup python benchmarks/record_grids.py --domain customer_support > grid.log 2>&1 &
    python benchmarks/record_grids.py --data ../shared/datasets/banking77/train.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

from loratune.api import sweep
from loratune.api.context import SilentProgress
from loratune.space import load_space
from loratune.study import (
    TrialRecord,
    export_rows,
    import_rows,
    open_study,
    read_jsonl,
    write_jsonl,
)

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
    args = ap.parse_args()
    storage = args.storage or f"sqlite:///{args.dir.resolve() / 'grids.db'}"
    name = args.name or args.domain or f"user-{Path(args.data).stem}"
    if args.seed:
        name += f"-seed{args.seed}"
    study = f"sweep:{name}:{args.model}:{args.space}"
    out = args.dir / args.model / f"{name}.jsonl"
    args.dir.mkdir(parents=True, exist_ok=True)
    if out.exists():
        # A fresh clone has the committed JSONL but not the SQLite study: resume from the file.
        rows = read_jsonl(str(out))
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
        design_seed=args.design_seed,
        progress=ExportEachTrial(storage, study, out),
    )
    print(f"grid complete: {out}")


if __name__ == "__main__":
    main()
