"""What the trainer's choices do to what an adapter learns: each variant trains the same
config with 3 seeds, and every adapter is scored by one fp32 function on the plain checkpoint
(held-out completion loss and test accuracy, from `throughput.py`).

Variants: loratune's trainer as it is (bf16 base weights, length-grouped batches, gradient
clipping at norm 1.0); without clipping; without clipping and with plainly shuffled batches;
without clipping on fp32 base weights. This is how the clipping default was chosen.

    python benchmarks/trainer_variants.py                  # all variants, ~15 min on 2 cores
    python benchmarks/trainer_variants.py default no-clip  # a subset
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import random
import statistics
import tempfile

import throughput as tp

from loratune.models import load_base_model
from loratune.provenance import provenance
from loratune.space import Config
from loratune.tasks import get_task
from loratune.trainer import loop, run_trial
from loratune.trainer.batches import Encoded

VARIANTS = ("default", "no-clip", "no-clip+shuffled", "no-clip+fp32")


def shuffled_batches(
    rows: list[Encoded], batch_size: int, rng: random.Random
) -> list[list[Encoded]]:
    """Plain shuffled batches, as a DataLoader with shuffle=True makes them."""
    order = list(rows)
    rng.shuffle(order)
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="*", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--domain", default="customer_support")
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    task = get_task(args.domain, seed=0)
    config = Config(rank=8, alpha=16, learning_rate=1e-3, epochs=3)
    checkpoint = tp.plain_checkpoint()
    prov = provenance()
    print(f"cpu: {prov['cpu']}, commit {prov['git_commit']}, config {config.describe()}")
    grouped, clip = loop.length_grouped_batches, loop.MAX_GRAD_NORM
    summary = {}
    for variant in args.variants:
        base = load_base_model("smollm2-135m", bf16=False if "fp32" in variant else None)
        loop.MAX_GRAD_NORM = math.inf if "no-clip" in variant else clip
        loop.length_grouped_batches = shuffled_batches if "shuffled" in variant else grouped
        rows = []
        for seed in range(args.seeds):
            cfg = dataclasses.replace(config, seed=seed)
            with tempfile.TemporaryDirectory() as adapter:
                run_trial(base, task, cfg, save_adapter=adapter)
                scored = tp.learned(
                    tp.adapter_on_checkpoint(checkpoint, adapter), base.tokenizer, task, cfg
                )
            rows.append(scored)
            print(
                f"{variant} seed {seed}: held-out loss {scored['heldout_loss']:.4f}, "
                f"test accuracy {scored['test_accuracy']:.3f}",
                flush=True,
            )
        summary[variant] = rows
    loop.MAX_GRAD_NORM, loop.length_grouped_batches = clip, grouped
    print(f"\n{'variant':20s}{'held-out loss':>22s}{'test accuracy':>22s}")
    for variant, rows in summary.items():
        cells = []
        for key in ("heldout_loss", "test_accuracy"):
            xs = [r[key] for r in rows]
            sd = statistics.stdev(xs) if len(xs) > 1 else float("nan")
            cells.append(f"{statistics.fmean(xs):.3f} (sd {sd:.3f})")
        print(f"{variant:20s}{cells[0]:>22s}{cells[1]:>22s}")


if __name__ == "__main__":
    main()
