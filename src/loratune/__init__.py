"""loratune: find the best LoRA configuration without training the whole grid."""

from loratune.errors import LoratuneError

__all__ = ["JobSpec", "LoratuneError", "autotune", "sweep"]


def __getattr__(name: str) -> object:
    # Lazy so `import loratune` (and the CLI's --help) does not pay for torch.
    if name in ("sweep", "autotune", "JobSpec"):
        from loratune import api

        return getattr(api, name)
    raise AttributeError(name)
