"""A PEFT LoRA adapter as a llama.cpp LoRA adapter GGUF, and an Ollama Modelfile for it.

llama.cpp's adapter format (learnt from its `convert_lora_to_gguf.py` and `llama-adapter.cpp`):

- metadata `general.type = "adapter"`, `adapter.type = "lora"`, `adapter.lora.alpha` (float32),
  and `general.architecture` equal to the base model's (llama.cpp refuses a mismatch);
- for every adapted base tensor `blk.N.attn_q.weight` a pair `blk.N.attn_q.weight.lora_a` and
  `.lora_b`. In ggml's order of dimensions (fastest first) the base weight is [in, out], lora_a
  must be [in, r] and lora_b [r, out]: as numpy arrays (slowest first) exactly PEFT's
  `lora_A.weight` (r, in) and `lora_B.weight` (out, r), with no transpose;
- llama.cpp scales by alpha / r with r read from lora_b, as PEFT does without rsLoRA.

One subtlety: llama.cpp's llama conversion permutes the rows of the q and k projections
(its rotary embedding pairs neighbouring dimensions, Hugging Face's pairs the two halves of a
head), and transformers undoes that when it reads a GGUF. The adapter's update to q and k,
B @ A, lives in Hugging Face's row order, so B's rows get the same permutation; A (columns,
the input side) is untouched.

Only the attention and MLP projections map to llama.cpp tensors that an adapter may touch
here. Embeddings and the LM head are refused: llama.cpp transposes embedding adapters
differently, and SmolLM2 ties its LM head to the embeddings, so there is no `output` tensor
in the base GGUF to adapt.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from loratune.deploy.prompts import prompt_template_for
from loratune.errors import LoratuneError

ADAPTER_FILE = "adapter.gguf"
MODELFILE = "Modelfile"
# PEFT target -> the llama.cpp tensor it adapts (blk.N.<name>.weight), for llama models.
PROJECTIONS = {
    "q_proj": "attn_q",
    "k_proj": "attn_k",
    "v_proj": "attn_v",
    "o_proj": "attn_output",
    "gate_proj": "ffn_gate",
    "up_proj": "ffn_up",
    "down_proj": "ffn_down",
}
_PEFT_PREFIX = "base_model.model."


@dataclasses.dataclass(frozen=True)
class BaseGGUF:
    """What the adapter must agree with in the base model's GGUF."""

    path: Path
    arch: str
    n_head: int
    n_head_kv: int
    shapes: Mapping[str, tuple[int, ...]]  # tensor name -> ggml shape (in, out)


