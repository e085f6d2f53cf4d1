#!/usr/bin/env bash
# The recording plan of the ground-truth grids, in order; each step resumes where it stopped.
#   nohup benchmarks/record_queue.sh > benchmarks/grids/queue.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BANKING=${BANKING:-../shared/datasets/banking77/train.csv}
$PY benchmarks/record_grids.py --domain customer_support
$PY benchmarks/record_grids.py --data "$BANKING" --name banking77
$PY benchmarks/record_grids.py --domain insurance
# Noise: the same 20-config Sobol subset of customer_support under two more seeds
# (seed 0 is the full grid above, which contains the subset).
$PY benchmarks/record_grids.py --domain customer_support --n 20 --seed 1
$PY benchmarks/record_grids.py --domain customer_support --n 20 --seed 2
echo "queue complete"
