"""The model registry: a model is one registered loader, picked up by name everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pytest
import torch

from loratune.errors import LoratuneError
from loratune.models import (
    MODELS,
    check_model_name,
    load_base_model,
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
    with pytest.raises(LoratuneError, match="use smollm2-135m, tiny-llama, tiny-llama-1l, a hub"):
        check_model_name("no-such-model")
