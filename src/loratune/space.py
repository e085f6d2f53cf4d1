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
import numbers
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import tomllib

from loratune.errors import LoratuneError
from loratune.jsonl import read_utf8

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
        for name in ("alpha", "learning_rate", "weight_decay", "dropout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise LoratuneError(f"invalid config: {name} must be a number (got {value!r})")
            if not math.isfinite(value):
                raise LoratuneError(f"invalid config: {name} must be finite (got {value!r})")
        for name in ("rank", "epochs", "batch_size", "max_length", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise LoratuneError(f"invalid config: {name} must be an integer (got {value!r})")
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
        base = (
            f"rank={self.rank} alpha={self.alpha:g} lr={self.learning_rate:g} "
            f"wd={self.weight_decay:g}"
        )
        return f"{base} {self.extras()}".rstrip()

    def extras(self, only: Collection[str] | None = None) -> str:
        """The fields outside rank, alpha, lr and wd that differ from the defaults (dropout
        0.05, 3 epochs, batch 8, max length 192, q/v projections), e.g. "batch=16
        modules=q_proj+k_proj": without them two configs of a grid over batch size or
        modules would read alike. Empty on the default space. `only`: these fields, shown
        whatever their value (a table's varying columns: `varying_extras`)."""
        parts = []
        for name, label in _EXTRA_LABELS.items():
            value = getattr(self, name)
            if (name in only) if only is not None else value != _DEFAULTS[name]:
                text = "+".join(value) if name == "target_modules" else f"{value:g}"
                parts.append(f"{label}={text}")
        return " ".join(parts)

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
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Config)}
_EXTRA_LABELS = {
    "dropout": "dropout",
    "epochs": "epochs",
    "batch_size": "batch",
    "max_length": "max_len",
    "target_modules": "modules",
}


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

    def features(self) -> tuple[str, ...]:
        """The predictor's features for this space: the six base ones (`FEATURES`), plus
        batch size, max length and one per adapted module where the grid varies them. Without
        these, configs that differ only there look identical to the predictor; a space that
        fixes them keeps exactly the base features."""
        extra = [
            f"log2_{key}" for key in ("batch_size", "max_length") if len(self.grid.get(key, ())) > 1
        ]
        modules = [tuple(m) for m in self.grid.get("target_modules", ())]
        if len(set(modules)) > 1:
            extra += [f"{MODULE_PREFIX}{m}" for m in sorted({m for ms in modules for m in ms})]
        return FEATURES + tuple(extra)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "grid": {k: list(v) for k, v in self.grid.items()},
            "fixed": dict(self.fixed),
        }


def varying_extras(configs: Collection[Config]) -> tuple[str, ...]:
    """The fields of `Config.extras` that differ among `configs`: a table's "other" column."""
    return tuple(name for name in _EXTRA_LABELS if len({getattr(c, name) for c in configs}) > 1)


def config_key(config: Config) -> str:
    """A stable identity for a config: the same config always gets the same key."""
    parts = [f"{k}={v}" for k, v in sorted(config.to_dict().items()) if k != "seed"]
    return ";".join(parts)


FEATURES = ("log2_rank", "log10_lr", "log10_wd", "alpha_over_rank", "dropout", "epochs")

_BASE = {
    "log2_rank": lambda c: math.log2(c.rank),
    "log10_lr": lambda c: math.log10(c.learning_rate),
    "log10_wd": lambda c: math.log10(max(c.weight_decay, 1e-7)),
    "alpha_over_rank": lambda c: c.alpha / c.rank,
    "dropout": lambda c: c.dropout,
    "epochs": lambda c: float(c.epochs),
}
MODULE_PREFIX = "module:"  # a feature per adapted module name: 1.0 where the config adapts it


def _feature(config: Config, name: str) -> float:
    if name in _BASE:
        return float(_BASE[name](config))
    if name == "log2_batch_size":
        return math.log2(config.batch_size)
    if name == "log2_max_length":
        return math.log2(config.max_length)
    if name.startswith(MODULE_PREFIX):
        return float(name[len(MODULE_PREFIX) :] in config.target_modules)
    raise LoratuneError(f"unknown predictor feature {name!r}")


def encode(configs: list[Config], features: Sequence[str] = FEATURES) -> np.ndarray:
    """Features for the predictor: logs where the effect is multiplicative.

    weight_decay may be 0, so it is floored at 1e-7 before the log. `features` beyond the
    six base ones come from `Space.features` (batch size, max length, adapted modules).
    """
    rows = [[_feature(c, f) for f in features] for c in configs]
    return np.asarray(rows, dtype=float).reshape(len(configs), len(features))


# The type each parameter of a space file takes; alpha_ratio derives alpha = ratio x rank.
_INTEGER_KEYS = ("rank", "epochs", "batch_size", "max_length", "seed")
_NUMBER_KEYS = ("alpha", "alpha_ratio", "learning_rate", "weight_decay", "dropout")
_TOP_LEVEL = ("name", "grid", "fixed")
MAX_CONFIGS = 100_000  # a grid this large is a typo (a sweep over it would never end)


