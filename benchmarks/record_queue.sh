#!/usr/bin/env bash
# The recording plan of the ground-truth grids, in order; each step resumes where it stopped.
#   nohup benchmarks/record_queue.sh > benchmarks/grids/queue.log 2>&1 &
# Grids grow in benchmarks/grids/recording/<model>/ (not raced: `make bench` reads only
# benchmarks/grids/<model>/*.jsonl) and are moved into place once complete, so the race never
# mixes a half-recorded grid, or grids of two trainer versions, with the finished ones.
# Done (2026-11-25, AMD EPYC): customer_support (re-recorded with the clipping trainer; the grid
# recorded before clipping is in benchmarks/grids/archive/no-grad-clip/), banking77, insurance,
# and the seed-1/seed-2 noise subsets (in benchmarks/grids/<model>/noise/). Rerunning this
# script records them afresh in benchmarks/grids/recording/ (e.g. for a new trainer). To move
# a finished grid into place: mv it to benchmarks/grids/<model>/, then git add (git mv would
# stage only the rows committed so far).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BANKING=${BANKING:-../shared/datasets/banking77/train.csv}
REC=benchmarks/grids/recording
$PY benchmarks/record_grids.py --dir $REC --data "$BANKING" --name banking77
$PY benchmarks/record_grids.py --dir $REC --domain insurance
# Noise: the same 20-config Sobol subset of customer_support under two more seeds
# (seed 0 is the full grid above, which contains the subset). Once complete they go to
# benchmarks/grids/<model>/noise/, where `benchmarks/noise.py` (make bench) reads them.
$PY benchmarks/record_grids.py --dir $REC --domain customer_support --n 20 --seed 1
$PY benchmarks/record_grids.py --dir $REC --domain customer_support --n 20 --seed 2
echo "queue complete"
