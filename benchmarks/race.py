"""Race every tuning strategy on every complete recorded grid, replayed (no training).

Every strategy picks by validation and is judged on the pick's test accuracy; exhaustive
search picks by validation too and every strategy is compared with it. Grids are grouped as
benchmarks/holdout.toml fixes them (tuning / held out). The strategies, the replay loop and
the tables live in `loratune.race`; this script only finds the grids and writes
RESULTS.md, results.json and regret_vs_compute.png next to this file (or in --out).

    python benchmarks/race.py                         # every grid in benchmarks/grids, 20 seeds
    python benchmarks/race.py --seeds 5 --strategies loratune-default random
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from loratune.api.autotune import DEFAULT_EARLY_STOP, DEFAULT_EXPLORE, DEFAULT_VERIFY
from loratune.race import quick_fit
from loratune.race.bench import Report, run_bench
from loratune.race.grids import (
    add_dir_options,
    find_grids,
    grid_files,
    load_holdout,
    recording_dirs,
    recording_status,
)
from loratune.race.noise import margin_line, measure, noise_margin
from loratune.race.roster import Defaults
from loratune.race.tables import console_lines, write_outputs
from loratune.space import load_space

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULTS = Defaults(DEFAULT_EXPLORE, DEFAULT_VERIFY, DEFAULT_EARLY_STOP)


def main(argv: Sequence[str] | None = None) -> Report:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dir_options(ap, HERE / "grids")
    ap.add_argument("--holdout", type=Path, default=HERE / "holdout.toml")
    ap.add_argument("--space", default="default", help="the space the grids were recorded on")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--strategies", nargs="*", help="a subset (default: all)")
    ap.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 1) - 1))
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument(
        "--faithful",
        action="store_true",
        help="fit the predictor exactly as loratune.autotune does (slower: 3 GP restarts)",
    )
    args = ap.parse_args(argv)
    space = load_space(args.space)
    grids, unreadable = find_grids(grid_files(args.grids_dir), space)
    used = [g for g in grids if g.usable]
    skipped = unreadable + [
        {
            "label": g.label,
            "path": str(g.path),
            "reason": f"incomplete: {len(space) - g.missing} of {len(space)} configs recorded",
        }
        for g in grids
        if not g.usable
    ]
    recording = args.recording_dir or recording_dirs(ROOT)
    noise = measure([args.grids_dir, *recording], root=ROOT)
    report = Report(
        space,
        args.seeds,
        used,
        skipped,
        load_holdout(args.holdout),
        DEFAULTS,
        faithful=args.faithful,
        recordings=recording_status(recording, len(space)),
        noise=noise,
        margin_line=margin_line(noise),
        noise_margin=noise_margin(noise),
    )
    run_bench(report, args.strategies, args.jobs, None if args.faithful else quick_fit)
    write_outputs(report, args.out, ROOT)
    for line in console_lines(report):
        print(line)
    print(f"wrote {args.out / 'RESULTS.md'}")
    return report


if __name__ == "__main__":
    main()
