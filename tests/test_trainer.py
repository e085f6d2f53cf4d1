import math

import pytest
import torch

from loratune.space import Config
from loratune.trainer import TrialFailed, run_trial, zero_shot_accuracy
from loratune.trainer.batches import IGNORE, collate, encode_examples
from loratune.trainer.evaluate import Decoder, score_labels

CFG = Config(rank=4, alpha=8, learning_rate=1e-2, epochs=2, batch_size=4)


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_trial_records_every_measure(tiny_base, toy_task):
    result = run_trial(tiny_base, toy_task, CFG)
    assert 0.0 <= result.accuracy <= 1.0
    assert len(result.curve) == 2 and len(result.train_loss) == 2
    assert math.isclose(result.latency * 2, result.training_time_seconds)
    assert result.wall_seconds >= result.training_time_seconds + result.eval_seconds - 1e-6
    assert result.tokens_per_second > 0 and result.peak_memory_mb > 0
    assert result.device == "cpu" and result.cost == 0.0
    # LoRA on q/v of 2 layers, hidden 64, kv 2 heads of 16: A (4x64) + B (64x4 or 32x4)
    assert result.trainable_params == 2 * (4 * 64 + 64 * 4) + 2 * (4 * 64 + 32 * 4)


def test_base_model_is_pristine_after_trials(tiny_base, toy_task):
    before = _weights(tiny_base.model)
    run_trial(tiny_base, toy_task, CFG)
    run_trial(tiny_base, toy_task, Config(rank=8, alpha=8, learning_rate=1e-3, epochs=1))
    after = _weights(tiny_base.model)
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any("lora" in name for name, _ in tiny_base.model.named_modules())


def test_warm_up_leaves_the_base_and_the_next_trial_as_they_were(tiny_base, toy_task):
    """The accelerator warm-up (a throwaway trial) must change nothing a trial records but
    its seconds; run here on the CPU, where it is off unless asked for."""
    from loratune.executors.local import LocalExecutor, TrialHooks

    before = _weights(tiny_base.model)
    cold = LocalExecutor(tiny_base, toy_task)
    assert cold.warm_up_seconds == 0.0  # a CPU: no warm-up by default
    a = cold.run(CFG, TrialHooks())
    warm = LocalExecutor(tiny_base, toy_task, warm=True)
    assert warm.warm_up_seconds > 0.0
    b = warm.run(CFG, TrialHooks())
    assert (a.train_loss, a.val_hits, a.curve) == (b.train_loss, b.val_hits, b.curve)
    after = _weights(tiny_base.model)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any("lora" in name for name, _ in tiny_base.model.named_modules())


def test_same_seed_same_result(tiny_base, toy_task):
    a = run_trial(tiny_base, toy_task, CFG)
    b = run_trial(tiny_base, toy_task, CFG)
    assert a.train_loss == b.train_loss and a.accuracy == b.accuracy


def test_training_lowers_the_loss(tiny_base, toy_task):
    r = run_trial(
        tiny_base, toy_task, Config(rank=8, alpha=16, learning_rate=3e-2, epochs=4, batch_size=4)
    )
    assert r.train_loss[-1] < r.train_loss[0]


def test_cost_is_device_hours_times_price(tiny_base, toy_task):
    r = run_trial(tiny_base, toy_task, CFG, price_per_hour=3.6)
    assert math.isclose(r.cost, r.charged_seconds / 1000, rel_tol=1e-9)


def test_nan_loss_fails_the_trial_and_frees_the_base(tiny_base, toy_task):
    with pytest.raises(TrialFailed, match="loss is nan"):
        run_trial(
            tiny_base,
            toy_task,
            Config(rank=4, alpha=8, learning_rate=0.9, epochs=1, batch_size=4),
            on_step=_poison(tiny_base),
        )
    assert not any("lora" in name for name, _ in tiny_base.model.named_modules())


def _poison(base):
    """Turn every LoRA B weight to NaN after the first step, as a diverging run would."""

    def on_step(epoch, step, steps, loss):
        for name, p in base.model.named_parameters():
            if "lora_B" in name:
                p.data.fill_(float("nan"))

    return on_step


def test_epoch_callback_can_stop_early(tiny_base, toy_task):
    r = run_trial(
        tiny_base,
        toy_task,
        Config(rank=4, alpha=8, learning_rate=1e-2, epochs=3, batch_size=4),
        on_epoch=lambda epoch, acc: False,
    )
    assert r.epochs_run == 1 and r.stopped_early


