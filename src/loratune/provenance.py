"""Where a result came from: package versions, git commit, hardware. Stored with every trial."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import torch

PACKAGES = ("loratune", "torch", "transformers", "peft", "optuna", "scikit-learn", "numpy")


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


# Figures the benchmarks write (RESULTS.md, noise.json, ...): `make bench` runs the race, then
# the noise and separation scripts; the first one's fresh outputs must not mark the next as run
# from an edited checkout. Code, grids and settings (holdout.toml) still count.
GENERATED = ("benchmarks/*.md", "benchmarks/*.json", "benchmarks/*.png", "benchmarks/*.log")


def git_commit(ignore: Sequence[str] = (), cwd: Path | None = None) -> str | None:
    """The commit of the loratune checkout this code runs from (or `cwd`), '+dirty' if it has
    edits to tracked files other than those matching the pathspecs in `ignore`."""
    here = cwd or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        if sha.returncode != 0:
            return None
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                *(f":(exclude){p}" for p in ignore),
            ],
            cwd=top or here,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=1)
def provenance() -> dict[str, object]:
    """Facts about this process's software and hardware; cached, they do not change."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "packages": {p: _version(p) for p in PACKAGES},
        "python": platform.python_version(),
        "git_commit": git_commit(),
        "cpu": cpu_name(),
        "cpu_threads": torch.get_num_threads(),
        "cpu_cores_allowed": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else None,
        "gpu": gpu,
        "platform": platform.platform(),
    }
