"""A (possibly adapted) causal LM's answers on a task split, scored by the task's metric.

Classification: each prompt runs through the model once; its key/value cache is then
repeated for every candidate label, so a label costs only its own few tokens, and the
label with the highest total log-likelihood (EOS included) is the prediction.
Extraction: greedy decoding, cached, batched, normalised. A metric that reads the loss
(`val_loss`) also gets each reference's cross-entropy under the model.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
from collections.abc import Iterator, Sequence

import torch

from loratune.tasks import Example, Metric, Outputs, Task, normalise_answer, task_metric
from loratune.tasks.metrics import Answer
from loratune.trainer.batches import IGNORE, collate, encode_examples, left_pad


@contextlib.contextmanager
def maybe_autocast(device: torch.device, enabled: bool) -> Iterator[None]:
    if enabled:
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            yield
    else:
        yield


# Above this many tokens a vocabulary is large: its logits for every continuation position of
# every label after every prompt of a batch would take gigabytes (Gemma 3: 1 MB per position).
LARGE_VOCAB = 65_536
HEAD_ROWS = 64  # positions per LM-head matmul on the large-vocabulary path: 64 MB of logits


class Decoder:
    """The transformer body and LM head of a causal LM, called apart.

    Running the head only where logits are needed saves a vocabulary-sized matmul per token.
    The cache keyword changed name across transformers releases, hence the small shim.
    """

    def __init__(self, causal_lm: torch.nn.Module) -> None:
        self.body = causal_lm.get_decoder()
        self.head = causal_lm.get_output_embeddings()
        params = inspect.signature(self.body.forward).parameters
        self._cache_kw = "cache" if "cache" in params else "past_key_values"
        # A large vocabulary (Gemma 3's 262,144) scores labels through `picked_logprobs`: the
        # head only at scored positions, a few rows at a time. Smaller ones keep the one-matmul
        # path every recorded grid was measured with, so their scores stay bit-identical.
        vocab = int(getattr(self.head, "out_features", 0) or 0)
        self.head_rows = HEAD_ROWS if vocab > LARGE_VOCAB else None

    def __call__(
        self,
        ids: torch.Tensor,
        mask: torch.Tensor,
        positions: torch.Tensor,
        cache: object | None = None,
        use_cache: bool = False,
    ) -> tuple[torch.Tensor, object | None]:
        kwargs = {self._cache_kw: cache} if cache is not None else {}
        out = self.body(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=use_cache,
            **kwargs,
        )
        new_cache = out.cache if self._cache_kw == "cache" else out.past_key_values
        return out.last_hidden_state, new_cache


def _prompt_ids(
    examples: tuple[Example, ...], tokenizer: object, max_length: int
) -> list[list[int]]:
    ids = tokenizer([e.prompt for e in examples], add_special_tokens=False)["input_ids"]  # type: ignore[operator]
    return [list(s)[-max_length:] for s in ids]


class SharedPrefix:
    """The tokens every prompt starts with (the task's instruction), run through the model once.

    Each batch then starts from a copy of this cache, so the instruction is not recomputed
    for every example: a third or more of an evaluation's tokens.
    """

    def __init__(self, decoder: Decoder, prompts: list[list[int]], device: torch.device) -> None:
        n = _common_prefix_len(prompts)
        self.length = n
        self.cache: object | None = None
        if n:
            ids = torch.tensor([prompts[0][:n]], device=device)
            mask = torch.ones_like(ids)
            _, self.cache = decoder(ids, mask, torch.arange(n, device=device)[None], use_cache=True)

    def start(
        self, decoder: Decoder, chunk: list[list[int]], pad_id: int, device: torch.device
    ) -> tuple[torch.Tensor, object, torch.Tensor, torch.Tensor]:
        """Run a batch of prompts after the prefix: (last hidden, cache, full mask, last pos)."""
        ids, mask = left_pad([p[self.length :] for p in chunk], pad_id, device)
        cache = None
        if self.length:
            cache = copy.deepcopy(self.cache)
            cache.batch_repeat_interleave(ids.shape[0])  # type: ignore[union-attr]
            mask = torch.cat([torch.ones_like(mask[:, :1]).expand(-1, self.length), mask], 1)
        # Left padding sits between prefix and suffix; masked, and skipped by the positions.
        pos = (mask.cumsum(-1) - 1).clamp(min=0)[:, self.length :]
        hidden, cache = decoder(ids, mask, pos, cache=cache, use_cache=True)
        return hidden[:, -1], cache, mask, pos[:, -1:]


def _common_prefix_len(prompts: list[list[int]]) -> int:
    """Length of the token prefix all prompts share, leaving each at least one token of its own."""
    if not prompts:
        return 0
    limit = min(len(p) for p in prompts) - 1
    first = prompts[0]
    n = 0
    while n < limit and all(p[n] == first[n] for p in prompts):
        n += 1
    return n


def prompt_batches(
    decoder: Decoder,
    prompts: list[list[int]],
    pad_id: int,
    device: torch.device,
    batch_size: int,
) -> Iterator[tuple[list[int], torch.Tensor, object, torch.Tensor, torch.Tensor]]:
    """Prompts run after their shared prefix, in batches cut shortest first (similar lengths
    waste little on padding): yields (indices into `prompts`, last hidden, cache, mask,
    last position). Callers put their results back in prompt order by the indices."""
    prefix = SharedPrefix(decoder, prompts, device)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    for start in range(0, len(prompts), batch_size):
        rows = order[start : start + batch_size]
        yield (rows, *prefix.start(decoder, [prompts[i] for i in rows], pad_id, device))


def _feed(
    decoder: Decoder,
    tokens: list[int] | torch.Tensor,
    mask: torch.Tensor,
    position: torch.Tensor,
    cache: object,
    device: torch.device,
) -> tuple[torch.Tensor, object, torch.Tensor]:
    """One more token per row after the cache: (last hidden, cache, mask)."""
    ids = torch.as_tensor(tokens, device=device)[:, None]
    mask = torch.cat([mask, torch.ones_like(mask[:, :1])], 1)
    hidden, cache = decoder(ids, mask, position, cache=cache, use_cache=True)
    return hidden[:, -1], cache, mask


@torch.no_grad()
def score_labels(
    decoder: Decoder,
    prompts: list[list[int]],
    labels: list[list[int]],
    pad_id: int,
    device: torch.device,
    batch_size: int = 32,
) -> torch.Tensor:
    """Log-likelihood of every label after every prompt: shape (n_prompts, n_labels)."""
    k = len(labels)
    width = max(len(lab) for lab in labels)
    # Continuation inputs are each label but its last token; targets are the label shifted.
    cont = torch.full((k, max(width - 1, 1)), pad_id, dtype=torch.long)
    target = torch.full((k, max(width - 1, 1)), -1, dtype=torch.long)
    for j, lab in enumerate(labels):
        cont[j, : len(lab) - 1] = torch.tensor(lab[:-1], dtype=torch.long)
        target[j, : len(lab) - 1] = torch.tensor(lab[1:], dtype=torch.long)
    first = torch.tensor([lab[0] for lab in labels], device=device)
    cont, target = cont.to(device), target.to(device)
    order: list[int] = []
    scores = []
    for rows, last, cache, mask, last_pos in prompt_batches(
        decoder, prompts, pad_id, device, batch_size
    ):
        order += rows
        b = last.shape[0]
        logp = decoder.head(last).float().log_softmax(-1)
        total = logp[:, first]  # (b, k)
        if width > 1:
            cache.batch_repeat_interleave(k)  # type: ignore[union-attr]
            c_ids = cont.repeat(b, 1)  # row b*k + j is label j after prompt b
            c_mask = torch.cat([mask.repeat_interleave(k, 0), (target >= 0).long().repeat(b, 1)], 1)
            c_pos = (
                last_pos.repeat_interleave(k, 0) + 1 + torch.arange(cont.shape[1], device=device)
            )
            h2, _ = decoder(c_ids, c_mask, c_pos, cache=cache, use_cache=True)
            tgt = target.repeat(b, 1)
            if decoder.head_rows:
                picked = picked_logprobs(decoder, h2, tgt)
            else:
                lp2 = decoder.head(h2).float().log_softmax(-1)
                picked = lp2.gather(-1, tgt.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            total = total + (picked * (tgt >= 0)).sum(-1).view(b, k)
        scores.append(total)
    out = torch.empty((len(prompts), k), device=device)
    out[torch.tensor(order, device=device)] = torch.cat(scores)
    return out


def picked_logprobs(decoder: Decoder, hidden: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """log p(target) at every position whose target is >= 0 (0 elsewhere), the LM head run
    only at those positions and `decoder.head_rows` of them at a time: label padding gets no
    logits, and no more than a chunk of vocabulary-wide rows exists at once."""
    where = target >= 0
    rows, tgt = hidden[where], target[where]
    step = decoder.head_rows or max(1, len(tgt))
    parts = [torch.zeros(0, device=hidden.device)]
    for s in range(0, len(tgt), step):
        logits = decoder.head(rows[s : s + step]).float()
        t = tgt[s : s + step, None]
        parts.append((logits.gather(-1, t) - logits.logsumexp(-1, keepdim=True)).squeeze(-1))
    out = torch.zeros(target.shape, device=hidden.device)
    out[where] = torch.cat(parts)
    return out


@torch.no_grad()
def greedy_decode(
    decoder: Decoder,
    prompts: list[list[int]],
    max_new_tokens: int,
    eos_id: int,
    pad_id: int,
    device: torch.device,
    batch_size: int = 64,
    stop_ids: Sequence[int] = (),
) -> list[list[int]]:
    """Greedy continuation of each prompt, cut at EOS.

    A row also stops after a token in `stop_ids` (kept in its output): the scorer reads only
    the first line, so an untrained adapter that runs on past a newline need not be followed
    to the token budget.
    """
    outputs: list[list[int]] = [[] for _ in prompts]
    stops = torch.tensor(sorted(set(stop_ids)), dtype=torch.long, device=device)
    for rows, last, cache, mask, last_pos in prompt_batches(
        decoder, prompts, pad_id, device, batch_size
    ):
        done = torch.zeros(last.shape[0], dtype=torch.bool, device=device)
        steps = []
        for t in range(max_new_tokens):
            nxt = decoder.head(last).argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, eos_id), nxt)
            steps.append(nxt)
            done |= (nxt == eos_id) | torch.isin(nxt, stops)
            if bool(done.all()) or t == max_new_tokens - 1:
                break
            last, cache, mask = _feed(decoder, nxt, mask, last_pos + 1 + t, cache, device)
        gen = torch.stack(steps, 1).tolist()
        for i, row in zip(rows, gen, strict=True):
            outputs[i] = row[: row.index(eos_id)] if eos_id in row else row
    return outputs


# Exact scoring runs every label's tokens after every prompt: with BANKING77's 77 labels of
# about 7 tokens that is some 500 extra tokens per prompt, many times a trial's training
# compute. Past this many labels the prediction is the label that greedy decoding picks when
# held to the label set (see `constrained_choice`).
MAX_SCORED_LABELS = 20


@torch.no_grad()
def constrained_choice(
    decoder: Decoder,
    prompts: list[list[int]],
    labels: list[list[int]],
    pad_id: int,
    device: torch.device,
    batch_size: int = 64,
) -> list[int]:
    """Index of the label each prompt's greedy continuation reaches when every step may only
    take a token that keeps it on some label (a prefix trie of the label token sequences).

    Labels must end with EOS so that no label is a proper prefix of another. The cost is one
    decoding step per trie level instead of every token of every label.
    """
    children: list[dict[int, int]] = [{}]  # trie node -> {token: child node}
    label_at: dict[int, int] = {}  # leaf node -> label index
    for j, lab in enumerate(labels):
        node = 0
        for tok in lab:
            if tok not in children[node]:
                children[node][tok] = len(children)
                children.append({})
            node = children[node][tok]
        label_at.setdefault(node, j)
    choice = [0] * len(prompts)
    for rows, last, cache, mask, last_pos in prompt_batches(
        decoder, prompts, pad_id, device, batch_size
    ):
        nodes = [0] * len(rows)
        step = 0
        while True:
            logits = decoder.head(last).float()
            fed = []
            for r, node in enumerate(nodes):
                allowed = list(children[node])
                if not allowed:  # reached a label: feed padding, the row is decided
                    fed.append(pad_id)
                    continue
                tok = allowed[int(logits[r, allowed].argmax())]
                nodes[r] = children[node][tok]
                fed.append(tok)
            if not any(children[n] for n in nodes):
                break
            last, cache, mask = _feed(decoder, fed, mask, last_pos + 1 + step, cache, device)
            step += 1
        for i, node in zip(rows, nodes, strict=True):
            choice[i] = label_at[node]
    return choice


@functools.cache
def newline_ids(tokenizer: object) -> tuple[int, ...]:
    """Ids of the vocabulary's tokens that contain a line break (cached per tokenizer)."""
    vocab: dict[str, int] = tokenizer.get_vocab()  # type: ignore[attr-defined]
    ids = sorted(vocab.values())
    texts = tokenizer.batch_decode([[i] for i in ids])  # type: ignore[attr-defined]
    return tuple(i for i, t in zip(ids, texts, strict=True) if "\n" in t)


def answers(
    model: torch.nn.Module,
    tokenizer: object,
    task: Task,
    examples: Sequence[Example],
    device: torch.device,
    autocast: bool,
    max_length: int = 192,
) -> list[Answer]:
    """(prediction, reference) of each of `examples`, as the task compares them: a label and
    the gold completion, or a greedy answer and the gold one, both normalised.

    Per-example answers let a trial record exact counts, score a subset (the early-stopping
    check) without running it again, and compare two configs on the same examples.
    """
    if not examples:
        return []
    examples = tuple(examples)
    was_training = model.training
    model.eval()
    decoder = Decoder(model)
    pad_id = tokenizer.pad_token_id  # type: ignore[attr-defined]
    eos_id = tokenizer.eos_token_id  # type: ignore[attr-defined]
    prompts = _prompt_ids(examples, tokenizer, max_length)
    try:
        with maybe_autocast(device, autocast):
            if task.kind == "classification":
                label_ids = [
                    list(s) + [eos_id]
                    for s in tokenizer(
                        [" " + lab for lab in task.labels], add_special_tokens=False
                    )["input_ids"]  # type: ignore[operator]
                ]
                if len(label_ids) > MAX_SCORED_LABELS:
                    picked = constrained_choice(decoder, prompts, label_ids, pad_id, device)
                else:
                    # Every prompt's cache is repeated once per label: bound the rows per batch.
                    batch = max(1, min(32, 512 // len(label_ids)))
                    scores = score_labels(decoder, prompts, label_ids, pad_id, device, batch)
                    picked = scores.argmax(-1).tolist()
                return [
                    (task.labels[p], e.completion) for p, e in zip(picked, examples, strict=True)
                ]
            answers = tokenizer([" " + e.completion for e in task.train], add_special_tokens=False)[
                "input_ids"
            ]  # type: ignore[operator]
            budget = max(len(a) for a in answers) + 4
            gen = greedy_decode(
                decoder, prompts, budget, eos_id, pad_id, device, stop_ids=newline_ids(tokenizer)
            )
            texts = tokenizer.batch_decode(gen, skip_special_tokens=True)  # type: ignore[attr-defined]
            return [
                (normalise_answer(t), normalise_answer(e.completion))
                for t, e in zip(texts, examples, strict=True)
            ]
    finally:
        model.train(was_training)


@torch.no_grad()
def reference_nll(
    model: torch.nn.Module,
    tokenizer: object,
    examples: Sequence[Example],
    device: torch.device,
    autocast: bool,
    max_length: int = 192,
    batch_size: int = 32,
) -> tuple[list[float], list[int]]:
    """Each example's summed cross-entropy over its completion and EOS (the tokens training's
    loss covers), and how many tokens that is."""
    was_training = model.training
    model.eval()
    decoder = Decoder(model)
    rows = encode_examples(tuple(examples), tokenizer, max_length)
    nll: list[float] = []
    tokens: list[int] = []
    try:
        for start in range(0, len(rows), batch_size):
            batch = collate(rows[start : start + batch_size], tokenizer.pad_token_id, device)  # type: ignore[attr-defined]
            mask = batch["attention_mask"]
            labels = batch["labels"][:, 1:]
            where = labels != IGNORE
            with maybe_autocast(device, autocast):
                hidden, _ = decoder(batch["input_ids"], mask, (mask.cumsum(-1) - 1).clamp(min=0))
                # The LM head only where a reference token is predicted, as in training.
                logits = decoder.head(hidden[:, :-1][where]).float()
            per_token = torch.nn.functional.cross_entropy(logits, labels[where], reduction="none")
            sums = torch.zeros(len(labels), device=device).index_add_(
                0, where.nonzero()[:, 0], per_token
            )
            nll += sums.tolist()
            tokens += where.sum(-1).tolist()
    finally:
        model.train(was_training)
    return nll, tokens


def outputs(
    model: torch.nn.Module,
    tokenizer: object,
    task: Task,
    examples: Sequence[Example],
    device: torch.device,
    autocast: bool,
    max_length: int = 192,
    metric: Metric | None = None,
) -> Outputs:
    """What `metric` (default: the task's) needs of the model on `examples`."""
    metric = metric or task_metric(task)
    got = answers(model, tokenizer, task, examples, device, autocast, max_length)
    if not metric.needs_loss:
        return Outputs(tuple(got))
    nll, tokens = reference_nll(model, tokenizer, examples, device, autocast, max_length)
    return Outputs(tuple(got), tuple(nll), tuple(tokens))


def correct(
    model: torch.nn.Module,
    tokenizer: object,
    task: Task,
    examples: Sequence[Example],
    device: torch.device,
    autocast: bool,
    max_length: int = 192,
) -> list[bool]:
    """Whether each of `examples` is answered right (the per-example hits of accuracy)."""
    got = answers(model, tokenizer, task, examples, device, autocast, max_length)
    return [p == r for p, r in got]


def accuracy(
    model: torch.nn.Module,
    tokenizer: object,
    task: Task,
    examples: Sequence[Example],
    device: torch.device,
    autocast: bool,
    max_length: int = 192,
) -> float:
    """Fraction of `examples` answered right."""
    hits = correct(model, tokenizer, task, examples, device, autocast, max_length)
    return sum(hits) / len(hits) if hits else float("nan")
