"""Trial speed: loratune's trainer against the standard recipe, measured side by side.

(a) the standard recipe: transformers.Trainer + PEFT with its defaults, the base model loaded
    per trial (as `model_init` does), evaluation by one forward pass per (example, label);
(b) loratune's trainer: resident base model, bf16 base weights where the CPU supports it,
    length-grouped batches, LM head only on completion tokens, cached label scoring.

Same model, data, LoRA config and number of optimiser steps. Paths alternate within each
repeat so machine noise hits both alike; medians are reported. Also measures this CPU's
matmul ceiling and the fraction of it the trainer reaches.

    python benchmarks/throughput.py            # 3 repeats, the default 3-epoch trial
    python benchmarks/throughput.py --quick    # 2 repeats, 1 epoch, a few minutes

Whether both paths learn the same is judged on what they learned, not on their logged training
losses (bf16 against fp32, different batch order): each repeat trains both paths with the same
seed (seeds differ across repeats), and both adapters are then scored by one fp32 function on
the plain checkpoint: held-out completion loss and test accuracy. The spread across seeds is
the noise the difference is compared with.
The last line is `speedup: X.XX` (training tokens/s, loratune over the standard recipe).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import tempfile
import time
from pathlib import Path

import torch

from loratune.models import load_base_model, smollm2_gguf, smollm2_tokenizer
from loratune.provenance import provenance
from loratune.space import Config
from loratune.tasks import get_task
from loratune.trainer import run_trial
from loratune.trainer.batches import collate, encode_examples
from loratune.trainer.evaluate import accuracy
from loratune.trainer.loop import lora_config


def matmul_gflops(dtype: torch.dtype, n: int = 1024, seconds: float = 2.0) -> float:
    """Sustained square-matmul throughput of this machine at `dtype`."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    for _ in range(3):
        a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2 * n**3 * count / (time.perf_counter() - start) / 1e9


def plain_checkpoint() -> str:
    """SmolLM2 saved once as an ordinary safetensors checkpoint, as a user's model would be.

    Trainer refuses models loaded from GGUF (it treats them as quantized), so the standard
    recipe loads this folder per trial; the conversion itself is not timed.
    """
    from transformers import AutoModelForCausalLM

    folder = Path(tempfile.gettempdir()) / "loratune-bench-smollm2"
    if not (folder / "config.json").exists():
        gguf_folder, name = smollm2_gguf()
        model = AutoModelForCausalLM.from_pretrained(gguf_folder, gguf_file=name)
        model.config.quantization_config = None
        model.hf_quantizer = None
        model.save_pretrained(folder)
    return str(folder)


@torch.no_grad()
def heldout_loss(model: torch.nn.Module, tok, examples, max_length: int) -> float:
    """Mean cross-entropy per completion token over `examples`, in fp32 on the CPU."""
    model.eval()
    rows = encode_examples(examples, tok, max_length)
    total, count = 0.0, 0
    for start in range(0, len(rows), 16):
        batch = collate(rows[start : start + 16], tok.pad_token_id, torch.device("cpu"))
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        labels = batch["labels"][:, 1:]
        where = labels != -100
        nll = torch.nn.functional.cross_entropy(
            logits[:, :-1][where].float(), labels[where], reduction="sum"
        )
        total, count = total + float(nll), count + int(where.sum())
    return total / count


def learned(peft_model: torch.nn.Module, tok, task, config: Config) -> dict[str, float]:
    """What an adapter learned, measured the same way for both paths (fp32, no autocast)."""
    causal = peft_model.get_base_model()
    return {
        "heldout_loss": heldout_loss(causal, tok, task.test, config.max_length),
        "test_accuracy": accuracy(
            causal, tok, task, task.test, torch.device("cpu"), False, config.max_length
        ),
    }


