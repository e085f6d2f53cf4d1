"""Tokenise a task once and cut it into length-grouped batches.

Tokenising is done once per (task, tokenizer, max_length) and reused by every trial of a
sweep. Batches group examples of similar length so little compute goes to padding.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from loratune.tasks import Example

IGNORE = -100  # label value the loss skips (prompt tokens and padding)


@dataclass(frozen=True)
class Encoded:
    """One training example as token ids: the loss covers the completion and EOS only."""

    input_ids: tuple[int, ...]
    n_prompt: int


def encode_examples(
    examples: tuple[Example, ...], tokenizer: object, max_length: int
) -> list[Encoded]:
    """Prompt and completion are tokenised apart so the boundary is exact.

    Over-long prompts lose their start (the instruction) rather than the input text or answer.
    """
    tok = tokenizer
    prompts = tok([e.prompt for e in examples], add_special_tokens=False)["input_ids"]  # type: ignore[operator]
    answers = tok([" " + e.completion for e in examples], add_special_tokens=False)["input_ids"]  # type: ignore[operator]
    eos = tok.eos_token_id  # type: ignore[attr-defined]
    out = []
    for p, a in zip(prompts, answers, strict=True):
        a = list(a)[: max_length - 1] + [eos]
        p = list(p)[-(max_length - len(a)) :] if max_length > len(a) else []
        out.append(Encoded(tuple(p + a), len(p)))
    return out


def length_grouped_batches(
    rows: list[Encoded], batch_size: int, rng: random.Random
) -> list[list[Encoded]]:
    """Shuffle, sort within windows of 8 batches by length, then shuffle the batch order.

    The windows keep some randomness in which examples share a batch while still cutting
    most of the padding.
    """
    order = list(rows)
    rng.shuffle(order)
    window = batch_size * 8
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda r: len(r.input_ids))
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def collate(batch: list[Encoded], pad_id: int, device: torch.device) -> dict[str, torch.Tensor]:
    """Right-padded ids, attention mask and labels (IGNORE outside the completion)."""
    width = max(len(r.input_ids) for r in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    for i, r in enumerate(batch):
        n = len(r.input_ids)
        ids[i, :n] = torch.tensor(r.input_ids)
        mask[i, :n] = 1
        labels[i, r.n_prompt : n] = ids[i, r.n_prompt : n]
    return {
        "input_ids": ids.to(device),
        "attention_mask": mask.to(device),
        "labels": labels.to(device),
    }


def left_pad(
    seqs: list[list[int]], pad_id: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Left padding puts every prompt's last token in the last column, ready for decoding."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        if s:
            ids[i, width - len(s) :] = torch.tensor(s)
            mask[i, width - len(s) :] = 1
    return ids.to(device), mask.to(device)
