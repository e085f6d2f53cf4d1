"""Try a saved adapter on one text, or score it on a data file, by the trials' own code.

A classification answer is the label `score_labels` (or, past MAX_SCORED_LABELS labels,
`constrained_choice`) picks, and an extraction answer is `greedy_decode`'s first line: the
functions that scored the trial. `evaluate_adapter` calls `accuracy()` itself, so a data file
holding the trial's validation split gives back the recorded validation accuracy exactly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from loratune.deploy.card import wilson
from loratune.deploy.data import read_examples
from loratune.deploy.prompts import format_input
from loratune.errors import LoratuneError
from loratune.models import BaseModel, load_base_model
from loratune.tasks import Example, Task
from loratune.trainer.adapters import attached, read_meta
from loratune.trainer.evaluate import (
    MAX_SCORED_LABELS,
    Decoder,
    accuracy,
    constrained_choice,
    greedy_decode,
    maybe_autocast,
    newline_ids,
    score_labels,
)

# New tokens an extraction answer may take when trying one text: extracted spans in the
# built-in domains are at most a dozen tokens; decoding also stops at the first line break.
TRY_MAX_NEW_TOKENS = 48


@dataclass(frozen=True)
class Answer:
    """One text tried: the full prompt, the adapter's answer, the base model's (or None)."""

    prompt: str
    answer: str
    base_answer: str | None = None


@dataclass(frozen=True)
class Evaluation:
    """An adapter's accuracy on a data file, with its 95% Wilson interval."""

    accuracy: float
    correct: int
    n: int
    low: float
    high: float
    data: str


@functools.lru_cache(maxsize=1)
def _cached_base(name: str, device: str | None) -> BaseModel:
    # Base-model seed 0, as the trials' executor loads it (only tiny-llama's random init uses it).
    return load_base_model(name, device=device, seed=0)


def _base_for(meta: dict[str, Any], device: str | None, base: BaseModel | None) -> BaseModel:
    if base is None:
        return _cached_base(str(meta["model"]), device)
    if base.name != meta["model"]:
        raise LoratuneError(
            f"the adapter is for {meta['model']!r}, the base given is {base.name!r}"
        )
    return base


def _max_length(meta: dict[str, Any]) -> int:
    return int(meta["config"].get("max_length", 192))


def _label_ids(tokenizer: Any, labels: list[str]) -> list[list[int]]:
    # As accuracy() builds them: a leading space (the prompt ends with "Answer:") and EOS.
    ids = tokenizer([" " + lab for lab in labels], add_special_tokens=False)["input_ids"]
    return [list(s) + [tokenizer.eos_token_id] for s in ids]


@torch.no_grad()
def _answer(model: torch.nn.Module, base: BaseModel, meta: dict[str, Any], prompt: str) -> str:
    task = meta.get("task") or {}
    tok: Any = base.tokenizer
    decoder = Decoder(model)
    ids = [list(tok(prompt, add_special_tokens=False)["input_ids"])[-_max_length(meta) :]]
    with maybe_autocast(base.device, base.autocast):
        if task.get("kind") == "classification":
            labels = [str(lab) for lab in task.get("labels", [])]
            label_ids = _label_ids(tok, labels)
            if len(labels) > MAX_SCORED_LABELS:
                pick = constrained_choice(decoder, ids, label_ids, tok.pad_token_id, base.device)[0]
            else:
                scores = score_labels(decoder, ids, label_ids, tok.pad_token_id, base.device)
                pick = int(scores[0].argmax())
            return labels[pick]
        out = greedy_decode(
            decoder,
            ids,
            TRY_MAX_NEW_TOKENS,
            tok.eos_token_id,
            tok.pad_token_id,
            base.device,
            stop_ids=newline_ids(tok),
        )
    text = tok.decode(out[0], skip_special_tokens=True)
    return text.strip().split("\n")[0].strip()


def try_adapter(
    adapter_dir: str | Path,
    text: str,
    compare: bool = False,
    device: str | None = None,
    *,
    base: BaseModel | None = None,
) -> Answer:
    """The adapter's answer to `text` in its task's prompt format (and the base model's, with
    `compare`). `base` reuses an already loaded base model of the same name."""
    meta = read_meta(adapter_dir)
    if not text.strip():
        raise LoratuneError("the text to try is empty")
    bm = _base_for(meta, device, base)
    prompt = format_input(meta.get("task") or {}, text)
    with attached(bm, adapter_dir) as model:
        answer = _answer(model, bm, meta, prompt)
    base_answer = _answer(bm.model, bm, meta, prompt) if compare else None
    return Answer(prompt, answer, base_answer)


def _reference_train(meta: dict[str, Any]) -> tuple[Example, ...] | None:
    """The trial's own training split, when its data can be drawn again and hashes the same.

    accuracy() sizes an extraction answer's token budget from the training answers; with
    the trial's own, a file holding the trial's validation split scores exactly as it did.
    """
    from loratune.tasks import get_task

    task = meta.get("task") or {}
    source = task.get("source")
    try:
        again = get_task(
            domain=None if source and source != "generator" else task.get("name"),
            data=source if source and source != "generator" else None,
            seed=int(task.get("data_seed", 0)),
            n_train=int(task.get("n_train", 100)),
            n_val=int(task.get("n_val", 32)),
            n_test=int(task.get("n_test", 200)),
        )
    except (LoratuneError, OSError, TypeError, ValueError):
        return None
    return again.train if again.fingerprint() == task.get("data_sha256") else None


def evaluate_adapter(
    adapter_dir: str | Path,
    data_file: str | Path,
    device: str | None = None,
    *,
    base: BaseModel | None = None,
) -> Evaluation:
    """Accuracy of the adapter on every row of `data_file` (JSONL/CSV shaped like its task),
    scored by the accuracy() that scored its trial, with a 95% Wilson interval."""
    meta = read_meta(adapter_dir)
    info = meta.get("task") or {}
    examples = read_examples(data_file, info)
    bm = _base_for(meta, device, base)
    # For extraction the answer budget comes from training answers (see _reference_train);
    # when the trial's data cannot be drawn again, the file's own answers stand in.
    train = _reference_train(meta) if info.get("kind") == "extraction" else None
    task = Task(
        str(info.get("name", "adapter")),
        info.get("kind", "classification"),
        train or examples,
        examples,
        examples,
        tuple(str(lab) for lab in info.get("labels", [])),
        source=str(data_file),
        instruction=str(info.get("instruction", "")),
    )
    with attached(bm, adapter_dir) as model:
        acc = accuracy(
            model, bm.tokenizer, task, examples, bm.device, bm.autocast, _max_length(meta)
        )
    k = round(acc * len(examples))
    low, high = wilson(k, len(examples))
    return Evaluation(acc, k, len(examples), low, high, str(data_file))