def load_space(path: str | Path) -> Space:
    """Read a space TOML; a bare name like `default` reads the bundled spaces/default.toml.

    Everything is checked here, before any study or trial: the TOML, its tables and keys, each
    value's type (numbers finite, integers where integers belong, no booleans or strings),
    duplicates in a list, and every config of the grid. An error names the file and the key.
    """
    p = Path(path)
    if not p.exists() and p.suffix == "" and "/" not in str(path):
        bundled = resources.files("loratune") / "spaces" / f"{path}.toml"
        if bundled.is_file():
            return _parse(bundled.read_text(), str(path))
    if p.is_dir():
        raise LoratuneError(f"space file {path}: is a folder, not a TOML file")
    if not p.is_file():
        raise LoratuneError(f"space file not found: {path}")
    text = read_utf8(
        p,
        f"space file {path}",
        nul="{where}: a binary file, not TOML text",
        not_utf8="{where}:{line}: not UTF-8 text",
    )
    return _parse(text, p.stem, where=str(p))


def _parse(text: str, name: str, where: str | None = None) -> Space:
    where = where or name
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LoratuneError(f"malformed space file {where}: {exc}") from exc
    unknown = [k for k in data if k not in _TOP_LEVEL]
    if unknown:
        raise LoratuneError(
            f"space file {where}: unknown table or key {unknown[0]!r} "
            f"(a space file has name, [grid] and [fixed])"
        )
    grid = data.get("grid", {})
    fixed = data.get("fixed", {})
    if not isinstance(grid, dict) or not isinstance(fixed, dict):
        raise LoratuneError(f"space file {where}: [grid] and [fixed] must be tables")
    if "name" in data and (not isinstance(data["name"], str) or not data["name"].strip()):
        raise LoratuneError(f"space file {where}: name must be a non-empty string")
    if not grid:
        raise LoratuneError(f"space file {where}: no [grid] table")
    for key, values in grid.items():
        if not isinstance(values, list):
            raise LoratuneError(f"space file {where}: grid.{key} must be a list")
        if not values:
            raise LoratuneError(f"space file {where}: grid.{key} is an empty list")
        for value in values:
            _check_value(where, f"grid.{key}", key, value)
        seen = [_hashable(v) for v in values]
        dupes = sorted({repr(v) for v, h in zip(values, seen, strict=True) if seen.count(h) > 1})
        if dupes:
            raise LoratuneError(
                f"space file {where}: grid.{key} lists {dupes[0]} twice "
                "(each config would be trained twice)"
            )
    for key, value in fixed.items():
        _check_value(where, f"fixed.{key}", key, value)
        if key in grid:
            raise LoratuneError(f"space file {where}: {key!r} is in both [grid] and [fixed]")
    if "alpha" in {**grid, **fixed} and "alpha_ratio" in {**grid, **fixed}:
        raise LoratuneError(
            f"space file {where}: give alpha or alpha_ratio, not both (alpha_ratio derives alpha)"
        )
    size = math.prod(len(v) for v in grid.values())
    if size > MAX_CONFIGS:
        raise LoratuneError(
            f"space file {where}: the grid has {size:,} configs, more than {MAX_CONFIGS:,}"
        )
    try:
        space = Space(
            name=str(data.get("name", name)),
            grid={k: tuple(v) for k, v in grid.items()},
            fixed=dict(fixed),
        )
    except LoratuneError as exc:
        raise LoratuneError(f"space file {where}: {exc}") from exc
    keys = [config_key(c) for c in space.configs()]
    if len(set(keys)) != len(keys):  # e.g. two learning rates equal once parsed (1e-3, 0.001)
        raise LoratuneError(f"space file {where}: the grid makes the same config twice")
    return space


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _check_value(where: str, label: str, key: str, value: Any) -> None:
    """One value of a space file: the right type for its key, finite, no booleans."""
    if key not in _CONFIG_FIELDS:
        known = ", ".join(sorted(_CONFIG_FIELDS - {"seed"}))
        raise LoratuneError(f"space file {where}: unknown parameter {label} (known: {known})")
    if key == "seed":
        raise LoratuneError(
            f"space file {where}: {label}: the seed is set by --seed, not the space"
        )
    bad = None
    if key == "target_modules":
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(m, str) and m.strip() for m in value)
        ):
            bad = "a non-empty list of module names"
    elif key in _INTEGER_KEYS:
        if isinstance(value, bool) or not isinstance(value, int):
            bad = "an integer"
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        bad = "a number"
    elif not math.isfinite(value):
        bad = "a finite number"
    if bad:
        raise LoratuneError(f"space file {where}: {label} must be {bad} (got {value!r})")