def adapter_on_checkpoint(checkpoint: str, adapter: str) -> torch.nn.Module:
    """A saved loratune adapter on the plain fp32 checkpoint the standard recipe trains."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    return PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(checkpoint), adapter)


def standard_recipe(task, config: Config, eval_n: int, checkpoint: str) -> dict[str, float]:
    """What a user writes: Trainer + PEFT, defaults, a fresh model load per trial."""
    from peft import get_peft_model
    from transformers import (
        AutoModelForCausalLM,
        DataCollatorForSeq2Seq,
        Trainer,
        TrainingArguments,
    )

    tok = smollm2_tokenizer()
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(checkpoint)
    model = get_peft_model(model, lora_config(config))
    start_s = time.perf_counter() - t0
    rows = encode_examples(task.train, tok, config.max_length)
    data = [
        {
            "input_ids": list(r.input_ids),
            "attention_mask": [1] * len(r.input_ids),
            "labels": [-100] * r.n_prompt + list(r.input_ids[r.n_prompt :]),
        }
        for r in rows
    ]
    steps = -(-len(rows) // config.batch_size) * config.epochs
    args = TrainingArguments(
        output_dir="/tmp/loratune-bench-trainer",
        per_device_train_batch_size=config.batch_size,
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=max(1, steps // 10),
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=config.seed,
    )
    collator = DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100)
    trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=collator)
    out = trainer.train()
    tokens = sum(len(r.input_ids) for r in rows) * config.epochs
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    per_epoch = len(losses) // config.epochs
    t0 = time.perf_counter()
    naive_label_accuracy(model, tok, task, eval_n)
    eval_s = (time.perf_counter() - t0) * len(task.test) / eval_n  # scaled to the full test set
    return {
        "tokens_per_s": tokens / out.metrics["train_runtime"],
        "eval_s": eval_s,
        "start_s": start_s,
        "final_loss": statistics.fmean(losses[-per_epoch:]),
        **learned(model, tok, task, config),
    }


@torch.no_grad()
def naive_label_accuracy(model, tok, task, n: int) -> float:
    """One forward pass per (example, label): the loop most users write first."""
    model.eval()
    hits = 0
    for ex in task.test[:n]:
        p = tok(ex.prompt)["input_ids"]
        scores = []
        for lab in task.labels:
            a = tok(" " + lab)["input_ids"] + [tok.eos_token_id]
            logp = model(torch.tensor([p + a])).logits[0].float().log_softmax(-1)
            scores.append(sum(logp[len(p) - 1 + i, t].item() for i, t in enumerate(a)))
        hits += task.labels[scores.index(max(scores))] == ex.completion
    return hits / n


def loratune_path(base, task, config: Config, checkpoint: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as adapter:
        r = run_trial(base, task, config, save_adapter=adapter)
        scored = learned(adapter_on_checkpoint(checkpoint, adapter), base.tokenizer, task, config)
    return {
        **scored,
        "tokens_per_s": r.tokens_per_second,
        "eval_s": r.eval_seconds,
        "start_s": r.setup_seconds,
        "final_loss": r.train_loss[-1],
        "trial_s": r.wall_seconds,
        "eval_fraction": r.eval_seconds / r.wall_seconds,
    }


def same_within_noise(key: str, a: list[float], b: list[float]) -> str:
    """Mean difference against the seed-to-seed spread (needs 2+ repeats for a spread)."""
    diff = statistics.fmean(b) - statistics.fmean(a)
    if len(a) < 2:
        return f"{key}: loratune - standard = {diff:+.3f} (one repeat: no noise estimate)"
    # Standard error of a difference of two means, each over len(a) seeds.
    se = math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))
    verdict = "within noise" if abs(diff) <= 2 * se else "NOT within noise"
    return (
        f"{key}: loratune - standard = {diff:+.3f}, 2 x standard error {2 * se:.3f} over "
        f"{len(a)} seeds: {verdict}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 repeats of a 1-epoch trial")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--domain", default="customer_support")
    ap.add_argument("--eval-n", type=int, default=40, help="test examples the naive eval runs")
    args = ap.parse_args()
    repeats = args.repeats or (2 if args.quick else 3)
    config = Config(rank=8, alpha=16, learning_rate=1e-3, epochs=1 if args.quick else 3)
    task = get_task(args.domain, seed=0)
    prov = provenance()
    print(
        f"cpu: {prov['cpu']} ({prov['cpu_threads']} threads), torch "
        f"{prov['packages']['torch']}, commit {prov['git_commit']}"
    )
    print(
        f"config: {config.describe()} epochs={config.epochs} batch={config.batch_size}, "
        f"domain {args.domain}, {len(task.train)} train / {len(task.test)} test examples"
    )

    t0 = time.perf_counter()
    base = load_base_model("smollm2-135m")
    first_load = time.perf_counter() - t0
    checkpoint = plain_checkpoint()
    std: list[dict[str, float]] = []
    ours: list[dict[str, float]] = []
    for i in range(repeats):
        seeded = dataclasses.replace(config, seed=i)
        std.append(standard_recipe(task, seeded, args.eval_n, checkpoint))
        ours.append(loratune_path(base, task, seeded, checkpoint))
        print(
            f"repeat {i + 1}: standard {std[-1]['tokens_per_s']:.0f} tok/s, "
            f"loratune {ours[-1]['tokens_per_s']:.0f} tok/s"
        )

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print(f"\n{'':28s}{'standard':>12s}{'loratune':>12s}{'ratio':>8s}")
    for key, label in (
        ("tokens_per_s", "training tokens/s"),
        ("eval_s", "evaluation s (test set)"),
        ("start_s", "start of a later trial s"),
        ("final_loss", "last-epoch training loss"),
        ("heldout_loss", "held-out loss (fp32, test)"),
        ("test_accuracy", "test accuracy (fp32)"),
    ):
        a, b = med(std, key), med(ours, key)
        ratio = b / a if key == "tokens_per_s" else a / b
        print(f"{label:28s}{a:12.3f}{b:12.3f}{ratio:8.2f}")
    for key in ("heldout_loss", "test_accuracy"):
        print(same_within_noise(key, [r[key] for r in std], [r[key] for r in ours]))
    print(f"first model load (loratune, once per process): {first_load:.1f} s")
    print(
        f"loratune trial wall time: {med(ours, 'trial_s'):.1f} s, evaluation "
        f"{100 * med(ours, 'eval_fraction'):.0f}% of it"
    )

    bf16, fp32 = matmul_gflops(torch.bfloat16), matmul_gflops(torch.float32)
    body = base.model.get_decoder()
    params = sum(p.numel() for n, p in body.named_parameters() if "embed" not in n)
    # 4 x params FLOPs per token: forward (2P) + input gradients (2P); frozen weights need no
    # weight gradients. The LM head, run only on completion tokens, is left out: a lower bound.
    achieved = 4 * params * med(ours, "tokens_per_s") / 1e9
    peak = bf16 if base.dtype == torch.bfloat16 else fp32
    print(f"matmul ceiling: bf16 {bf16:.0f} GFLOP/s, fp32 {fp32:.0f} GFLOP/s")
    print(
        f"trainer reaches {achieved:.0f} GFLOP/s (4 x {params / 1e6:.0f}M non-embedding "
        f"params per token) = {100 * achieved / peak:.0f}% of the {base.dtype} ceiling"
    )
    print(f"speedup: {med(ours, 'tokens_per_s') / med(std, 'tokens_per_s'):.2f}")


if __name__ == "__main__":
    main()