def test_extraction_task_runs_and_saves_adapter(tiny_base, toy_extract_task, tmp_path):
    r = run_trial(tiny_base, toy_extract_task, CFG, save_adapter=tmp_path / "adapter")
    assert 0.0 <= r.accuracy <= 1.0
    assert (tmp_path / "adapter" / "adapter_config.json").exists()


def test_zero_shot_in_range(tiny_base, toy_task):
    assert 0.0 <= zero_shot_accuracy(tiny_base, toy_task) <= 1.0


def test_loss_masks_prompt_tokens(tiny_base, toy_task):
    rows = encode_examples(toy_task.train[:2], tiny_base.tokenizer, 192)
    batch = collate(rows, tiny_base.tokenizer.pad_token_id, torch.device("cpu"))
    for i, r in enumerate(rows):
        labels = batch["labels"][i]
        assert (labels[: r.n_prompt] == IGNORE).all()
        assert labels[len(r.input_ids) - 1] == tiny_base.tokenizer.eos_token_id


def test_cached_label_scores_match_full_forward(tiny_base):
    """The shared-prompt cache must give the same log-likelihoods as scoring each pair whole."""
    model = tiny_base.model
    tok = tiny_base.tokenizer
    prompts = [tok("Ticket: my app crashes\nAnswer:")["input_ids"], tok("Hi\nAnswer:")["input_ids"]]
    labels = [
        tok(" billing")["input_ids"] + [tok.eos_token_id],
        tok(" technical support")["input_ids"] + [tok.eos_token_id],
    ]
    got = score_labels(Decoder(model), prompts, labels, tok.pad_token_id, torch.device("cpu"))
    for i, p in enumerate(prompts):
        for j, lab in enumerate(labels):
            ids = torch.tensor([p + lab])
            with torch.no_grad():
                logp = model(ids).logits.float().log_softmax(-1)[0]
            want = sum(logp[len(p) - 1 + t, lab[t]].item() for t in range(len(lab)))
            assert math.isclose(got[i, j].item(), want, rel_tol=1e-4, abs_tol=1e-4)


def test_shared_prefix_scores_match_full_forward(tiny_base):
    """Prompts sharing an instruction are scored from one prefix cache; results must not change."""
    model = tiny_base.model
    tok = tiny_base.tokenizer
    head = "Classify the ticket as one of: billing, technical.\nInput:"
    prompts = [
        tok(head + text)["input_ids"]
        for text in (
            " app crashes\nAnswer:",
            " pay\nAnswer:",
            " my card was charged twice\nAnswer:",
        )
    ]
    labels = [
        tok(" billing")["input_ids"] + [tok.eos_token_id],
        tok(" technical support")["input_ids"] + [tok.eos_token_id],
    ]
    # batch 2 of 3 prompts: batches are cut from length-sorted prompts, so the order is undone.
    got = score_labels(
        Decoder(model), prompts, labels, tok.pad_token_id, torch.device("cpu"), batch_size=2
    )
    for i, p in enumerate(prompts):
        for j, lab in enumerate(labels):
            with torch.no_grad():
                logp = model(torch.tensor([p + lab])).logits.float().log_softmax(-1)[0]
            want = sum(logp[len(p) - 1 + t, lab[t]].item() for t in range(len(lab)))
            assert math.isclose(got[i, j].item(), want, rel_tol=1e-4, abs_tol=1e-4)


def test_greedy_decode_with_shared_prefix_matches_stepwise(tiny_base):
    from loratune.trainer.evaluate import greedy_decode

    model = tiny_base.model
    tok = tiny_base.tokenizer
    prompts = [tok("Extract the price.\nInput: " + t)["input_ids"] for t in ("a $5 hat", "b")]
    got = greedy_decode(Decoder(model), prompts, 6, -1, tok.pad_token_id, torch.device("cpu"))
    for p, out in zip(prompts, got, strict=True):
        ids = list(p)
        for _ in range(6):
            with torch.no_grad():
                ids.append(int(model(torch.tensor([ids])).logits[0, -1].argmax()))
        assert out == ids[len(p) :]


def test_greedy_decode_stops_after_a_stop_token(tiny_base):
    from loratune.trainer.evaluate import greedy_decode

    tok = tiny_base.tokenizer
    prompts = [tok("Extract the price.\nInput: " + t)["input_ids"] for t in ("a $5 hat", "b", "cc")]
    dec = Decoder(tiny_base.model)
    cpu = torch.device("cpu")
    eos, pad = tok.eos_token_id, tok.pad_token_id
    full = greedy_decode(dec, prompts, 8, eos, pad, cpu, batch_size=2)
    stop = full[0][2]  # a token the first row emits third
    cut = greedy_decode(dec, prompts, 8, eos, pad, cpu, batch_size=2, stop_ids=[stop])
    for whole, part in zip(full, cut, strict=True):
        want = whole[: whole.index(stop) + 1] if stop in whole else whole
        assert part == want
    assert cut[0][-1] == stop


