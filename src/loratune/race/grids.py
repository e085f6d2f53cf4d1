"""The recorded grids the race reads: complete ones, recordings still growing, and which grids
choose the defaults and which are held out (fixed in a file before any grid is raced)."""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

from loratune.errors import LoratuneError
from loratune.executors.replay import load_grid
from loratune.space import Space, config_key
from loratune.strategies.autotune import DEFAULT_N_VAL

# A noise subset re-recorded under another training seed (-seed1) or data seed (-data1).
NOISE_STEM = re.compile(r"^(?P<domain>.+)-(?P<kind>seed|data)(?P<seed>\d+)$")
GROUPS = ("tuning", "held_out", "unassigned")


@dataclass(frozen=True)
class Grid:
    """One recorded grid file and the facts the race reports about where it came from."""

    path: Path
    label: str  # model/name
    name: str  # the file's stem: the name holdout.toml uses
    model: str
    domain: str
    rows: dict[str, dict[str, Any]]
    complete_rows: int
    failed_rows: int
    missing: int  # configs of the space not in the file
    commits: tuple[str, ...]
    sha256: str
    check_total: int  # examples in the early-stopping check subset

    @property
    def usable(self) -> bool:
        return self.missing == 0 and self.complete_rows > 0


@functools.lru_cache(maxsize=64)
def _read(path: str, mtime: float) -> dict[str, dict[str, Any]]:
    """Parsed once per file version: the race replays each grid hundreds of times."""
    return load_grid(path)


def read_grid(path: Path, space: Space) -> Grid:
    rows = _read(str(path), path.stat().st_mtime)
    first = next(iter(rows.values()))
    have = set(rows)
    commits = sorted(
        {str((r.get("provenance") or {}).get("git_commit")) for r in rows.values()} - {"None"}
    )
    checks = [int(r["check_total"]) for r in rows.values() if r.get("check_total")]
    return Grid(
        path=path,
        label=f"{path.parent.name}/{path.stem}",
        name=path.stem,
        model=str(first.get("model") or path.parent.name),
        domain=str(first.get("domain") or path.stem),
        rows=rows,
        complete_rows=sum(r.get("status") == "complete" for r in rows.values()),
        failed_rows=sum(r.get("status") != "complete" for r in rows.values()),
        missing=sum(config_key(c) not in have for c in space.configs()),
        commits=tuple(commits),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest()[:12],
        check_total=max(set(checks), key=checks.count) if checks else DEFAULT_N_VAL,
    )


def grid_files(grids_dir: Path) -> list[Path]:
    """The full grids under `grids_dir/<model>/` (noise subsets, the archive and recordings
    in progress are not raced)."""
    return sorted(
        p
        for p in grids_dir.glob("*/*.jsonl")
        if p.parent.name not in ("archive", "recording") and not NOISE_STEM.match(p.stem)
    )


def find_grids(paths: Sequence[Path], space: Space) -> tuple[list[Grid], list[dict[str, str]]]:
    """Readable grids, and the files that could not be read (old protocol, caught mid-write)."""
    grids, unreadable = [], []
    for p in paths:
        try:
            grids.append(read_grid(p, space))
        except (LoratuneError, OSError) as exc:
            unreadable.append(
                {"label": f"{p.parent.name}/{p.stem}", "path": str(p), "reason": str(exc)}
            )
    return grids, unreadable


# ------------------------------------------------------------------------------ recordings


def add_dir_options(ap: argparse.ArgumentParser, grids_dir: Path) -> None:
    """`--grids-dir` and `--recording-dir`, as every benchmark that reads grids takes them."""
    ap.add_argument("--grids-dir", type=Path, default=grids_dir)
    ap.add_argument(
        "--recording-dir",
        type=Path,
        action="append",
        help="where grids are still being recorded (default: benchmarks/grids/recording of "
        "this checkout)",
    )


def recording_dirs(root: Path) -> list[Path]:
    """`benchmarks/grids/recording` of this checkout: the committed copy of the grids being
    recorded (they grow in a clean worktree of the recording commit and are copied here)."""
    d = root / "benchmarks" / "grids" / "recording"
    return [d] if d.is_dir() else []


def count_rows(path: Path) -> tuple[int, int]:
    """(rows, complete rows) of a grid file that may be caught mid-write."""
    rows = complete = 0
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        rows += 1
        complete += row.get("status") == "complete"
    return rows, complete


def recording_status(dirs: Sequence[Path], space_size: int) -> list[dict[str, Any]]:
    """Every grid file still being recorded, with how far it has got."""
    out = []
    for d in dirs:
        for p in sorted(d.glob("*/*.jsonl")):
            rows, complete = count_rows(p)
            noise = NOISE_STEM.match(p.stem)
            out.append(
                {
                    "path": str(p),
                    "label": f"{p.parent.name}/{p.stem}",
                    "rows": rows,
                    "complete": complete,
                    "of": None if noise else space_size,
                    "kind": "noise subset" if noise else "full grid",
                }
            )
    return out


# -------------------------------------------------------------------------------- holdout


@dataclass(frozen=True)
class Holdout:
    """Which grids choose loratune's defaults and which are held out to test them."""

    tuning: tuple[str, ...]
    held_out: tuple[str, ...]
    source: str = ""

    def __post_init__(self) -> None:
        both = set(self.tuning) & set(self.held_out)
        if both:
            raise LoratuneError(f"a grid cannot both tune and be held out: {sorted(both)}")

    def group(self, name: str) -> str:
        if name in self.tuning:
            return "tuning"
        if name in self.held_out:
            return "held_out"
        return "unassigned"

    def to_dict(self) -> dict[str, Any]:
        return {"tuning": list(self.tuning), "held_out": list(self.held_out), "file": self.source}


def load_holdout(path: Path) -> Holdout:
    data: Mapping[str, Any] = tomllib.loads(path.read_text())
    try:
        return Holdout(tuple(data["tuning"]), tuple(data["held_out"]), str(path))
    except KeyError as exc:
        raise LoratuneError(f"{path}: needs lists 'tuning' and 'held_out' ({exc})") from exc
