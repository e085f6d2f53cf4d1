"""Peak memory across many trials in one process: a long sweep must run at flat memory.

Runs `--trials` tiny-llama trials (trainer.run_trial on a generated domain, the rank cycling
over 4..64) in this one process and prints each trial's peak RSS (VmHWM, reset before every
trial) and the process's current RSS after it, then the ratio of the mean peak of the last
ten trials to the mean of the first ten. The target is a ratio within 1.05.

    OMP_NUM_THREADS=1 taskset -c 1 .venv/bin/python benchmarks/memory.py
    .venv/bin/python benchmarks/memory.py --trials 20 --domain legal --json out.json

What grew: not Python objects or tensors (their counts stay constant across trials), and not
PEFT, the optimiser or the tokenizer, but glibc heap holding live native allocations: the
per-shape kernel caches of torch's CPU bf16 matmuls (bf16 autocast on a CPU with AVX-512
BF16), oneDNN's primitive cache and ideep's LRU cache, 1024 kernels each by default. Every
LoRA rank not seen before brings GEMM shapes not seen before (tokens x rank), so memory rose
by 40-55 MB per new rank and levelled off only once every rank of the grid had run (or the
caches were full). `loratune.models.cap_kernel_caches` caps both at 256 before the model
loads; an evicted kernel is compiled again identically, so every trial's result is the same.
To see the old behaviour, run with both caches at their defaults:

    export LRU_CACHE_CAPACITY=1024 ONEDNN_PRIMITIVE_CACHE_CAPACITY=1024
    .venv/bin/python benchmarks/memory.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path


def rss_mb() -> float:
    """The process's current resident set (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument("--domain", default="customer_support")
    ap.add_argument("--n-train", type=int, default=100)
    ap.add_argument("--n-val", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--ranks", default="4,8,16,32,64", help="ranks cycled over, in order")
    ap.add_argument("--json", type=Path, help="also write the per-trial numbers here")
    args = ap.parse_args(argv)

    from loratune.models import load_base_model
    from loratune.space import Config
    from loratune.tasks import get_task
    from loratune.trainer import run_trial

    ranks = [int(r) for r in args.ranks.split(",")]
    base = load_base_model("tiny-llama", device="cpu")
    task = get_task(args.domain, n_train=args.n_train, n_val=args.n_val, n_test=8)
    rows = []
    print(f"{'trial':>5} {'rank':>4} {'peak MB':>8} {'rss MB':>8} {'secs':>5}  val_hits")
    for i in range(args.trials):
        rank = ranks[i % len(ranks)]
        config = Config(
            rank=rank, alpha=2.0 * rank, learning_rate=1e-3, epochs=args.epochs, max_length=96
        )
        t0 = time.perf_counter()
        r = run_trial(base, task, config)
        row = {
            "trial": i,
            "rank": rank,
            "peak_mb": r.peak_memory_mb,
            "rss_mb": rss_mb(),
            "seconds": time.perf_counter() - t0,
            "val_hits": r.val_hits,
            "train_loss": r.train_loss,
        }
        rows.append(row)
        print(
            f"{i:5d} {rank:4d} {row['peak_mb']:8.1f} {row['rss_mb']:8.1f} "
            f"{row['seconds']:5.1f}  {r.val_hits[:24]} loss {r.train_loss[-1]:.6f}",
            flush=True,
        )
    k = min(10, len(rows) // 2) or 1
    first = statistics.mean(r["peak_mb"] for r in rows[:k])
    last = statistics.mean(r["peak_mb"] for r in rows[-k:])
    ratio = last / first
    print(
        f"peak RSS: first {k} mean {first:.1f} MB, last {k} mean {last:.1f} MB, "
        f"ratio {ratio:.3f} ({'flat' if ratio <= 1.05 else 'GROWS'})"
    )
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "ratio": ratio}, indent=1))
    return 0 if ratio <= 1.05 else 1


if __name__ == "__main__":
    sys.exit(main())
