#!/usr/bin/env bash
# The recording plan of the ground-truth grids under protocol 2 (validation decides, test
# judges), in order; each step resumes where it stopped. Run it from a clean worktree of the
# recording commit, pinned to one core, so code work on the other core does not touch it:
#   git worktree add ../rec <commit> && cd ../rec
#   PY=/work/main/.venv/bin/python nohup taskset -c 0 benchmarks/record_queue.sh > queue.log 2>&1 &
# A resumed step checks that the rows it continues were recorded at the same commit, on the
# same CPU, with the same threads (record_grids.check_same_machine). Grids grow in
# benchmarks/grids/recording/<model>/ and move to benchmarks/grids/<model>/ once complete;
# the protocol-1 grids (test accuracy as the value) are in benchmarks/grids/archive/protocol-1/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"  # this worktree's code, not main's
BANKING=${BANKING:-../shared/datasets/banking77}
REC=benchmarks/grids/recording
R="$PY benchmarks/record_grids.py --dir $REC --threads 1"
$R --domain customer_support
$R --domain insurance
# Real data: BANKING77's official test set (3080 queries) is the test split.
$R --data "$BANKING" --name banking77 --n-test all
# Noise on a 20-config Sobol subset of customer_support (the full grid above holds seed 0):
# training noise (same data, training seeds 1, 2), then data-sample noise (data seeds 1, 2).
# Recorded before financial (moved up on 2026-11-27): the success margin is to be set
# against the measured noise before the held-out grids judge the default.
$R --domain customer_support --n 20 --seed 1
$R --domain customer_support --n 20 --seed 2
$R --domain customer_support --n 20 --data-seed 1
$R --domain customer_support --n 20 --data-seed 2
$R --domain financial
# When financial completes, stop here once: move it to benchmarks/grids/<model>/ and race it
# (`python benchmarks/race.py --jobs 2`) with both cores free, before the subset below.
# Where time allows (issue 10, item 7): training noise on a 20-config subset of BANKING77,
# the held-out real data set (about 80 min a seed on one EPYC core).
$R --data "$BANKING" --name banking77 --n-test all --n 20 --seed 1
$R --data "$BANKING" --name banking77 --n-test all --n 20 --seed 2
# The next round's held-out grids (docs/protocol.md, "The next round"), drawn before recording.
$R --domain code_review
$R --domain legal
echo "queue complete"
