"""The accelerator path, run for real: the real SmolLM2-135M trained on the best device
(CUDA on a GPU machine), and autotune through the in-process and the Ray backends there.

    python benchmarks/device_check.py trial --out DIR      # seeds and split timings, one config
    python benchmarks/device_check.py autotune --out DIR   # the demo's autotune, in process
    python benchmarks/device_check.py ray --out DIR        # the same through Ray, 4 trials a GPU
    python benchmarks/device_check.py report --out DIR     # DIR/*.json -> benchmarks/DEVICE.md

On a GPU machine without network, `benchmarks/device_pack.sh` packs the model and the wheels
it lacks into pieces that its calls can carry, and says how to unpack them there.

Each phase writes DIR/<phase>.json. Seconds measured here are this machine's alone: they are
never divided by seconds measured on another machine. The in-process and Ray runs are timed
on the same machine, one after the other, with nothing else running.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

DOMAIN = "customer_support"
# The demo's settings (Makefile), so the pick can be read against the recorded CPU grid.
AUTOTUNE = ["--domain", DOMAIN, "--explore", "6", "--verify", "5"]
RAY = ["--backend", "ray", "--workers", "4", "--cpus-per-trial", "2"]
GPUS_PER_TRIAL = "0.25"  # four trials share the GPU (none asked for where there is no GPU)


def _adapter_weights(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(folder / "adapter_model.safetensors"))


def _max_diff(a: dict[str, Any], b: dict[str, Any]) -> float:
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


def trial_phase(model: str, sizes: dict[str, int]) -> dict[str, Any]:
    """One config three times (training seeds 0, 0, 1): same seed, same adapter? And where
    the seconds of a trial go on this device."""
    from loratune.models import load_base_model
    from loratune.provenance import provenance
    from loratune.space import Config
    from loratune.tasks import get_task
    from loratune.trainer import run_trial, zero_shot_accuracy

    start = time.perf_counter()
    base = load_base_model(model)
    load_s = time.perf_counter() - start
    task = get_task(DOMAIN, seed=0, **sizes)
    config = Config(rank=16, alpha=32, learning_rate=1e-3)
    runs, weights = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i, seed in enumerate((0, 0, 1)):
            folder = Path(tmp) / f"run{i}"
            r = run_trial(
                base, task, replace(config, seed=seed), save_adapter=folder, evaluate_test=True
            )
            weights.append(_adapter_weights(folder))
            runs.append(
                {
                    "seed": seed,
                    "val_correct": r.val_correct,
                    "val_total": r.val_total,
                    "test_correct": r.test_correct,
                    "test_total": r.test_total,
                    "train_loss": r.train_loss,
                    "setup_seconds": r.setup_seconds,
                    "epoch_seconds": r.epoch_seconds,
                    "check_seconds": r.check_seconds,
                    "test_seconds": r.test_seconds,
                    "wall_seconds": r.wall_seconds,
                    "tokens_per_second": r.tokens_per_second,
                    "peak_memory_mb": r.peak_memory_mb,
                    "device": r.device,
                }
            )
    return {
        "provenance": provenance(),
        "dtype": str(base.dtype),
        "autocast": base.autocast,
        "load_seconds": load_s,
        "config": config.describe(),
        "runs": runs,
        "same_seed_max_abs_diff": _max_diff(weights[0], weights[1]),
        "other_seed_max_abs_diff": _max_diff(weights[0], weights[2]),
        "zero_shot_validation": zero_shot_accuracy(base, task),
    }


def _cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loratune", *args], capture_output=True, text=True)


def autotune_phase(out: Path, extra: list[str], name: str) -> dict[str, Any]:
    """The demo's autotune on this machine; every trial exported with its provenance."""
    storage = f"sqlite:///{out / name}.db"
    start = time.perf_counter()
    run = _cli(
        [
            "autotune",
            *AUTOTUNE,
            *extra,
            "--storage",
            storage,
            "--study",
            name,
            "--out",
            str(out / name),
        ]
    )
    wall = time.perf_counter() - start
    rows_path = out / f"{name}.jsonl"
    _cli(["export", str(rows_path), "--storage", storage])
    rows = [json.loads(x) for x in rows_path.read_text().splitlines()] if rows_path.exists() else []
    return {
        "command": ["loratune", "autotune", *AUTOTUNE, *extra],
        "returncode": run.returncode,
        "wall_seconds": wall,
        "stdout_tail": run.stdout[-4000:],
        "stderr_tail": run.stderr[-2000:],
        "trials": [
            {
                "config": r["config"],
                "status": r["status"],
                "error": r.get("error"),
                "phase": r.get("phase"),
                "val_correct": r.get("val_correct"),
                "val_total": r.get("val_total"),
                "test_correct": r.get("test_correct"),
                "stopped_early": r.get("stopped_early"),
                "wall_seconds": r.get("wall_seconds"),
                "charged_seconds": r.get("charged_seconds"),
                "device": r.get("device"),
                "gpu": (r.get("provenance") or {}).get("gpu"),
                "worker": {
                    k: (r.get("provenance") or {}).get(k) for k in ("pid", "worker", "node")
                },
            }
            for r in rows
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("phase", choices=["trial", "autotune", "ray", "report"])
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "device-out")))
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--small", action="store_true", help="16 examples a split: a dry run")
    ap.add_argument("--commit", help="the commit a copy without .git was made from")
    ap.add_argument("--tag", default="", help="autotune/ray: write <phase>_<tag>.json")
    a = ap.parse_args()
    sizes = {"n_train": 16, "n_val": 16, "n_test": 16} if a.small else {}
    if a.phase == "report":
        from device_report import write_report

        write_report(a.out, Path(__file__).resolve().parent / "DEVICE.md")
        return
    import torch

    name = f"{a.phase}_{a.tag}" if a.tag else a.phase
    ray = RAY + (["--gpus-per-trial", GPUS_PER_TRIAL] if torch.cuda.is_available() else [])
    extra = ["--model", a.model] + [f"--{k.replace('_', '-')}={v}" for k, v in sizes.items()]
    a.out.mkdir(parents=True, exist_ok=True)
    result = (
        trial_phase(a.model, sizes)
        if a.phase == "trial"
        else autotune_phase(a.out, extra + (ray if a.phase == "ray" else []), name)
    )
    result["source_commit"] = a.commit
    (a.out / f"{name}.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(json.dumps(result, default=str)[:3000])


if __name__ == "__main__":
    main()
