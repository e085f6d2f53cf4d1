"""The GGUF adapter in llama.cpp agrees with PEFT on the real SmolLM2-135M (minutes: slow).

Run: OMP_NUM_THREADS=1 .venv/bin/pytest -m slow tests/test_slow_deploy.py -s
Needs llama-cpp-python (a source distribution: pip builds llama.cpp with cmake and a C++
compiler). The script prints the agreement figure; the README quotes it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from loratune.deploy import export_adapter, read_base_gguf
from loratune.deploy.gguf_lora import rope_permute
from loratune.models import load_base_model, smollm2_gguf
from loratune.space import Config
from loratune.tasks import get_task, normalise_answer
from loratune.trainer import run_trial
from loratune.trainer.adapters import attached
from loratune.trainer.evaluate import Decoder, greedy_decode, newline_ids

pytestmark = pytest.mark.slow

DOMAIN = "supply_chain"  # extraction: several generated tokens per answer, a strict test
N_PROMPTS = 50
MIN_AGREEMENT = 0.95
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@pytest.fixture(scope="module")
def smollm2():
    # fp32: llama.cpp dequantizes the same Q4_1 weights; bf16 would be one more difference.
    return load_base_model("smollm2-135m", device="cpu", bf16=False)


def test_base_gguf_q_k_rows_are_permuted_as_assumed(smollm2):
    """The GGUF's attn_q/attn_k rows are the transformers weights in llama.cpp's rotary order:
    the permutation the exporter applies to lora_B (checked on layer 0, Q4_1 tolerance)."""
    import gguf

    reader = gguf.GGUFReader(os.path.join(*smollm2_gguf()))
    base = read_base_gguf(os.path.join(*smollm2_gguf()))
    tensors = {t.name: t for t in reader.tensors}
    attn = smollm2.model.model.layers[0].self_attn
    for name, module, heads in (
        ("blk.0.attn_q.weight", attn.q_proj, base.n_head),
        ("blk.0.attn_k.weight", attn.k_proj, base.n_head_kv),
    ):
        t = tensors[name]
        gg = gguf.quants.dequantize(t.data, t.tensor_type).reshape(module.weight.shape)
        hf = module.weight.detach().float().numpy()
        np.testing.assert_allclose(gg, rope_permute(hf, heads), atol=1e-5)
        assert not np.allclose(gg, hf, atol=1e-2)  # the permutation matters


def test_llama_cpp_greedy_answers_agree_with_peft(smollm2, tmp_path):
    llama_cpp = pytest.importorskip("llama_cpp")
    task = get_task(DOMAIN, seed=0)
    folder = tmp_path / "adapter"
    config = Config(rank=16, alpha=32, learning_rate=1e-3, target_modules=TARGETS)
    run_trial(smollm2, task, config, save_adapter=folder)
    out = export_adapter(folder, "gguf", tmp_path / "gguf")
    _, base_name = smollm2_gguf()

    tok = smollm2.tokenizer
    examples = task.test[:N_PROMPTS]
    prompts = [list(tok(e.prompt, add_special_tokens=False)["input_ids"]) for e in examples]
    answers = tok([" " + e.completion for e in task.train], add_special_tokens=False)["input_ids"]
    budget = max(len(a) for a in answers) + 4  # as accuracy() sets it
    stops = newline_ids(tok)
    with attached(smollm2, folder) as model:
        peft_ids = greedy_decode(
            Decoder(model), prompts, budget, tok.eos_token_id, tok.pad_token_id,
            smollm2.device, stop_ids=stops,
        )  # fmt: skip
    peft = [tok.decode(ids, skip_special_tokens=True) for ids in peft_ids]

    llm = _llama(llama_cpp, out / base_name, out / "adapter.gguf")
    # The same token ids go in (llama.cpp's own tokenizer is compared apart below), so any
    # difference is the adapter's or the arithmetic's (Q4_1 dot products), not the text's.
    same_tokens = sum(
        llm.tokenize(e.prompt.encode(), add_bos=False, special=False) == p
        for e, p in zip(examples, prompts, strict=True)
    )
    cpp = _greedy(llm, prompts, budget, stops)
    agree = _matches(peft, cpp)
    rate = sum(agree) / len(agree)
    # Control: llama.cpp without the adapter. Agreement must come from the adapter.
    plain = _greedy(_llama(llama_cpp, out / base_name, None), prompts, budget, stops)
    base_agree = sum(_matches(peft, plain))
    gold = _matches(peft, [e.completion for e in examples])
    print(
        f"\n{DOMAIN}: llama.cpp and PEFT agree on {sum(agree)}/{len(agree)} greedy answers "
        f"({rate:.0%}); PEFT right on {sum(gold)}/{len(gold)}; "
        f"llama.cpp tokenizes {same_tokens}/{len(prompts)} prompts identically; "
        f"without the adapter llama.cpp agrees on {base_agree}/{len(prompts)}"
    )
    for a, b, ok in zip(peft, cpp, agree, strict=True):
        if not ok:
            print(f"  differ: PEFT {a!r} vs llama.cpp {b!r}")
    assert rate >= MIN_AGREEMENT
    assert base_agree < sum(agree) - 10  # the adapter is really applied


def _matches(a: list[str], b: list[str]) -> list[bool]:
    """Pairwise equality by the task's metric (normalised first line)."""
    return [normalise_answer(x) == normalise_answer(y) for x, y in zip(a, b, strict=True)]