def read_base_gguf(path: str | Path) -> BaseGGUF:
    """Architecture, head counts and tensor shapes of a base GGUF (memory-mapped, not read)."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        raise LoratuneError(f"cannot read base GGUF {path}: {exc.strerror or exc}") from exc
    # GGUFReader parses every metadata value, the 49k-token vocabulary included: seconds.
    # Cached by file identity, so a hard link to the same file is not parsed again.
    identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    if identity not in _BASE_CACHE:
        _BASE_CACHE[identity] = _read_base_gguf(path)
    return dataclasses.replace(_BASE_CACHE[identity], path=path)


_BASE_CACHE: dict[tuple[int, ...], BaseGGUF] = {}


def _read_base_gguf(path: Path) -> BaseGGUF:
    import gguf

    try:
        reader = gguf.GGUFReader(str(path))
    except (OSError, ValueError) as exc:
        raise LoratuneError(f"cannot read base GGUF {path}: {exc}") from exc

    def field(key: str) -> Any:
        f = reader.get_field(key)
        if f is None:
            raise LoratuneError(f"base GGUF {path} has no {key}")
        return f.contents()

    arch = str(field(gguf.Keys.General.ARCHITECTURE))
    n_head = int(field(gguf.Keys.Attention.HEAD_COUNT.format(arch=arch)))
    kv = reader.get_field(gguf.Keys.Attention.HEAD_COUNT_KV.format(arch=arch))
    n_head_kv = int(kv.contents()) if kv is not None else n_head
    shapes = {t.name: tuple(int(d) for d in t.shape) for t in reader.tensors}
    return BaseGGUF(path, arch, n_head, n_head_kv, shapes)


def rope_permute(rows: np.ndarray, n_head: int) -> np.ndarray:
    """Reorder the output rows of a q/k projection from Hugging Face's rotary layout (halves
    of each head) to llama.cpp's (interleaved pairs), as llama.cpp's converter does."""
    out = rows.shape[0]
    if out % (2 * n_head):
        raise LoratuneError(f"cannot split {out} rows into {n_head} rotary heads")
    return (
        rows.reshape(n_head, 2, out // n_head // 2, *rows.shape[1:])
        .swapaxes(1, 2)
        .reshape(rows.shape)
    )


def check_peft_config(cfg: dict[str, Any]) -> float:
    """Refuse what one GGUF alpha and plain A/B pairs cannot carry; return alpha."""
    problems = []
    if cfg.get("peft_type", "LORA") != "LORA":
        problems.append(f"peft_type {cfg.get('peft_type')} (only LORA)")
    if cfg.get("use_dora"):
        problems.append("DoRA (its magnitude vector has no llama.cpp equivalent)")
    if cfg.get("use_rslora"):
        problems.append("rsLoRA (llama.cpp scales by alpha / r)")
    if cfg.get("rank_pattern") or cfg.get("alpha_pattern"):
        problems.append("per-layer rank or alpha (the GGUF holds one alpha)")
    if cfg.get("bias", "none") != "none":
        problems.append(f"trained biases (bias={cfg.get('bias')!r})")
    if cfg.get("modules_to_save"):
        problems.append(f"fully trained modules {cfg['modules_to_save']}")
    if cfg.get("fan_in_fan_out"):
        problems.append("fan_in_fan_out weights")
    targets = cfg.get("target_modules") or []
    if isinstance(targets, str):
        problems.append(f"a target_modules pattern {targets!r}")
        targets = []
    unmapped = sorted(set(targets) - set(PROJECTIONS))
    if unmapped:
        problems.append(
            f"targets {', '.join(unmapped)} (llama.cpp adapters here cover only "
            f"{', '.join(PROJECTIONS)}; embeddings and the LM head cannot be carried)"
        )
    if problems:
        raise LoratuneError("cannot export as GGUF: " + "; ".join(problems))
    return float(cfg["lora_alpha"])


def lora_tensors(
    adapter_dir: str | Path, n_head: int, n_head_kv: int, base: BaseGGUF | None = None
) -> dict[str, np.ndarray]:
    """PEFT's A and B matrices under llama.cpp's names, as float32 arrays (q/k B rows permuted).

    With `base`, every pair is checked against the base GGUF first (see check_against_base).
    """
    import gguf
    from safetensors.numpy import load_file

    weights = load_file(str(Path(adapter_dir, "adapter_model.safetensors")))
    layers = [int(k.split(".layers.")[1].split(".")[0]) for k in weights if ".layers." in k]
    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, max(layers, default=0) + 1)
    out: dict[str, np.ndarray] = {}
    targets: dict[str, str] = {}  # GGUF tensor name -> PEFT target it came from
    for key, value in sorted(weights.items()):
        module, _, part = key.removeprefix(_PEFT_PREFIX).rpartition(".lora_")
        if part not in ("A.weight", "B.weight"):
            raise LoratuneError(f"cannot export as GGUF: tensor {key} is not a LoRA A/B matrix")
        target = module.rsplit(".", 1)[-1]
        name = name_map.get_name(module)
        if target not in PROJECTIONS or name is None or not name.endswith(PROJECTIONS[target]):
            raise LoratuneError(f"cannot export as GGUF: {module} has no llama.cpp tensor")
        gguf_name = f"{name}.weight.lora_{part[0].lower()}"
        out[gguf_name] = np.ascontiguousarray(value, dtype=np.float32)
        targets[gguf_name] = target
    if not out:
        raise LoratuneError(f"{adapter_dir}: the adapter holds no LoRA tensors")
    if base is not None:
        check_against_base(out, base)
    for gguf_name, target in targets.items():
        if gguf_name.endswith(".lora_b") and target in ("q_proj", "k_proj"):
            heads = n_head if target == "q_proj" else n_head_kv
            out[gguf_name] = np.ascontiguousarray(rope_permute(out[gguf_name], heads))
    return out


def check_against_base(tensors: Mapping[str, np.ndarray], base: BaseGGUF) -> None:
    """The checks llama.cpp makes when it loads the adapter, made here with a clear message."""
    for name, arr in tensors.items():
        if not name.endswith(".lora_a"):
            continue
        weight = name.removesuffix(".lora_a")
        b = tensors.get(weight + ".lora_b")
        if b is None:
            raise LoratuneError(f"cannot export as GGUF: {weight} has lora_a but no lora_b")
        if weight not in base.shapes:
            raise LoratuneError(f"base GGUF {base.path.name} has no tensor {weight}")
        n_in, n_out = base.shapes[weight][:2]
        if arr.shape[1] != n_in or b.shape[0] != n_out or arr.shape[0] != b.shape[1]:
            raise LoratuneError(
                f"adapter tensor {weight} is ({b.shape[0]}x{b.shape[1]}) @ ({arr.shape[0]}x"
                f"{arr.shape[1]}), the base weight is {n_out}x{n_in}: another base model?"
            )


def write_lora_gguf(
    adapter_dir: str | Path,
    path: str | Path,
    *,
    arch: str = "llama",
    n_head: int,
    n_head_kv: int,
    base: BaseGGUF | None = None,
    task_name: str | None = None,
) -> Path:
    """Write the adapter at `adapter_dir` as a llama.cpp LoRA GGUF at `path`.

    `base`, when given, is checked as llama.cpp will check it (architecture, tensor names,
    shapes), so a mismatch is refused here rather than when the user loads the file.
    """
    import gguf

    cfg = json.loads(Path(adapter_dir, "adapter_config.json").read_text())
    alpha = check_peft_config(cfg)
    if arch != "llama":
        raise LoratuneError(f"cannot export as GGUF: architecture {arch!r} (only llama)")
    if base is not None and base.arch != arch:
        raise LoratuneError(f"base GGUF is {base.arch!r}, the adapter is for {arch!r}")
    tensors = lora_tensors(adapter_dir, n_head, n_head_kv, base)
    writer = gguf.GGUFWriter(str(path), arch=arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    if task_name:
        writer.add_string(gguf.Keys.Adapter.LORA_TASK_NAME, task_name)
    # float32 as trained: an adapter is a few MB, and half precision would be one more
    # difference between llama.cpp's answers and PEFT's.
    for name, arr in tensors.items():
        writer.add_tensor(name, arr)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Path(path)


def _go_template_text(text: str) -> str:
    """Literal text inside an Ollama (Go) template: `{{` would start an action."""
    return text.replace("{{", '{{"{{"}}')


def modelfile(base_file: str, meta: dict[str, Any], max_tokens: int) -> str:
    """An Ollama Modelfile: the base GGUF, the adapter, and the task's prompt format."""
    task = meta.get("task") or {}
    template = prompt_template_for(task)
    head, _, tail = template.partition("{text}")
    go_template = (
        _go_template_text(head.replace("{instruction}", task.get("instruction", "")))
        + "{{ .Prompt }}"
        + _go_template_text(tail.replace("{instruction}", task.get("instruction", "")))
    )
    if '"""' in go_template:
        raise LoratuneError('the task\'s prompt format holds """, which a Modelfile cannot quote')
    return (
        f"# Ollama: ollama create {task.get('name', 'adapter')} -f Modelfile\n"
        f'#         ollama run {task.get("name", "adapter")} "your text"\n'
        f"FROM ./{base_file}\n"
        f"ADAPTER ./{ADAPTER_FILE}\n"
        f'TEMPLATE """{go_template}"""\n'
        # Greedy, like loratune's scoring; answers are one short line.
        "PARAMETER temperature 0\n"
        f"PARAMETER num_predict {max_tokens}\n"
    )