def test_newline_ids_decode_to_line_breaks(tiny_base):
    from loratune.trainer.evaluate import newline_ids

    tok = tiny_base.tokenizer
    ids = newline_ids(tok)
    assert tok("\n", add_special_tokens=False)["input_ids"][0] in ids
    assert all("\n" in tok.decode([i]) for i in ids)
    assert tok(" revenue", add_special_tokens=False)["input_ids"][0] not in ids


def _constrained_by_full_forward(model, prompt: list[int], labels: list[list[int]]) -> int:
    """Greedy decoding held to the label set, one full forward pass per step (the reference)."""
    chosen: list[int] = []
    while True:
        alive = [lab for lab in labels if lab[: len(chosen)] == chosen and len(lab) > len(chosen)]
        if not alive:
            return labels.index(chosen)
        allowed = sorted({lab[len(chosen)] for lab in alive})
        with torch.no_grad():
            logits = model(torch.tensor([prompt + chosen])).logits[0, -1].float()
        chosen.append(allowed[int(logits[allowed].argmax())])


def test_constrained_choice_matches_stepwise_reference(tiny_base):
    from loratune.trainer.evaluate import constrained_choice

    tok = tiny_base.tokenizer
    eos = tok.eos_token_id
    names = ["card arrival", "card delivery estimate", "card linking", "cash withdrawal", "pin"]
    labels = [tok(" " + n, add_special_tokens=False)["input_ids"] + [eos] for n in names]
    head = "Classify the text by its intent.\nInput: "
    texts = ["where is my card", "atm ate my cash yesterday", "pin", "how long for a new card?"]
    prompts = [tok(head + t + "\nAnswer:")["input_ids"] for t in texts]
    got = constrained_choice(
        Decoder(tiny_base.model), prompts, labels, tok.pad_token_id, torch.device("cpu"), 3
    )
    want = [_constrained_by_full_forward(tiny_base.model, p, labels) for p in prompts]
    assert got == want


def test_many_label_task_is_scored_by_constrained_choice(tiny_base, monkeypatch):
    from loratune.tasks import Example, Task
    from loratune.trainer import evaluate
    from loratune.trainer.evaluate import MAX_SCORED_LABELS, accuracy

    def no_exact_scoring(*args, **kwargs):
        raise AssertionError("more than MAX_SCORED_LABELS labels must not be scored exactly")

    monkeypatch.setattr(evaluate, "score_labels", no_exact_scoring)
    tok = tiny_base.tokenizer
    labels = tuple(f"intent_{i}" for i in range(MAX_SCORED_LABELS + 5))
    label_ids = [
        tok(" " + lab, add_special_tokens=False)["input_ids"] + [tok.eos_token_id] for lab in labels
    ]
    prompts = [f"Input: text {i}\nAnswer:" for i in range(12)]
    # Gold = the reference's pick for the first 8 prompts, a label it did not pick for the rest.
    picks = [
        _constrained_by_full_forward(
            tiny_base.model, tok(p, add_special_tokens=False)["input_ids"], label_ids
        )
        for p in prompts
    ]
    gold = [labels[j] if i < 8 else labels[(j + 1) % len(labels)] for i, j in enumerate(picks)]
    examples = tuple(Example(p, g) for p, g in zip(prompts, gold, strict=True))
    task = Task("many", "classification", examples, examples, examples, labels)
    acc = accuracy(tiny_base.model, tok, task, examples, torch.device("cpu"), False)
    assert acc == pytest.approx(8 / 12)


def test_gradients_are_clipped_before_every_step(tiny_base, toy_task, monkeypatch):
    """Trainer's default max-norm 1.0: measured to matter for what the adapter learns."""
    from loratune.trainer import loop

    norms: list[float] = []
    real_clip = torch.nn.utils.clip_grad_norm_

    def spy(params, max_norm, *args, **kwargs):
        params = list(params)
        total = real_clip(params, max_norm, *args, **kwargs)
        after = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params]))
        norms.append(float(after))
        assert max_norm == loop.MAX_GRAD_NORM
        return total

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    cfg = Config(rank=4, alpha=8, learning_rate=1e-2, epochs=1, batch_size=4)
    run_trial(tiny_base, toy_task, cfg)
    steps = math.ceil(len(toy_task.train) / cfg.batch_size)
    assert len(norms) == steps
    assert max(norms) <= loop.MAX_GRAD_NORM + 1e-4