def _llama(llama_cpp, model: Path, lora: Path | None):
    return llama_cpp.Llama(
        model_path=str(model),
        lora_path=str(lora) if lora else None,
        n_ctx=512,
        n_threads=int(os.environ.get("OMP_NUM_THREADS", "1")),
        verbose=False,
    )


def _greedy(llm, prompts: list[list[int]], budget: int, stops: tuple[int, ...]) -> list[str]:
    """llama.cpp's greedy continuation of each token list, cut as greedy_decode cuts."""
    texts = []
    for ids in prompts:
        gen: list[int] = []
        for t in llm.generate(ids, top_k=1, top_p=1.0, temp=0.0, repeat_penalty=1.0, reset=True):
            if t == llm.token_eos():
                break
            gen.append(t)
            if t in stops or len(gen) >= budget:
                break
        texts.append(llm.detokenize(gen).decode("utf-8", errors="replace"))
    return texts


def test_merged_smollm2_saves_and_matches(smollm2, tmp_path):
    """SmolLM2 is read from GGUF, so transformers marks it quantized and will not save it as
    it is: the merged export rebuilds it as a plain fp32 model. Its logits match base +
    adapter (30 layers, fp32: within 1e-3; measured about 5e-5)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from loratune.trainer.adapters import write_meta

    folder = tmp_path / "adapter"
    model = get_peft_model(
        smollm2.model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])
    )
    for name, p in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.02)  # a random adapter: enough to move the logits
    model.save_pretrained(str(folder))
    smollm2.model = model.unload()
    task = get_task("legal", seed=0)
    config = Config(rank=4, alpha=8, learning_rate=1e-3)
    write_meta(folder, {"model": "smollm2-135m", "config": config.to_dict(),
                        "task": task.describe(), "seed": 0})  # fmt: skip
    out = export_adapter(folder, "merged", tmp_path / "merged")
    merged = AutoModelForCausalLM.from_pretrained(str(out)).eval()
    ids = torch.tensor([smollm2.tokenizer(task.test[0].prompt)["input_ids"]])
    with torch.no_grad():
        got = merged(ids).logits
        plain = smollm2.model(ids).logits
        with attached(smollm2, folder) as adapted_model:
            adapted = adapted_model(ids).logits
    assert (adapted - plain).abs().max() > 0.1
    torch.testing.assert_close(got, adapted, atol=1e-3, rtol=0)
