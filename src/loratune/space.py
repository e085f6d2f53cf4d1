"""The search space: a grid of LoRA configurations read from a TOML file.

A space file has a `[grid]` table (each key a list of values to cross) and an optional
`[fixed]` table (one value each). `alpha` is derived as `alpha_ratio * rank` unless it is
given itself. Example:

    [grid]
    rank = [4, 8, 16]
    learning_rate = [1e-4, 1e-3]
    weight_decay = [0.0, 0.01]
    alpha_ratio = [2]

    [fixed]
    epochs = 3
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import tomllib

from loratune.errors import LoratuneError

DEFAULT_TARGETS = ("q_proj", "v_proj")


@dataclass(frozen=True)
class Config:
    """One LoRA fine-tuning configuration: everything a trial needs besides data and model."""

    rank: int
    alpha: float
    learning_rate: float
    weight_decay: float = 0.0
    dropout: float = 0.05
    epochs: int = 3
    batch_size: int = 8
    max_length: int = 192
    target_modules: tuple[str, ...] = DEFAULT_TARGETS
    seed: int = 0

    def __post_init__(self) -> None:
        checks = [
            (isinstance(self.rank, int) and self.rank >= 1, "rank must be an integer >= 1"),
            (self.alpha > 0, "alpha must be > 0"),
            (0 < self.learning_rate < 1, "learning_rate must be in (0, 1)"),
            (0 <= self.weight_decay < 1, "weight_decay must be in [0, 1)"),
            (0 <= self.dropout < 1, "dropout must be in [0, 1)"),
            (isinstance(self.epochs, int) and self.epochs >= 1, "epochs must be an integer >= 1"),
            (isinstance(self.batch_size, int) and self.batch_size >= 1, "batch_size must be >= 1"),
            (isinstance(self.max_length, int) and self.max_length >= 8, "max_length must be >= 8"),
            (len(self.target_modules) > 0, "target_modules must not be empty"),
        ]
        for ok, message in checks:
            if not ok:
                raise LoratuneError(f"invalid config: {message} (got {self.describe()})")

    def describe(self) -> str:
        return (
            f"rank={self.rank} alpha={self.alpha:g} lr={self.learning_rate:g} "
            f"wd={self.weight_decay:g}"
        )

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["target_modules"] = list(self.target_modules)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Config:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known - {"alpha_ratio"})
        if unknown:
            raise LoratuneError(f"unknown config keys: {', '.join(unknown)}")
        values = {k: v for k, v in d.items() if k in known}
        if "alpha" not in values and "rank" in values:
            values["alpha"] = float(d.get("alpha_ratio", 2)) * values["rank"]
        if "target_modules" in values:
            values["target_modules"] = tuple(values["target_modules"])
        try:
            return cls(**values)
        except TypeError as exc:
            raise LoratuneError(f"invalid config: {exc}") from exc


_CONFIG_FIELDS = {f.name for f in dataclasses.fields(Config)} | {"alpha_ratio"}


@dataclass(frozen=True)
class Space:
    name: str
    grid: dict[str, tuple[Any, ...]]
    fixed: dict[str, Any]

    def __post_init__(self) -> None:
        for key in list(self.grid) + list(self.fixed):
            if key not in _CONFIG_FIELDS:
                raise LoratuneError(f"space {self.name}: unknown parameter {key!r}")
        for key, values in self.grid.items():
            if not values:
                raise LoratuneError(f"space {self.name}: grid parameter {key!r} has no values")
        if "rank" not in self.grid and "rank" not in self.fixed:
            raise LoratuneError(f"space {self.name}: rank is required")
        if "learning_rate" not in self.grid and "learning_rate" not in self.fixed:
            raise LoratuneError(f"space {self.name}: learning_rate is required")
        self.configs()  # validate every config now, not in the middle of a sweep

    def configs(self) -> list[Config]:
        """Every config of the grid, in a stable order."""
        keys = list(self.grid)
        out = []
        for combo in itertools.product(*(self.grid[k] for k in keys)):
            out.append(Config.from_dict({**self.fixed, **dict(zip(keys, combo, strict=True))}))
        return out

    def __len__(self) -> int:
        return math.prod(len(v) for v in self.grid.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "grid": {k: list(v) for k, v in self.grid.items()},
            "fixed": dict(self.fixed),
        }


def config_key(config: Config) -> str:
    """A stable identity for a config: the same config always gets the same key."""
    parts = [f"{k}={v}" for k, v in sorted(config.to_dict().items()) if k != "seed"]
    return ";".join(parts)


FEATURES = ("log2_rank", "log10_lr", "log10_wd", "alpha_over_rank", "dropout", "epochs")


def encode(configs: list[Config]) -> np.ndarray:
    """Features for the predictor: logs where the effect is multiplicative.

    weight_decay may be 0, so it is floored at 1e-7 before the log.
    """
    rows = [
        [
            math.log2(c.rank),
            math.log10(c.learning_rate),
            math.log10(max(c.weight_decay, 1e-7)),
            c.alpha / c.rank,
            c.dropout,
            float(c.epochs),
        ]
        for c in configs
    ]
    return np.asarray(rows, dtype=float).reshape(len(configs), len(FEATURES))


def load_space(path: str | Path) -> Space:
    """Read a space TOML; a bare name like `default` reads the bundled spaces/default.toml."""
    p = Path(path)
    if not p.exists() and p.suffix == "" and "/" not in str(path):
        bundled = resources.files("loratune") / "spaces" / f"{path}.toml"
        if bundled.is_file():
            return _parse(bundled.read_text(), str(path))
    if not p.is_file():
        raise LoratuneError(f"space file not found: {path}")
    return _parse(p.read_text(), p.stem, where=str(p))


def _parse(text: str, name: str, where: str | None = None) -> Space:
    where = where or name
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LoratuneError(f"malformed space file {where}: {exc}") from exc
    grid = data.get("grid", {})
    fixed = data.get("fixed", {})
    if not isinstance(grid, dict) or not isinstance(fixed, dict):
        raise LoratuneError(f"space file {where}: [grid] and [fixed] must be tables")
    if not grid:
        raise LoratuneError(f"space file {where}: no [grid] table")
    for key, values in grid.items():
        if not isinstance(values, list):
            raise LoratuneError(f"space file {where}: grid.{key} must be a list")
    return Space(
        name=str(data.get("name", name)),
        grid={k: tuple(v) for k, v in grid.items()},
        fixed=dict(fixed),
    )
