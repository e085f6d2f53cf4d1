"""A trained adapter on disk: PEFT's folder plus `loratune.json`, what loratune needs to use it.

`loratune.json` holds the base model's name, the config, and the task's prompt format and
label set, so an adapter can be tried or evaluated without the study that made it. The
resident base model is never modified: `attached` puts an adapter on and always takes it off.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from loratune.errors import LoratuneError
from loratune.models import BaseModel

META_FILE = "loratune.json"
PEFT_FILES = ("adapter_config.json", "adapter_model.safetensors")


def write_meta(folder: str | Path, meta: dict[str, Any]) -> None:
    Path(folder, META_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")


def read_meta(folder: str | Path) -> dict[str, Any]:
    """The adapter's loratune metadata; a folder that is not a loratune adapter is an error."""
    p = Path(folder)
    if not p.is_dir():
        raise LoratuneError(f"adapter folder not found: {p}")
    missing = [f for f in (*PEFT_FILES, META_FILE) if not (p / f).is_file()]
    if missing:
        raise LoratuneError(f"{p} is not a loratune adapter folder (missing {', '.join(missing)})")
    try:
        meta = json.loads((p / META_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise LoratuneError(f"{p / META_FILE}: unreadable ({exc})") from exc
    if not isinstance(meta, dict) or "model" not in meta or "config" not in meta:
        raise LoratuneError(f"{p / META_FILE}: not loratune adapter metadata")
    return meta


@contextlib.contextmanager
def attached(base: BaseModel, folder: str | Path) -> Iterator[torch.nn.Module]:
    """The base model with the saved adapter on it (a causal LM, eval mode); taken off after."""
    from peft import PeftModel

    read_meta(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            model = PeftModel.from_pretrained(base.model, str(folder), is_trainable=False)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise LoratuneError(f"cannot load adapter {folder}: {first}") from exc
    try:
        # fp32 LoRA weights, as during training, so a reload scores exactly as the trial did.
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.data = p.data.float()
        model.eval()
        yield model.get_base_model()
    finally:
        base.model = model.unload()
